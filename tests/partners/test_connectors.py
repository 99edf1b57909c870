"""The connectors against the real simulator (tests/conftest.py `partners`): what each partner says becomes frozen
dataclasses with their source and date, and every way a partner fails is `PartnerUnavailable`."""

from __future__ import annotations

import base64
import json
import time
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from moncompte.partners import client, connectors
from moncompte.partners.client import circuit_state
from moncompte.partners.connectors import (
    AgencyRequest,
    Allowance,
    Answer,
    Employment,
    Letter,
    LetterNotFound,
    PartnerUnavailable,
    Payment,
    TaxIncome,
)
from moncompte.partners.documents import letter_pdf

NIR = "1840575112045"  # fictitious, like every NIR of the suite
OTHER_NIR = "2910213055123"
UNKNOWN_NIR = "1700175056999"
CASE = "1234567"
OTHER_CASE = "7654321"
CIVIL_STATUS = {
    "nom_naissance": "Martin",
    "prenoms": "Thomas Jean",
    "date_naissance": "1984-05-01",
    "sexe": "M",
    "commune_naissance": "75112",
    "pays_naissance": "99100",
}
PDF = letter_pdf(case_number=CASE, recipient="Thomas Martin", sent_on=date(2026, 11, 2), subject="Objet",
                 paragraphs=["Madame, Monsieur,"])  # fmt: skip
RECORDS = {
    "people": {
        NIR: {
            "etat_civil": CIVIL_STATUS,
            "avis": {
                "2024": {"annee_revenus": 2024, "revenu_fiscal_de_reference": 21500, "nombre_parts": "2.5"},
                "2025": None,
            },
            "france_travail": {
                "inscrit": True,
                "categorie": "A",
                "date_inscription": "2026-03-02",
                "allocations": [
                    {
                        "code": "ARE",
                        "libelle": "Allocation d'aide au retour à l'emploi",
                        "montant_journalier": "38.52",
                        "date_debut": "2026-03-09",
                        "date_fin": None,
                    }
                ],
            },
        },
    },
    "cases": {
        CASE: {
            "paiements": [
                {"date": "2026-10-05", "prestation": "Aide personnalisée au logement", "montant": "245.30",
                 "debut_periode": "2026-09-01", "fin_periode": "2026-09-30"},
                {"date": "2026-11-05", "prestation": "Aide personnalisée au logement", "montant": "251.10",
                 "debut_periode": "2026-10-01", "fin_periode": "2026-10-31"},
                {"date": "2026-11-05", "prestation": "Allocations familiales", "montant": "151.23",
                 "debut_periode": "2026-10-01", "fin_periode": "2026-10-31"},
            ],
            "courriers": [
                {"id": "C-OLD", "date": "2026-01-15", "objet": "Attestation de paiement"},
                {"id": "C-NEW", "date": "2026-11-02", "objet": "Révision annuelle de vos droits",
                 "pdf": base64.b64encode(PDF).decode()},
            ],
            "demandes": [
                {"id": "D-1", "date": "2026-11-20", "objet": "Attestation de loyer", "texte": "Déposez-la ici.",
                 "attendu": "les_deux", "echeance": "2026-12-20"},
            ],
        },
        OTHER_CASE: {"paiements": [], "courriers": [{"id": "C-THEIRS", "date": "2026-11-01", "objet": "Courrier",
                                                     "pdf": base64.b64encode(PDF).decode()}], "demandes": []},
    },
}  # fmt: skip


@pytest.fixture
def partners_with_records(partners):
    partners.push(RECORDS)
    return partners


def registry(nir: str = NIR, **changes) -> Answer:
    status = {
        "birth_name": "Martin",
        "given_names": "Thomas Jean",
        "birth_date": date(1984, 5, 1),
        "sex": "M",
        "birthplace": "75112",
        "birth_country": "99100",
    }
    return connectors.registry_check(nir=nir, **{**status, **changes})


