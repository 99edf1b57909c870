"""The partner connectors (issue 11, item 5): what the tax office, France Travail, the national identity registry and
the agency's own case system say, as small frozen dataclasses with their source and date (`Answer`).

Each function reads its partner's settings at call time (`PARTNER_<NAME>_URL`, `_TOKEN`, `PARTNER_TIMEOUT_SECONDS`,
the cache times), asks through `client.fetch`, and validates every field of the answer (types, lengths, dates,
amounts) before building the dataclasses: an answer that is not what the contract says is
`PartnerUnavailable(reason="malformed")`, like a partner that does not answer, so a page shows the « données
indisponibles » notice and never an error. The contracts, with examples, are in docs/partners.md.

Nothing here checks who may see what: the callers ask the households policy first and pass a case number or a NIR
they are allowed to read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import timezone

from moncompte.partners import client
from moncompte.partners.client import Answer, Malformed, Partner, PartnerUnavailable

__all__ = [
    "AgencyRequest",
    "Allowance",
    "Answer",
    "Employment",
    "Letter",
    "LetterNotFound",
    "PartnerUnavailable",
    "Payment",
    "TaxIncome",
    "agency_requests",
    "employment",
    "forget_case",
    "last_income_year",
    "letter_pdf",
    "letters",
    "partner",
    "payments",
    "registry_check",
    "tax_income",
]


# --- What the partners say -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxIncome:
    """DGFiP, « avis d'impôt »: the notice of one income year."""

    year: int  # income year (the notice of 2026 is about the income of 2025)
    reference_income: int  # revenu fiscal de référence, euros
    shares: Decimal  # nombre de parts


@dataclass(frozen=True)
class Allowance:
    kind: str  # "ARE", "ASS"…
    label: str  # « Allocation d'aide au retour à l'emploi »
    daily_amount: Decimal
    start: date
    end: date | None


@dataclass(frozen=True)
class Employment:
    """France Travail: registration as a job seeker and the allowances paid."""

    registered: bool
    category: str  # "A", "B"… or ""
    registered_on: date | None
    allowances: tuple[Allowance, ...]


@dataclass(frozen=True)
class Payment:
    """The agency's case system: one payment of a benefit."""

    paid_on: date
    benefit: str  # « Aide personnalisée au logement »
    amount: Decimal
    period_start: date
    period_end: date


@dataclass(frozen=True)
class Letter:
    id: str  # opaque, [A-Za-z0-9-]{1,40}
    sent_on: date
    subject: str


@dataclass(frozen=True)
class AgencyRequest:
    """« Demande de la Caf » awaiting an answer from the household."""

    id: str
    asked_on: date
    subject: str
    text: str
    expects: str  # "document", "text" or "both"
    due_on: date | None


class LetterNotFound(Exception):
    """The case system has no such letter for this case (or the id is not one it could have given)."""


# --- The partners, from the settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Setup:
    label: str  # the French phrase of « Données transmises par <label> le … »
    settings_prefix: str
    cache_setting: str | None  # None: never cached


PARTNERS = {
    "dgfip": _Setup("la DGFiP", "PARTNER_DGFIP", "PARTNER_CACHE_SECONDS"),
    "france_travail": _Setup("France Travail", "PARTNER_FRANCE_TRAVAIL", "PARTNER_CACHE_SECONDS"),
    # A check of what a person typed: never cached, a second try after a typo must ask again.
    "registry": _Setup("l'Insee (répertoire national d'identification)", "PARTNER_REGISTRY", None),
    "case_system": _Setup("la Caf", "PARTNER_CASE_SYSTEM", "PARTNER_CASE_SYSTEM_CACHE_SECONDS"),
}


