"""The partner simulator as a process (scripts/partners/simulator.py): it serves the dataset `manage.py
partners_dataset` writes, answers per the contract, obeys its control API, logs without NIRs, stops on SIGTERM."""

from __future__ import annotations

import json
import re
import time
from io import StringIO

import httpx
import pytest
from django.core.management import call_command

from moncompte.partners import connectors
from tests.factories import CaseFactory, MembershipFactory
from tests.partners.driver import SimulatorProcess

NIR = "1840575112045"


@pytest.mark.django_db
def test_it_serves_the_dataset_the_command_writes_and_stops_cleanly_on_sigterm(settings, tmp_path):
    settings.DEBUG = True
    holder = MembershipFactory(case=CaseFactory(case_number="3141592")).person
    call_command("partners_dataset", str(tmp_path / "partners.json"), stdout=StringIO())
    simulator = SimulatorProcess(tmp_path / "partners.json", tmp_path / "simulator.log")
    try:
        settings.PARTNER_REGISTRY_URL = f"{simulator.url}/insee"
        settings.PARTNER_CASE_SYSTEM_URL = f"{simulator.url}/caf"
        assert connectors.registry_check(
            nir=holder.nir, birth_name=holder.birth_name, given_names=holder.given_names,
            birth_date=holder.birth_date, sex=holder.sex, birthplace=holder.birthplace,
            birth_country=holder.birth_country,
        ).data is True  # fmt: skip
        letters = connectors.letters("3141592").data
        assert connectors.letter_pdf("3141592", letters[0].id).startswith(b"%PDF-")
    finally:
        assert simulator.stop() == 0
    log = (tmp_path / "simulator.log").read_text()
    assert "POST /insee/verification 200" in log and holder.nir not in log


def post(partners, path: str, body=None, **kwargs) -> httpx.Response:
    return httpx.post(f"{partners.url}{path}", json={} if body is None else body, timeout=5, **kwargs)


def test_questions_are_posted_as_json(partners):
    assert httpx.get(f"{partners.url}/dgfip/avis-impot").status_code == 405
    assert httpx.post(f"{partners.url}/dgfip/avis-impot", content=b"{nir").status_code == 400
    assert post(partners, "/dgfip/avis-impot", [NIR]).status_code == 400
    assert post(partners, "/dgfip/avis-impot", {"nir": NIR}).status_code == 400  # no year
    assert post(partners, "/dgfip/avis-impot", {"nir": "12", "annee": 2025}).status_code == 400
    assert post(partners, "/dgfip/avis-impot", {"nir": NIR, "annee": 2025}).json() == {"avis": None}
    assert post(partners, "/dgfip/nothing-here").status_code == 404
    assert post(partners, "/caf/paiements", {"numero_allocataire": "1234567"}).status_code == 400  # no date


def test_the_control_api_refuses_what_it_does_not_know(partners):
    assert post(partners, "/_control/dgfip", {"mode": "sleepy"}).status_code == 400
    assert post(partners, "/_control/dgfip", {"mode": "slow", "delay": -1}).status_code == 400
    assert post(partners, "/_control/dgfip", {"mode": "slow", "delay": "2"}).status_code == 400
    assert post(partners, "/_control/urssaf", {"mode": "down"}).status_code == 404
    assert post(partners, "/_control/records", {"people": []}).status_code == 400
    assert httpx.get(f"{partners.url}/_health").json() == {"status": "ok"}


def test_slow_waits_then_answers_and_down_closes_without_an_answer(partners):
    partners.mode("dgfip", "slow", delay=0.3)
    started = time.monotonic()
    assert post(partners, "/dgfip/avis-impot", {"nir": NIR, "annee": 2025}).json() == {"avis": None}
    assert time.monotonic() - started >= 0.3
    partners.mode("dgfip", "down")
    with pytest.raises(httpx.RemoteProtocolError):
        post(partners, "/dgfip/avis-impot", {"nir": NIR, "annee": 2025})
    partners.mode("dgfip", "fail")
    assert post(partners, "/dgfip/avis-impot", {"nir": NIR, "annee": 2025}).status_code == 500
    assert post(partners, "/insee/verification", {}).status_code == 400  # the others are still up


def test_records_are_added_or_replaced_and_reset_brings_back_the_dataset(partners):
    notice = {"annee_revenus": 2025, "revenu_fiscal_de_reference": 100, "nombre_parts": "1"}
    partners.push({"people": {NIR: {"avis": {"2025": notice}}}})
    assert post(partners, "/dgfip/avis-impot", {"nir": NIR, "annee": 2025}).json() == {"avis": notice}
    partners.push({"people": {NIR: {"avis": {}}}})
    assert post(partners, "/dgfip/avis-impot", {"nir": NIR, "annee": 2025}).json() == {"avis": None}
    partners.push({"people": {NIR: {"avis": {"2025": notice}}}})
    partners.mode("dgfip", "down")
    partners.reset()
    assert post(partners, "/dgfip/avis-impot", {"nir": NIR, "annee": 2025}).json() == {"avis": None}
    assert partners.requests() == {"dgfip": 1, "france-travail": 0, "insee": 0, "caf": 0}


def test_a_record_off_the_contract_makes_the_partner_err_not_the_simulator_die(partners):
    partners.push({"people": {NIR: {"etat_civil": {"nom_naissance": "Martin"}}}})  # fields missing
    body = {"nir": NIR, "nom_naissance": "Martin", "prenoms": "Thomas", "date_naissance": "1984-05-01", "sexe": "M",
            "commune_naissance": "75112", "pays_naissance": "99100"}  # fmt: skip
    assert post(partners, "/insee/verification", body).status_code == 500
    assert httpx.get(f"{partners.url}/_health").status_code == 200


def test_one_log_line_per_request_without_query_or_nir(partners):
    httpx.get(f"{partners.url}/_health?nir={NIR}")
    post(partners, "/france-travail/situation", {"nir": NIR})
    log = partners.log()
    # (a slow answer of an earlier test may still be logged meanwhile: only these two paths are counted)
    assert len([line for line in log.splitlines() if " GET /_health " in line]) == 1
    (line,) = [line for line in log.splitlines() if "/france-travail/" in line]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d POST /france-travail/situation 200 \d+ms", line), line
    assert NIR not in log and "?" not in log


def test_an_unknown_person_is_not_registered_at_france_travail(partners):
    assert post(partners, "/france-travail/situation", {"nir": NIR}).json() == {
        "inscrit": False,
        "categorie": "",
        "date_inscription": None,
        "allocations": [],
    }
    assert json.loads(post(partners, "/caf/demandes", {"numero_allocataire": "1234567"}).content) == {"demandes": []}