# --- Each connector's answer -----------------------------------------------------------------------------------------


def test_a_tax_notice_comes_with_its_source_and_date_then_from_the_cache(partners_with_records):
    before = timezone.now()
    answer = connectors.tax_income(NIR, 2024)
    assert answer.data == TaxIncome(year=2024, reference_income=21500, shares=Decimal("2.5"))
    assert answer.source == "la DGFiP" and not answer.from_cache and answer.fetched_at >= before
    again = connectors.tax_income(NIR, 2024)
    assert again.from_cache and again.data == answer.data
    assert partners_with_records.requests()["dgfip"] == 1


def test_no_tax_notice_a_year_and_an_unknown_nir_both_read_none(partners_with_records):
    assert connectors.tax_income(NIR, 2025).data is None
    assert connectors.tax_income(NIR, 2019).data is None
    assert connectors.tax_income(UNKNOWN_NIR, 2024).data is None


def test_a_registered_job_seeker_and_their_allowances(partners_with_records):
    answer = connectors.employment(NIR)
    assert answer.source == "France Travail"
    assert answer.data == Employment(
        registered=True,
        category="A",
        registered_on=date(2026, 3, 2),
        allowances=(
            Allowance(kind="ARE", label="Allocation d'aide au retour à l'emploi", daily_amount=Decimal("38.52"),
                      start=date(2026, 3, 9), end=None),
        ),
    )  # fmt: skip


def test_france_travail_does_not_know_a_nir_reads_not_registered(partners_with_records):
    assert connectors.employment(UNKNOWN_NIR).data == Employment(
        registered=False, category="", registered_on=None, allowances=()
    )


def test_payments_newest_first_since_the_date_asked(partners_with_records):
    answer = connectors.payments(CASE, date(2026, 11, 1))
    assert answer.source == "la Caf"
    assert [(p.paid_on, p.benefit, p.amount) for p in answer.data] == [
        (date(2026, 11, 5), "Aide personnalisée au logement", Decimal("251.10")),
        (date(2026, 11, 5), "Allocations familiales", Decimal("151.23")),
    ]
    assert answer.data[0] == Payment(date(2026, 11, 5), "Aide personnalisée au logement", Decimal("251.10"),
                                     date(2026, 10, 1), date(2026, 10, 31))  # fmt: skip
    assert len(connectors.payments(CASE, date(2026, 1, 1)).data) == 3


def test_letters_newest_first_and_the_pdf_of_one(partners_with_records):
    assert connectors.letters(CASE).data == (
        Letter(id="C-NEW", sent_on=date(2026, 11, 2), subject="Révision annuelle de vos droits"),
        Letter(id="C-OLD", sent_on=date(2026, 1, 15), subject="Attestation de paiement"),
    )
    assert connectors.letter_pdf(CASE, "C-NEW") == PDF and PDF.startswith(b"%PDF-")


@pytest.mark.parametrize("letter_id", ["C-NOPE", "C-THEIRS", "C-OLD"])  # unknown, another case's, without its PDF
def test_a_letter_the_case_system_has_not_for_this_case_is_not_found(partners_with_records, letter_id):
    with pytest.raises(LetterNotFound):
        connectors.letter_pdf(CASE, letter_id)
    assert circuit_state(connectors.partner("case_system")) == "closed"


@pytest.mark.parametrize("letter_id", ["../etc/passwd", "", "x" * 41, None])
def test_a_letter_id_that_cannot_be_one_is_not_even_asked_for(partners_with_records, letter_id):
    with pytest.raises(LetterNotFound):
        connectors.letter_pdf(CASE, letter_id)
    assert partners_with_records.requests()["caf"] == 0


def test_agency_requests_awaiting_an_answer(partners_with_records):
    assert connectors.agency_requests(CASE).data == (
        AgencyRequest(id="D-1", asked_on=date(2026, 11, 20), subject="Attestation de loyer", text="Déposez-la ici.",
                      expects="both", due_on=date(2026, 12, 20)),
    )  # fmt: skip
    assert connectors.agency_requests("1111111").data == ()  # a case with nothing pending