def partner(name: str) -> Partner:
    """The partner `name` ("dgfip", "france_travail", "registry", "case_system") as the settings say now."""
    setup = PARTNERS[name]
    return Partner(
        name=name,
        label=setup.label,
        base_url=getattr(settings, f"{setup.settings_prefix}_URL", ""),
        token=getattr(settings, f"{setup.settings_prefix}_TOKEN", ""),
        timeout=min(float(getattr(settings, "PARTNER_TIMEOUT_SECONDS", client.MAX_TIMEOUT)), client.MAX_TIMEOUT),
        cache_seconds=int(getattr(settings, setup.cache_setting, 0)) if setup.cache_setting else 0,
    )


# --- The connectors --------------------------------------------------------------------------------------------------

NIR_PATTERN = re.compile(r"[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{6}")
CASE_NUMBER_PATTERN = re.compile(r"[0-9]{7}")
ID_PATTERN = re.compile(r"[A-Za-z0-9-]{1,40}")
EXPECTS = {"document": "document", "texte": "text", "les_deux": "both"}


def last_income_year(today: date | None = None) -> int:
    """The latest income year whose tax notice is out: notices are sent from the end of July, so on 1 August 2026
    the income of 2025, before it that of 2024."""
    today = today or timezone.localdate()
    return today.year - 1 if (today.month, today.day) >= (8, 1) else today.year - 2


def tax_income(nir: str, year: int) -> Answer:
    """The tax notice of `year`'s income; `Answer.data` is a TaxIncome, or None when no return was filed that year
    (or the DGFiP does not know the NIR: it answers both alike)."""
    body = {"nir": _nir(nir), "annee": int(year)}
    return client.fetch(partner("dgfip"), "avis-impot", body, parse=lambda raw: _tax_income(raw, int(year)))


def employment(nir: str) -> Answer:
    """Registration at France Travail and the allowances; `registered` False for a NIR it does not know."""
    return client.fetch(partner("france_travail"), "situation", {"nir": _nir(nir)}, parse=_employment)


def registry_check(
    *,
    nir: str,
    birth_name: str,
    given_names: str,
    birth_date: date,
    sex: str,
    birthplace: str,
    birth_country: str,
) -> Answer:
    """Does the registry hold this civil status for this NIR? `Answer.data` is True only when everything matches;
    False for a mismatch and for an unknown NIR alike (the registry says nothing more, so neither can we)."""
    body = {
        "nir": _nir(nir),
        "nom_naissance": birth_name,
        "prenoms": given_names,
        "date_naissance": birth_date.isoformat(),
        "sexe": sex,
        "commune_naissance": birthplace,
        "pays_naissance": birth_country,
    }
    return client.fetch(partner("registry"), "verification", body, parse=_registry_check)


def payments(case_number: str, since: date) -> Answer:
    """The payments of the case since `since` (its payment date); `Answer.data` is a tuple, newest first."""
    body = {"numero_allocataire": _case(case_number), "depuis": since.isoformat()}
    return client.fetch(partner("case_system"), "paiements", body, parse=lambda raw: _payments(raw, since))


def letters(case_number: str) -> Answer:
    """The letters the agency sent to the case; `Answer.data` is a tuple, newest first."""
    body = {"numero_allocataire": _case(case_number)}
    return client.fetch(partner("case_system"), "courriers", body, parse=_letters)


def letter_pdf(case_number: str, letter_id: str) -> bytes:
    """The PDF of one letter of the case (never cached). Raises LetterNotFound when the case system has no such
    letter for this case, PartnerUnavailable otherwise."""
    if not isinstance(letter_id, str) or not ID_PATTERN.fullmatch(letter_id):
        raise LetterNotFound(letter_id)
    body = {"numero_allocataire": _case(case_number), "id": letter_id}
    try:
        return client.fetch_bytes(
            partner("case_system"), "courriers/document", body, is_valid=lambda content: content.startswith(b"%PDF-")
        )
    except PartnerUnavailable as unavailable:
        if unavailable.reason == "status_404":
            raise LetterNotFound(letter_id) from None
        raise


def agency_requests(case_number: str) -> Answer:
    """The agency's requests awaiting an answer from the household; `Answer.data` is a tuple, newest first."""
    body = {"numero_allocataire": _case(case_number)}
    return client.fetch(partner("case_system"), "demandes", body, parse=_agency_requests)


