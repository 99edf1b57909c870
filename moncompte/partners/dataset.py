"""The reference dataset the partner simulator serves (scripts/partners/simulator.py, docs/partners.md), built from
the database so that it matches the demo data `manage.py generate_demo_data --import` loads.

Everything is derived from digests of NIRs and case numbers, never drawn at random: the same database gives the
same dataset on the same day (amounts and dates are relative to that day, like the demo's ages).

- every person with a NIR: the civil status the registry holds (the one in our database), tax notices for the last
  three income years (joint for a couple, with the household's shares; some have none), and a situation at France
  Travail (most adults are not registered; some are, with an ARE or ASS allowance);
- every case: 24 months of payments on the 5th (allocations familiales with two children or more, APL for many,
  prime d'activité for some), 2 to 4 letters with their PDF, 0 to 2 requests of the agency awaiting an answer;
- a few people known only to the registry (`new_applicants`), fictitious and absent from our database: the « primo
  demandeurs » of the demo, printed by `manage.py partners_dataset`.

The shape is the simulator's (French field names, the partners' own); `build_dataset` also serves tests, which push
the records of their own households to a running simulator (`POST /_control/records`).
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from moncompte.households.models import Case, Membership, Role
from moncompte.identity.models import FRANCE, Person
from moncompte.identity.nir import nir_key
from moncompte.legacy.demo import COMMUNES, COUNTRIES, FEMALE_NAMES, MALE_NAMES, SURNAMES
from moncompte.partners.connectors import last_income_year
from moncompte.partners.documents import letter_pdf

FORMAT = 1
TAX_YEARS = 3
PAYMENT_MONTHS = 24
NEW_APPLICANTS = 5
CENT = Decimal("0.01")


def build_dataset(
    people_qs: QuerySet[Person] | None = None,
    cases_qs: QuerySet[Case] | None = None,
    *,
    today: date | None = None,
    documents: bool = True,
) -> dict[str, Any]:
    """The records of these people (default: everyone with a NIR) and cases (default: every case), plus the
    registry-only new applicants. `documents` False leaves the letters' PDFs out (quicker, for big databases)."""
    today = today or timezone.localdate()
    memberships = Membership.objects.select_related("person").order_by("id")
    if people_qs is None:
        people_qs = Person.objects.all()
    if cases_qs is None:
        cases_qs = Case.objects.all()
    people = (
        people_qs.filter(nir__isnull=False)
        .order_by("nir")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("case").order_by("case__case_number"),
                to_attr="own_memberships",
            ),
            Prefetch("own_memberships__case__memberships", queryset=memberships, to_attr="member_list"),
        )
    )
    records: dict[str, Any] = {"people": {}, "cases": {}}
    for person in people:
        records["people"][person.nir] = person_record(person, _tax_unit(person), today=today)
    cases = cases_qs.order_by("case_number").prefetch_related(
        Prefetch("memberships", queryset=memberships, to_attr="member_list")
    )
    for case in cases:
        records["cases"][case.case_number] = case_record(case, case.member_list, today=today, documents=documents)
    applicants = applicants_not_in_database()
    for applicant in applicants:
        records["people"][applicant.nir] = person_record(applicant, _TaxUnit(applicant.nir, False, ()), today=today)
    return {
        "format": FORMAT,
        "generated_on": today.isoformat(),
        **records,
        "new_applicants": [applicant.nir for applicant in applicants],
    }


# --- Digests: the same input, the same draw --------------------------------------------------------------------------