def test_forget_case_asks_the_case_system_again(partners_with_records):
    connectors.letters(CASE)
    connectors.agency_requests(CASE)
    assert connectors.letters(CASE).from_cache
    connectors.forget_case(CASE)
    assert not connectors.letters(CASE).from_cache and not connectors.agency_requests(CASE).from_cache
    assert partners_with_records.requests()["caf"] == 4


# --- The registry: one shape for every outcome -----------------------------------------------------------------------


def test_the_registry_says_true_only_when_everything_matches(partners_with_records):
    answer = registry()
    assert answer.data is True and answer.source == "l'Insee (répertoire national d'identification)"
    assert registry(birth_name="MARTIN", given_names="thomas").data is True  # case, accents, first given name only
    assert registry(given_names="Jean").data is False
    assert registry(birth_date=date(1984, 5, 2)).data is False
    assert registry(sex="F").data is False
    assert registry(birthplace="75056").data is False
    assert registry(UNKNOWN_NIR).data is False


def test_an_unknown_nir_and_a_mismatch_get_the_very_same_answer(partners_with_records):
    def ask(nir: str, birth_name: str) -> httpx.Response:
        return httpx.post(f"{partners_with_records.url}/insee/verification",
                          json={**CIVIL_STATUS, "nir": nir, "nom_naissance": birth_name})  # fmt: skip

    mismatch, unknown = ask(NIR, "Dupont"), ask(UNKNOWN_NIR, "Martin")
    same = (200, b'{"correspondance": false}')
    assert (mismatch.status_code, mismatch.content) == (unknown.status_code, unknown.content) == same
    assert sorted(mismatch.headers.keys()) == sorted(unknown.headers.keys())


def test_registry_checks_are_never_cached(partners_with_records):
    assert registry(birth_name="Dupont").data is False
    assert registry().data is True  # the typo corrected: asked again
    assert not registry().from_cache
    assert partners_with_records.requests()["insee"] == 3


# --- When a partner fails --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("slow", "timeout"), ("fail", "status_500"), ("down", "unreachable"), ("malformed", "malformed")],
)
def test_a_failing_partner_is_unavailable_never_an_error(partners_with_records, mode, reason):
    partners_with_records.mode("dgfip", mode)
    started = time.monotonic()
    with pytest.raises(PartnerUnavailable) as unavailable:
        connectors.tax_income(NIR, 2024)
    assert unavailable.value.reason == reason and unavailable.value.partner.label == "la DGFiP"
    assert time.monotonic() - started < 3 * 0.3 + 1  # three tries of 0.3 s at most (the tests' timeout)
    assert partners_with_records.requests()["dgfip"] == (1 if mode == "malformed" else 3)  # a bad answer: no retry
    partners_with_records.mode("dgfip", "ok")
    assert connectors.tax_income(NIR, 2024).data.reference_income == 21500  # nothing bad was cached


@pytest.mark.parametrize(
    "call",
    [
        lambda: connectors.employment(NIR),
        lambda: registry(),
        lambda: connectors.payments(CASE, date(2026, 1, 1)),
        lambda: connectors.letters(CASE),
        lambda: connectors.letter_pdf(CASE, "C-NEW"),
        lambda: connectors.agency_requests(CASE),
    ],
    ids=["employment", "registry", "payments", "letters", "letter_pdf", "agency_requests"],
)
def test_every_connector_is_unavailable_when_its_partner_is_down(partners_with_records, call):
    for partner in ("france-travail", "insee", "caf"):
        partners_with_records.mode(partner, "down")
    with pytest.raises(PartnerUnavailable) as unavailable:
        call()
    assert unavailable.value.reason == "unreachable"