def forget_case(case_number: str) -> None:
    """Drop the cached letters and requests of a case (after the household answered a request, say): the next page
    asks the case system again."""
    case_system = partner("case_system")
    for path in ("courriers", "demandes"):
        client.forget(case_system, path, {"numero_allocataire": _case(case_number)})


def _nir(nir: str) -> str:
    if not isinstance(nir, str) or not NIR_PATTERN.fullmatch(nir):
        raise ValueError("a NIR of 13 characters, without its key, is expected")  # never echo it
    return nir


def _case(case_number: str) -> str:
    if not isinstance(case_number, str) or not CASE_NUMBER_PATTERN.fullmatch(case_number):
        raise ValueError("a case number of 7 digits is expected")
    return case_number


# --- Reading the answers: every field checked, or Malformed ----------------------------------------------------------
# The messages name the field, never its value (they go to the log).

MAX_ITEMS = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _object(value: Any, name: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{name}: an object is expected")
    if missing := keys - value.keys():
        raise Malformed(f"{name}: missing {sorted(missing)}")
    return value


def _list(value: Any, name: str) -> list:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise Malformed(f"{name}: a list of at most {MAX_ITEMS} items is expected")
    return value


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise Malformed(f"{name}: true or false is expected")
    return value


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Malformed(f"{name}: an integer from {low} to {high} is expected")
    return value


def _text(value: Any, name: str, max_length: int, *, pattern: re.Pattern | None = None, lines: bool = False) -> str:
    if not isinstance(value, str) or len(value) > max_length:
        raise Malformed(f"{name}: a text of at most {max_length} characters is expected")
    if _CONTROL.search(value) or ("\n" in value and not lines) or "\r" in value:
        raise Malformed(f"{name}: control characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise Malformed(f"{name}: not of the expected form")
    return value


def _label(value: Any, name: str) -> str:
    text = _text(value, name, 200).strip()
    if not text:
        raise Malformed(f"{name}: empty")
    return text


def _date(value: Any, name: str, *, optional: bool = False) -> date | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise Malformed(f"{name}: a date YYYY-MM-DD is expected")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Malformed(f"{name}: not a date") from None
    if not 1900 <= day.year <= 2100:
        raise Malformed(f"{name}: a date out of range")
    return day


def _amount(value: Any, name: str, high: Decimal, *, places: int = 2) -> Decimal:
    """Amounts travel as strings ("245.30"); numbers are accepted too. Never negative, at most `places` decimals."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Malformed(f"{name}: an amount is expected")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise Malformed(f"{name}: not an amount") from None
    if not amount.is_finite() or not Decimal(0) <= amount <= high or amount.as_tuple().exponent < -places:
        raise Malformed(f"{name}: an amount from 0 to {high} with {places} decimals at most is expected")
    return amount


def _tax_income(raw: Any, year: int) -> TaxIncome | None:
    notice = _object(raw, "answer", {"avis"})["avis"]
    if notice is None:
        return None
    notice = _object(notice, "avis", {"annee_revenus", "revenu_fiscal_de_reference", "nombre_parts"})
    if _int(notice["annee_revenus"], "annee_revenus", 1900, 2100) != year:
        raise Malformed("annee_revenus: not the year asked")
    shares = _amount(notice["nombre_parts"], "nombre_parts", Decimal(50))
    if shares < Decimal("0.5") or shares % Decimal("0.25"):
        raise Malformed("nombre_parts: a number of shares is a multiple of 0.25, at least 0.5")
    return TaxIncome(
        year=year,
        reference_income=_int(notice["revenu_fiscal_de_reference"], "revenu_fiscal_de_reference", 0, 10**9),
        shares=shares,
    )


def _allowance(raw: Any) -> Allowance:
    item = _object(raw, "allocation", {"code", "libelle", "montant_journalier", "date_debut", "date_fin"})
    start = _date(item["date_debut"], "date_debut")
    end = _date(item["date_fin"], "date_fin", optional=True)
    if end is not None and end < start:
        raise Malformed("date_fin: before date_debut")
    return Allowance(
        kind=_text(item["code"], "code", 10, pattern=re.compile(r"[A-Z0-9-]{1,10}")),
        label=_label(item["libelle"], "libelle"),
        daily_amount=_amount(item["montant_journalier"], "montant_journalier", Decimal(1000)),
        start=start,
        end=end,
    )


def _employment(raw: Any) -> Employment:
    answer = _object(raw, "answer", {"inscrit", "categorie", "date_inscription", "allocations"})
    return Employment(
        registered=_bool(answer["inscrit"], "inscrit"),
        category=_text(answer["categorie"], "categorie", 1, pattern=re.compile(r"[A-E]?")),
        registered_on=_date(answer["date_inscription"], "date_inscription", optional=True),
        allowances=tuple(_allowance(item) for item in _list(answer["allocations"], "allocations")),
    )


def _registry_check(raw: Any) -> bool:
    return _bool(_object(raw, "answer", {"correspondance"})["correspondance"], "correspondance")


def _payment(raw: Any) -> Payment:
    item = _object(raw, "paiement", {"date", "prestation", "montant", "debut_periode", "fin_periode"})
    start, end = _date(item["debut_periode"], "debut_periode"), _date(item["fin_periode"], "fin_periode")
    if end < start:
        raise Malformed("fin_periode: before debut_periode")
    return Payment(
        paid_on=_date(item["date"], "date"),
        benefit=_label(item["prestation"], "prestation"),
        amount=_amount(item["montant"], "montant", Decimal(100_000)),
        period_start=start,
        period_end=end,
    )


def _payments(raw: Any, since: date) -> tuple[Payment, ...]:
    items = [_payment(item) for item in _list(_object(raw, "answer", {"paiements"})["paiements"], "paiements")]
    return _newest_first([item for item in items if item.paid_on >= since], lambda item: item.paid_on)


def _letters(raw: Any) -> tuple[Letter, ...]:
    def letter(raw_item: Any) -> Letter:
        item = _object(raw_item, "courrier", {"id", "date", "objet"})
        return Letter(
            id=_text(item["id"], "id", 40, pattern=ID_PATTERN),
            sent_on=_date(item["date"], "date"),
            subject=_label(item["objet"], "objet"),
        )

    items = [letter(item) for item in _list(_object(raw, "answer", {"courriers"})["courriers"], "courriers")]
    return _newest_first(_unique_ids(items), lambda item: item.sent_on)


def _agency_requests(raw: Any) -> tuple[AgencyRequest, ...]:
    def request(raw_item: Any) -> AgencyRequest:
        item = _object(raw_item, "demande", {"id", "date", "objet", "texte", "attendu", "echeance"})
        expects = _text(item["attendu"], "attendu", 10)
        if expects not in EXPECTS:
            raise Malformed(f"attendu: one of {sorted(EXPECTS)} is expected")
        return AgencyRequest(
            id=_text(item["id"], "id", 40, pattern=ID_PATTERN),
            asked_on=_date(item["date"], "date"),
            subject=_label(item["objet"], "objet"),
            text=_text(item["texte"], "texte", 5000, lines=True).strip(),
            expects=EXPECTS[expects],
            due_on=_date(item["echeance"], "echeance", optional=True),
        )

    items = [request(item) for item in _list(_object(raw, "answer", {"demandes"})["demandes"], "demandes")]
    return _newest_first(_unique_ids(items), lambda item: item.asked_on)


def _unique_ids(items: list) -> list:
    if len({item.id for item in items}) != len(items):
        raise Malformed("id: the same id twice")
    return items


def _newest_first(items: list, day: Callable[[Any], date]) -> tuple:
    return tuple(sorted(items, key=day, reverse=True))  # stable: the partner's order within a day