def _draw(*parts: object) -> random.Random:
    """A generator seeded by a digest of `parts` (a NIR, a case number, a purpose): deterministic, and independent
    for each purpose."""
    digest = hashlib.sha256("|".join(map(str, ("moncompte-partners", *parts))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # fictitious data, not a secret


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _id(prefix: str, *parts: object) -> str:
    return f"{prefix}-{hashlib.sha256('|'.join(map(str, (prefix, *parts))).encode()).hexdigest()[:12].upper()}"


# --- People: civil status, tax notices, France Travail ---------------------------------------------------------------


@dataclass(frozen=True)
class _TaxUnit:
    """Who files together: a couple's notice is joint (same key, same amounts), with the shares of its children."""

    key: str
    couple: bool
    children: tuple[date, ...]  # birth dates of the children counted in the household
    files: bool = True  # False: counted in the parents' notice (a child), no notice of one's own


def _tax_unit(person: Person) -> _TaxUnit:
    for membership in getattr(person, "own_memberships", []):
        case_members = membership.case.member_list
        if membership.role == Role.CHILD:
            return _TaxUnit(person.nir, False, (), files=False)
        if membership.role in (Role.HOLDER, Role.PARTNER):
            adults = [m.person for m in case_members if m.role in (Role.HOLDER, Role.PARTNER)]
            children = tuple(sorted(m.person.birth_date for m in case_members if m.role == Role.CHILD))
            key = "+".join(sorted(adult.nir or f"case:{membership.case.case_number}" for adult in adults))
            return _TaxUnit(key, len(adults) > 1, children)
    return _TaxUnit(person.nir, False, ())


def civil_status(person: Person) -> dict[str, str]:
    """What the registry holds for the person (the simulator compares what a new applicant types with it)."""
    return {
        "nom_naissance": person.birth_name,
        "prenoms": person.given_names,
        "date_naissance": person.birth_date.isoformat(),
        "sexe": person.sex,
        "commune_naissance": person.birthplace,
        "pays_naissance": person.birth_country,
    }


def person_record(person: Person, unit: _TaxUnit, *, today: date) -> dict[str, Any]:
    return {
        "etat_civil": civil_status(person),
        "avis": tax_notices(person, unit, today=today),
        "france_travail": employment_situation(person, today=today),
    }


def shares(couple: bool, children: int) -> Decimal:
    """Nombre de parts: 1 (2 for a couple), ½ for each of the first two children, 1 from the third; a single parent
    has ½ more (case T)."""
    total = Decimal(2 if couple else 1) + Decimal("0.5") * min(children, 2) + max(children - 2, 0)
    return total + (Decimal("0.5") if children and not couple else 0)


def tax_notices(person: Person, unit: _TaxUnit, *, today: date) -> dict[str, Any]:
    """{"2025": notice or None, …} for the last TAX_YEARS income years. Adults who file: most have a notice each
    year; some have none at all (arrived recently), some miss the oldest year."""
    last = last_income_year(today)
    years = range(last - TAX_YEARS + 1, last + 1)
    draw = _draw("avis", unit.key)
    adult = person.age_on(date(last, 12, 31)) >= 18
    if not unit.files or not adult or draw.random() < 0.08:
        return {str(year): None for year in years}
    missing_first = draw.random() < 0.06
    base = draw.choice([draw.uniform(0, 9000), draw.uniform(9000, 22000), draw.uniform(22000, 40000),
                        draw.uniform(40000, 80000)])  # fmt: skip
    base *= 1.6 if unit.couple else 1
    notices = {}
    for index, year in enumerate(years):
        if index == 0 and missing_first:
            notices[str(year)] = None
            continue
        income = int(base * (1 + draw.uniform(-0.05, 0.08)) ** index)
        children = sum(1 for born in unit.children if born <= date(year, 12, 31) and born.year > year - 18)
        notices[str(year)] = {
            "annee_revenus": year,
            "revenu_fiscal_de_reference": income,
            "nombre_parts": str(shares(unit.couple, children)),
        }
    return notices


NOT_REGISTERED = {"inscrit": False, "categorie": "", "date_inscription": None, "allocations": []}
ARE = ("ARE", "Allocation d'aide au retour à l'emploi")
ASS = ("ASS", "Allocation de solidarité spécifique")


def _allowance(kind: tuple[str, str], daily: Decimal, start: date, end: date | None) -> dict[str, Any]:
    return {
        "code": kind[0],
        "libelle": kind[1],
        "montant_journalier": str(daily),
        "date_debut": start.isoformat(),
        "date_fin": end.isoformat() if end else None,
    }


def employment_situation(person: Person, *, today: date) -> dict[str, Any]:
    """Most people are not registered; of the adults of working age, about a third are: category A with an ARE
    allowance for most, some whose ARE ended and who now receive the ASS, some in category B (part-time work)
    without any allowance."""
    draw = _draw("france-travail", person.nir)
    if not 18 <= person.age_on(today) <= 66 or (outcome := draw.random()) < 0.66:
        return dict(NOT_REGISTERED)
    daily = _money(draw.uniform(31, 78))
    if outcome < 0.86:  # registered recently, with an ARE allowance after the waiting days
        registered_on = today - timedelta(days=draw.randint(20, 500))
        start = registered_on + timedelta(days=7)
        allowances = [_allowance(ARE, daily, start, start + timedelta(days=draw.randint(548, 730)))]
    elif outcome < 0.92:  # the ARE ended after a year, the ASS took over
        registered_on = today - timedelta(days=draw.randint(420, 900))
        start = registered_on + timedelta(days=7)
        are_end = start + timedelta(days=365)
        allowances = [
            _allowance(ARE, daily, start, are_end),
            _allowance(ASS, Decimal("19.19"), are_end + timedelta(days=1), None),
        ]
    else:  # category B or A, no allowance
        registered_on = today - timedelta(days=draw.randint(20, 700))
        allowances = []
    return {
        "inscrit": True,
        "categorie": "B" if 0.92 <= outcome < 0.97 else "A",
        "date_inscription": registered_on.isoformat(),
        "allocations": allowances,
    }


# --- New applicants: known to the registry only ----------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    """A fictitious person the registry knows and our database does not (shaped like a Person for the records)."""

    nir: str
    birth_name: str
    given_names: str
    birth_date: date
    sex: str
    birthplace: str
    birth_country: str
    usage_name: str = ""

    @property
    def nir_with_key(self) -> str:
        return f"{self.nir}{nir_key(self.nir):02d}"

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def applicants_not_in_database() -> list[Applicant]:
    """The new applicants, drawn again past any NIR the database holds (asked in one query per draw, not by loading
    every NIR)."""
    taken: set[str] = set()
    while True:
        applicants = new_applicants(taken)
        found = set(Person.objects.filter(nir__in=[a.nir for a in applicants]).values_list("nir", flat=True))
        if not found:
            return applicants
        taken |= found


def new_applicants(taken: Iterable[str] = (), count: int = NEW_APPLICANTS) -> list[Applicant]:
    """`count` fictitious people with a valid NIR, the same every time (fixed birth dates, names from the demo's
    lists), none with a NIR in `taken`. The last one is born abroad."""
    taken = set(taken)
    draw = _draw("new-applicants")
    applicants: list[Applicant] = []
    while len(applicants) < count:
        sex = "F" if len(applicants) % 2 == 0 else "M"
        given = draw.choice(FEMALE_NAMES if sex == "F" else MALE_NAMES)
        second = draw.choice(FEMALE_NAMES if sex == "F" else MALE_NAMES)
        born = date(draw.randint(1978, 2004), draw.randint(1, 12), draw.randint(1, 28))
        abroad = len(applicants) == count - 1
        birthplace, country = ("", draw.choice(COUNTRIES)) if abroad else (draw.choice(COMMUNES), FRANCE)
        place = country if abroad else birthplace
        nir = f"{1 if sex == 'M' else 2}{born:%y%m}{place}{draw.randint(1, 999):03d}"
        if nir in taken:
            continue
        taken.add(nir)
        names = given if second == given or len(applicants) % 2 else f"{given} {second}"
        applicants.append(Applicant(nir, draw.choice(SURNAMES), names, born, sex, birthplace, country))
    return applicants


# --- Cases: payments, letters, requests ------------------------------------------------------------------------------

FAMILY_ALLOWANCES = "Allocations familiales"
HOUSING = "Aide personnalisée au logement"
ACTIVITY = "Prime d'activité"
#: Monthly allocations familiales for 2, 3 children, and each child from the fourth (orders of magnitude of 2025).
FAMILY_AMOUNTS = (Decimal("151.23"), Decimal("344.97"), Decimal("193.74"))


def _payment_dates(today: date) -> list[date]:
    """The 5th of the last PAYMENT_MONTHS months, up to today, newest first."""
    year, month = (today.year, today.month) if today.day >= 5 else _previous(today.year, today.month)
    days = []
    for _ in range(PAYMENT_MONTHS):
        days.append(date(year, month, 5))
        year, month = _previous(year, month)
    return days


def _previous(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


@dataclass(frozen=True)
class _Household:
    number: str
    holder: Person | None
    adults: tuple[Person, ...]
    children: tuple[Person, ...]

    def children_under(self, age: int, on: date) -> int:
        return sum(1 for child in self.children if child.birth_date <= on and child.age_on(on) < age)


def _household(case: Case, members: list[Membership]) -> _Household:
    holder = next((m.person for m in members if m.role == Role.HOLDER), None)
    adults = tuple(m.person for m in members if m.role in (Role.HOLDER, Role.PARTNER))
    children = tuple(m.person for m in members if m.role == Role.CHILD)
    return _Household(case.case_number, holder, adults, children)


def _benefits(household: _Household, today: date) -> dict[str, Any]:
    draw = _draw("prestations", household.number)
    housing = draw.random() < 0.6
    activity = draw.random() < 0.35 and any(adult.age_on(today) < 65 for adult in household.adults)
    return {"housing": _money(draw.uniform(120, 420)) if housing else None, "activity": activity}


def payments(household: _Household, today: date) -> list[dict[str, str]]:
    """One payment per benefit on the 5th of each month, for the month before, newest first."""
    benefits = _benefits(household, today)
    result = []
    for paid_on in _payment_dates(today):
        year, month = _previous(paid_on.year, paid_on.month)
        start, end = date(year, month, 1), _month_end(year, month)
        lines = []
        children = household.children_under(20, end)
        if children >= 2:
            amount = FAMILY_AMOUNTS[0] if children == 2 else FAMILY_AMOUNTS[1] + FAMILY_AMOUNTS[2] * (children - 3)
            lines.append((FAMILY_ALLOWANCES, amount))
        if benefits["housing"] is not None:
            revised = _draw("apl", household.number, year).uniform(1.0, 1.04)  # revised each year
            lines.append((HOUSING, _money(benefits["housing"] * Decimal(str(revised)))))
        if benefits["activity"]:
            quarter = _draw("prime", household.number, year, (month - 1) // 3)  # reviewed each quarter
            lines.append((ACTIVITY, _money(quarter.uniform(60, 320))))
        result += [
            {
                "date": paid_on.isoformat(),
                "prestation": benefit,
                "montant": str(amount),
                "debut_periode": start.isoformat(),
                "fin_periode": end.isoformat(),
            }
            for benefit, amount in lines
        ]
    return result


#: The letters a case may have received: (subject, text, which cases, from the benefits they were paid).
LETTERS = [
    (
        "Créez votre espace personnel Mon Compte",
        "Désormais, chaque membre du foyer de plus de 15 ans peut avoir son propre espace personnel, avec son numéro "
        "de Sécurité sociale et un mot de passe personnel.",
        lambda paid: True,
    ),
    (
        "Nous avons bien reçu votre déclaration de changement de situation",
        "Votre déclaration a été enregistrée. Nous vous écrirons si elle modifie vos droits.",
        lambda paid: True,
    ),
    (
        "Attestation de paiement",
        "Nous attestons que les prestations de votre foyer ont été versées chaque mois sur le compte que vous nous "
        "avez indiqué.",
        bool,
    ),
    (
        "Révision annuelle de vos droits",
        "Vos droits ont été recalculés avec vos ressources de l'année. Le détail des montants figure dans « Mes "
        "paiements ».",
        bool,
    ),
    (
        "Vos droits à l'aide au logement",
        "Votre aide personnalisée au logement est versée chaque mois, le 5, pour le mois précédent.",
        lambda paid: HOUSING in paid,
    ),
    (
        "Votre prime d'activité : déclaration trimestrielle",
        "Pensez à déclarer vos ressources du trimestre écoulé pour continuer à percevoir la prime d'activité.",
        lambda paid: ACTIVITY in paid,
    ),
    (
        "Vos allocations familiales",
        "Vos allocations familiales tiennent compte du nombre et de l'âge de vos enfants.",
        lambda paid: FAMILY_ALLOWANCES in paid,
    ),
]


def letters(household: _Household, paid: set[str], today: date, *, documents: bool) -> list[dict[str, Any]]:
    """2 to 4 letters of the last year, newest first, each with its PDF (base64) unless `documents` is False."""
    draw = _draw("courriers", household.number)
    possible = [(subject, text) for subject, text, concerns in LETTERS if concerns(paid)]
    chosen = draw.sample(possible, draw.randint(2, min(4, len(possible))))
    recipient = household.holder.full_name if household.holder else "Madame, Monsieur"
    items = []
    for index, (subject, text) in enumerate(chosen):
        sent_on = today - timedelta(days=draw.randint(1, 365))
        item = {"id": _id("C", household.number, index), "date": sent_on.isoformat(), "objet": subject}
        if documents:
            pdf = letter_pdf(
                case_number=household.number,
                recipient=recipient,
                sent_on=sent_on,
                subject=subject,
                paragraphs=["Madame, Monsieur,", text],
            )
            item["pdf"] = base64.b64encode(pdf).decode("ascii")
        items.append(item)
    return sorted(items, key=lambda item: item["date"], reverse=True)


#: The requests the agency may be waiting for: (subject, text, what it expects, which households).
REQUESTS = [
    (
        "Justificatif de domicile",
        "Merci de nous transmettre un justificatif de domicile de moins de trois mois (facture d'électricité, "
        "quittance de loyer…).",
        "document",
        lambda household, today: True,
    ),
    (
        "Votre situation professionnelle",
        "Précisez votre situation professionnelle depuis le début du mois dernier : emploi, recherche d'emploi, "
        "formation, arrêt maladie.",
        "texte",
        lambda household, today: True,
    ),
    (
        "Attestation de loyer",
        "Votre bailleur doit remplir et signer l'attestation de loyer. Déposez-la ici, avec un mot si votre loyer a "
        "changé.",
        "les_deux",
        lambda household, today: True,
    ),
    (
        "Ressources de votre conjoint",
        "Indiquez les ressources de votre conjoint des trois derniers mois et joignez ses bulletins de salaire.",
        "les_deux",
        lambda household, today: len(household.adults) > 1,
    ),
    (
        "Scolarité de votre enfant",
        "Transmettez le certificat de scolarité de cette année de votre enfant de plus de 16 ans.",
        "document",
        lambda household, today: any(16 <= child.age_on(today) < 20 for child in household.children),
    ),
]


def agency_requests(household: _Household, today: date) -> list[dict[str, Any]]:
    """0 to 2 requests of the last two months awaiting an answer: a document, a text, or both."""
    draw = _draw("demandes", household.number)
    pool = [(subject, text, expects) for subject, text, expects, who in REQUESTS if who(household, today)]
    count = draw.choice([0, 0, 1, 1, 1, 2])
    items = []
    for index, (subject, text, expects) in enumerate(draw.sample(pool, count)):
        asked_on = today - timedelta(days=draw.randint(1, 60))
        due_on = asked_on + timedelta(days=30) if draw.random() < 0.7 else None
        items.append(
            {
                "id": _id("D", household.number, index),
                "date": asked_on.isoformat(),
                "objet": subject,
                "texte": text,
                "attendu": expects,
                "echeance": due_on.isoformat() if due_on else None,
            }
        )
    return items


def case_record(case: Case, members: list[Membership], *, today: date, documents: bool = True) -> dict[str, Any]:
    household = _household(case, members)
    paid = payments(household, today)
    benefits = {payment["prestation"] for payment in paid}
    return {
        "paiements": paid,
        "courriers": letters(household, benefits, today, documents=documents),
        "demandes": agency_requests(household, today),
    }