def test_a_partner_that_is_not_configured_is_unavailable(partners_with_records, settings):
    settings.PARTNER_FRANCE_TRAVAIL_URL = ""
    with pytest.raises(PartnerUnavailable) as unavailable:
        connectors.employment(NIR)
    assert unavailable.value.reason == "not_configured"
    assert partners_with_records.requests()["france-travail"] == 0


def test_the_token_of_a_partner_is_sent_and_checked(partners_with_records, settings):
    partners_with_records.require_token("dgfip", "dgfip-token-for-tests")
    with pytest.raises(PartnerUnavailable) as unavailable:
        connectors.tax_income(NIR, 2024)
    assert unavailable.value.reason == "status_401"
    settings.PARTNER_DGFIP_TOKEN = "dgfip-token-for-tests"
    assert connectors.tax_income(NIR, 2024).data.reference_income == 21500


def test_the_timeout_setting_never_goes_past_two_seconds(settings):
    settings.PARTNER_TIMEOUT_SECONDS = 30
    assert connectors.partner("dgfip").timeout == client.MAX_TIMEOUT == 2.0
    settings.PARTNER_TIMEOUT_SECONDS = 0.5
    assert connectors.partner("case_system").timeout == 0.5


def test_an_open_circuit_leaves_the_other_partners_alone_and_closes_after_the_cool_off(
    partners_with_records, monkeypatch
):
    partners_with_records.mode("france-travail", "down")
    france_travail = connectors.partner("france_travail")
    for _ in range(france_travail.failures_to_open):
        with pytest.raises(PartnerUnavailable):
            connectors.employment(NIR)
    tried = partners_with_records.requests()["france-travail"]
    with pytest.raises(PartnerUnavailable) as unavailable:
        connectors.employment(NIR)
    assert unavailable.value.reason == "circuit_open"
    assert partners_with_records.requests()["france-travail"] == tried  # nobody waited for it
    assert connectors.tax_income(NIR, 2024).data is not None  # the DGFiP is asked as usual

    partners_with_records.mode("france-travail", "ok")
    later = time.time() + france_travail.cool_off_seconds + 1
    monkeypatch.setattr(client.time, "time", lambda: later)
    assert connectors.employment(NIR).data.registered is True
    assert circuit_state(france_travail) == "closed"


# --- No NIR in a URL, in the simulator's log, or in the cache keys ---------------------------------------------------


class Recording(httpx.BaseTransport):
    """The network, remembering every request (the client closes its transport after each call: this one stays)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        pass


def test_a_nir_never_travels_in_a_url_nor_lands_in_the_simulator_log(partners_with_records, monkeypatch):
    recording = Recording()
    monkeypatch.setattr(client, "transport", recording)
    try:
        connectors.tax_income(NIR, 2024)
        connectors.employment(NIR)
        registry()
        registry(UNKNOWN_NIR)
        partners_with_records.mode("dgfip", "fail")
        with pytest.raises(PartnerUnavailable):
            connectors.tax_income(OTHER_NIR, 2024)
    finally:
        recording.inner.close()
    assert len(recording.requests) == 7
    for request in recording.requests:
        assert request.method == "POST" and request.url.query == b""
        assert NIR not in str(request.url) and UNKNOWN_NIR not in str(request.url)
    assert json.loads(recording.requests[0].content) == {"nir": NIR, "annee": 2024}
    log = partners_with_records.log()
    assert "POST /dgfip/avis-impot 200" in log and "POST /insee/verification 200" in log
    assert "POST /dgfip/avis-impot 500" in log
    for nir in (NIR, OTHER_NIR, UNKNOWN_NIR):
        assert nir not in log


# --- Malformed answers (played in process): refused field by field ---------------------------------------------------

TAX = {"annee_revenus": 2024, "revenu_fiscal_de_reference": 21500, "nombre_parts": "2.5"}
ALLOWANCE = RECORDS["people"][NIR]["france_travail"]["allocations"][0]
SITUATION = RECORDS["people"][NIR]["france_travail"]
PAYMENT = RECORDS["cases"][CASE]["paiements"][0]
LETTER = RECORDS["cases"][CASE]["courriers"][0]
REQUEST = RECORDS["cases"][CASE]["demandes"][0]
MALFORMED = [
    ("tax", []),
    ("tax", {}),
    ("tax", {"avis": {**TAX, "annee_revenus": 2023}}),  # not the year asked
    ("tax", {"avis": {**TAX, "revenu_fiscal_de_reference": "21500"}}),
    ("tax", {"avis": {**TAX, "revenu_fiscal_de_reference": -1}}),
    ("tax", {"avis": {**TAX, "revenu_fiscal_de_reference": True}}),
    ("tax", {"avis": {**TAX, "nombre_parts": "2.6"}}),
    ("tax", {"avis": {**TAX, "nombre_parts": "NaN"}}),
    ("tax", {"avis": {**TAX, "nombre_parts": "0"}}),
    ("employment", {"inscrit": "oui", "categorie": "", "date_inscription": None, "allocations": []}),
    ("employment", {**SITUATION, "categorie": "Z"}),
    ("employment", {**SITUATION, "date_inscription": "02/03/2026"}),
    ("employment", {**SITUATION, "date_inscription": "2026-02-30"}),
    ("employment", {**SITUATION, "allocations": [{**ALLOWANCE, "montant_journalier": "-3"}]}),
    ("employment", {**SITUATION, "allocations": [{**ALLOWANCE, "montant_journalier": "38.525"}]}),
    ("employment", {**SITUATION, "allocations": [{**ALLOWANCE, "date_fin": "2026-01-01"}]}),  # before its start
    ("employment", {**SITUATION, "allocations": [{**ALLOWANCE, "libelle": "x" * 201}]}),
    ("employment", {**SITUATION, "allocations": [ALLOWANCE] * 501}),
    ("registry", {"correspondance": "true"}),
    ("registry", {"correspondance": 1}),
    ("payments", {"paiements": {}}),
    ("payments", {"paiements": [{**PAYMENT, "montant": "12,50"}]}),
    ("payments", {"paiements": [{**PAYMENT, "prestation": ""}]}),
    ("payments", {"paiements": [{**PAYMENT, "prestation": "APL\x00"}]}),
    ("payments", {"paiements": [{**PAYMENT, "fin_periode": "2026-08-01"}]}),
    ("letters", {"courriers": [{**LETTER, "id": "../../x"}]}),
    ("letters", {"courriers": [{**LETTER, "objet": "Deux\nlignes"}]}),
    ("letters", {"courriers": [LETTER, LETTER]}),  # the same id twice
    ("requests", {"demandes": [{**REQUEST, "attendu": "both"}]}),
    ("requests", {"demandes": [{**REQUEST, "texte": "x" * 5001}]}),
    ("requests", {"demandes": [{**REQUEST, "echeance": 20261220}]}),
]
CALLS = {
    "tax": lambda: connectors.tax_income(NIR, 2024),
    "employment": lambda: connectors.employment(NIR),
    "registry": registry,
    "payments": lambda: connectors.payments(CASE, date(2026, 1, 1)),
    "letters": lambda: connectors.letters(CASE),
    "requests": lambda: connectors.agency_requests(CASE),
}


@pytest.fixture
def in_process(settings, monkeypatch):
    """Every partner played in process by an httpx MockTransport answering `in_process.answer`."""

    class Partner:
        answer: object = None
        content_type = "application/json"

        def handle(self, request: httpx.Request) -> httpx.Response:
            if isinstance(self.answer, bytes):
                return httpx.Response(200, content=self.answer, headers={"Content-Type": self.content_type})
            return httpx.Response(200, json=self.answer)

    partner = Partner()
    for name in ("DGFIP", "FRANCE_TRAVAIL", "REGISTRY", "CASE_SYSTEM"):
        setattr(settings, f"PARTNER_{name}_URL", f"https://{name.lower()}.test/api")
    monkeypatch.setattr(client, "transport", httpx.MockTransport(partner.handle))
    return partner


@pytest.mark.parametrize(("connector", "answer"), MALFORMED, ids=lambda value: str(value)[:40])
def test_an_answer_off_the_contract_is_unavailable_malformed(in_process, connector, answer, caplog):
    in_process.answer = answer
    with pytest.raises(PartnerUnavailable) as unavailable:
        CALLS[connector]()
    assert unavailable.value.reason == "malformed"
    assert NIR not in caplog.text  # the log names the field, never a value


def test_a_letter_that_is_not_a_pdf_is_malformed(in_process):
    in_process.answer = b"<html>not a letter</html>"
    with pytest.raises(PartnerUnavailable) as unavailable:
        connectors.letter_pdf(CASE, "C-NEW")
    assert unavailable.value.reason == "malformed"
    in_process.answer, in_process.content_type = b"%PDF-1.4 but sent as text", "text/html"
    with pytest.raises(PartnerUnavailable):
        connectors.letter_pdf(CASE, "C-NEW")


def test_amounts_may_come_as_numbers_and_the_dataclasses_are_frozen(in_process):
    in_process.answer = {"avis": {**TAX, "nombre_parts": 1.5}}
    income = connectors.tax_income(NIR, 2024).data
    assert income.shares == Decimal("1.5")
    with pytest.raises(AttributeError):
        income.reference_income = 0


@pytest.mark.parametrize("nir", ["184057511204", "184057511204512", "1840575112O45", None])
def test_a_connector_refuses_what_is_not_a_nir_of_13_characters_without_echoing_it(settings, nir):
    settings.PARTNER_DGFIP_URL = "https://dgfip.test"
    with pytest.raises(ValueError, match="13 characters") as error:
        connectors.tax_income(nir, 2024)
    assert str(nir) not in str(error.value)


def test_corsican_nirs_are_nirs(in_process):
    in_process.answer = {"avis": None}
    assert connectors.tax_income("175062A004123", 2024).data is None


def test_the_last_income_year_is_the_one_whose_notice_is_out():
    assert connectors.last_income_year(date(2026, 7, 31)) == 2024
    assert connectors.last_income_year(date(2026, 8, 1)) == 2025
    assert connectors.last_income_year(timezone.localdate()) in {timezone.localdate().year - 1,
                                                                  timezone.localdate().year - 2}  # fmt: skip


# --- A household built like the reference dataset, end to end -------------------------------------------------------


def test_a_household_pushed_reads_back_as_the_dataset_built_it(partners, household):
    today = timezone.localdate()
    records = partners.add_household(household.case, today=today)
    case = records["cases"][household.case.case_number]

    for person in (household.holder, household.partner, household.child):
        record = records["people"][person.nir]
        assert registry(person.nir, birth_name=person.birth_name, given_names=person.given_names,
                        birth_date=person.birth_date, sex=person.sex, birthplace=person.birthplace,
                        birth_country=person.birth_country).data is True  # fmt: skip
        for year, notice in record["avis"].items():
            income = connectors.tax_income(person.nir, int(year)).data
            assert (income and income.reference_income) == (notice and notice["revenu_fiscal_de_reference"])
        assert connectors.employment(person.nir).data.registered is record["france_travail"]["inscrit"]
    assert not any(records["people"][household.child.nir]["avis"].values())  # on the parents' notice

    since = today - timedelta(days=731)
    paid = connectors.payments(household.case.case_number, since).data
    assert len(paid) == len(case["paiements"]) and all(payment.paid_on.day == 5 for payment in paid)
    letters = connectors.letters(household.case.case_number).data
    assert 2 <= len(letters) <= 4
    assert connectors.letter_pdf(household.case.case_number, letters[0].id).startswith(b"%PDF-")
    assert len(connectors.agency_requests(household.case.case_number).data) == len(case["demandes"])
