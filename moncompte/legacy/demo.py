"""A demo legacy export (DESIGN §6) of fictitious households: `manage.py generate_demo_data` writes and prints it.

The first cases are hand-written profiles (a couple with a child of 16 today, a single parent, births in Corsica,
Réunion and abroad, a holder with a NIA, a partner without a NIR, contacts on file or none); the rest are drawn at
random. Everything is fictitious: names from common-name lists, NIRs built from the birth data with a valid key,
e-mails @exemple.fr, mobiles in the 06 00 00 xx xx and 0692 00 xx xx ranges. The file is the same for the same
`--seed` on the same day (ages are relative to today: the child of 16 stays 16).

`build_demo_cases()` and `write_demo_csv()` are also used by tests and by bench/import_rate.py to make bigger files.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.utils import timezone

from moncompte.identity.models import FRANCE
from moncompte.identity.nir import nir_grouped, nir_key
from moncompte.legacy.reader import COLUMNS
from moncompte.lib import dates

DEFAULT_SEED = 2022
DEFAULT_CASE_COUNT = 20

COMMUNES = [
    "75112",  # Paris 12e
    "69383",  # Lyon 3e
    "13055",  # Marseille
    "33063",  # Bordeaux
    "59350",  # Lille
    "31555",  # Toulouse
    "44109",  # Nantes
    "67482",  # Strasbourg
    "35238",  # Rennes
    "34172",  # Montpellier
    "21231",  # Dijon
    "37261",  # Tours
    "63113",  # Clermont-Ferrand
    "76540",  # Rouen
    "87085",  # Limoges
]
CORSICA = ["2A004", "2B033"]  # Ajaccio, Bastia
OVERSEAS = ["97411", "97416", "97120", "97209"]  # Saint-Denis, Saint-Pierre (Réunion), Pointe-à-Pitre, Fort-de-France
COUNTRIES = [
    "99350",
    "99352",
    "99351",
    "99139",
    "99341",
    "99127",
]  # Maroc, Algérie, Tunisie, Portugal, Sénégal, Italie

MALE_NAMES = [
    "Thomas", "Nicolas", "Julien", "Maxime", "Antoine", "Alexandre", "Kevin", "Romain", "Mathieu", "Guillaume",
    "Pierre", "Sébastien", "Florian", "Hugo", "Lucas", "Louis", "Gabriel", "Arthur", "Jules", "Noah", "Adam",
    "Raphaël", "Léo", "Paul", "Ethan", "Nathan", "Karim", "Yanis", "Mehdi", "Michel", "Philippe", "Éric",
]  # fmt: skip
FEMALE_NAMES = [
    "Julie", "Camille", "Marie", "Laura", "Sarah", "Pauline", "Manon", "Élodie", "Chloé", "Émilie", "Léa",
    "Emma", "Jade", "Louise", "Alice", "Lina", "Rose", "Anna", "Inès", "Zoé", "Nadia", "Samira", "Sandrine",
    "Isabelle", "Nathalie", "Sophie", "Céline", "Aurélie", "Fatou", "Ana", "Maëlys", "Chantal",
]  # fmt: skip
SURNAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
    "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel",
    "Girard", "André", "Lefèvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand",
    "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin",
    "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin",
]  # fmt: skip


@dataclass
class DemoPerson:
    role: str  # legacy role name: allocataire, conjoint, enfant, autre
    given_names: str
    birth_name: str
    birth_date: date
    sex: str
    birthplace: str = ""
    birth_country: str = FRANCE
    usage_name: str = ""
    email: str = ""
    mobile: str = ""  # as the legacy system wrote it (national or international format)
    nir_sex_digit: str = ""  # 7 or 8 for a NIA; empty: 1 or 2 from the sex
    has_nir: bool = True
    nir: str = ""  # 13 characters, set by build_demo_cases

    @property
    def nir_with_key(self) -> str:
        return f"{self.nir}{nir_key(self.nir):02d}" if self.nir else ""

    @property
    def nir_spaced(self) -> str:
        """1 82 03 75 112 045 67 (overseas: 2 97 12 974 11 123 20)."""
        return nir_grouped(self.nir_with_key) if self.nir_with_key else ""

    @property
    def display_name(self) -> str:
        first = self.given_names.split(" ")[0]
        return f"{first} {self.usage_name or self.birth_name}"


@dataclass
class DemoCase:
    number: str
    pin: str = field(repr=False)
    profile: str
    members: list[DemoPerson]


def years_ago(today: date, years: int, days: int = 0) -> date:
    """The date `years` years (and `days` days) before today; 29 February falls back to the 28th."""
    return dates.years_before(today, years) - timedelta(days=days)


def _curated_cases(today: date) -> list[tuple[str, list[DemoPerson]]]:
    """The profiles every demo must show. Mobiles and e-mails are fictitious (06 00 00 …, 0692 00 …, @exemple.fr)."""
    d = date
    return [
        (
            "Couple avec enfants (dont un de 16 ans)",
            [
                DemoPerson("allocataire", "Thomas Jean", "Martin", d(1982, 3, 14), "M", "75112",
                           email="thomas.martin@exemple.fr", mobile="06 00 00 01 01"),
                DemoPerson("conjoint", "Julie Anne", "Bernard", d(1984, 7, 2), "F", "69383", usage_name="Martin",
                           email="julie.bernard@exemple.fr", mobile="+33 6 00 00 01 02"),
                DemoPerson("enfant", "Léa", "Martin", years_ago(today, 16, 40), "F", "75112", mobile="06 00 00 01 03"),
                DemoPerson("enfant", "Hugo", "Martin", years_ago(today, 11, 100), "M", "75112"),
            ],
        ),
        (
            "Parent seul avec deux enfants",
            [
                DemoPerson("allocataire", "Sandrine", "Petit", d(1979, 11, 23), "F", "59350",
                           email="sandrine.petit@exemple.fr", mobile="06 00 00 02 01"),
                DemoPerson("enfant", "Emma", "Petit", years_ago(today, 17, 200), "F", "59350"),
                DemoPerson("enfant", "Noah", "Petit", years_ago(today, 9, 15), "M", "59350"),
            ],
        ),
        (
            "Couple né en Corse (2A et 2B)",
            [
                DemoPerson("allocataire", "Antoine", "Santoni", d(1975, 6, 8), "M", "2A004",
                           email="antoine.santoni@exemple.fr"),
                DemoPerson("conjoint", "Maria", "Leca", d(1977, 9, 30), "F", "2B033", usage_name="Santoni",
                           mobile="06 00 00 03 02"),
            ],
        ),
        (
            "Couple né à La Réunion (mobiles +262)",
            [
                DemoPerson("allocataire", "Jean-Marc", "Payet", d(1980, 1, 19), "M", "97411",
                           mobile="+262 692 00 04 01"),
                DemoPerson("conjoint", "Nadia", "Hoarau", d(1983, 5, 5), "F", "97416", usage_name="Payet",
                           email="nadia.hoarau@exemple.fr", mobile="0692 00 04 02"),
                DemoPerson("enfant", "Enzo", "Payet", years_ago(today, 15, 30), "M", "97411"),
            ],
        ),
        (
            "Couple né à l'étranger (Maroc)",
            [
                DemoPerson("allocataire", "Karim", "Benali", d(1978, 4, 12), "M", birth_country="99350",
                           email="karim.benali@exemple.fr", mobile="06 00 00 05 01"),
                DemoPerson("conjoint", "Samira", "Alaoui", d(1981, 12, 1), "F", birth_country="99350",
                           usage_name="Benali", mobile="06 00 00 05 02"),
                DemoPerson("enfant", "Yanis", "Benali", years_ago(today, 8, 70), "M", "13055"),
            ],
        ),
        (
            "Allocataire avec un NIA (numéro d'attente)",
            [
                DemoPerson("allocataire", "Fatou", "Diop", d(1990, 2, 17), "F", birth_country="99341",
                           nir_sex_digit="8", email="fatou.diop@exemple.fr", mobile="06 00 00 06 01"),
                DemoPerson("enfant", "Moussa", "Diop", years_ago(today, 4, 12), "M", "33063"),
            ],
        ),
        (
            "Conjointe sans NIR (identifiant provisoire)",
            [
                DemoPerson("allocataire", "Paulo", "Ferreira", d(1986, 8, 22), "M", birth_country="99139",
                           email="paulo.ferreira@exemple.fr", mobile="06 00 00 07 01"),
                DemoPerson("conjoint", "Ana Maria", "Costa", d(1988, 10, 3), "F", birth_country="99139",
                           has_nir=False, mobile="06 00 00 07 02"),
            ],
        ),
        (
            "Allocataire hébergeant sa mère (autre personne)",
            [
                DemoPerson("allocataire", "Isabelle", "Moreau", d(1968, 5, 28), "F", "31555",
                           email="isabelle.moreau@exemple.fr"),
                DemoPerson("autre", "Simone Marie", "Moreau", d(1942, 3, 9), "F", "31555"),
            ],
        ),
        (
            "Allocataire sans aucune coordonnée connue",
            [DemoPerson("allocataire", "Michel", "Laurent", d(1955, 12, 24), "M", "76540")],
        ),
        (
            "Couple partageant une adresse e-mail",
            [
                DemoPerson("allocataire", "Nicolas", "Girard", d(1987, 2, 11), "M", "44109",
                           email="famille.girard@exemple.fr", mobile="06 00 00 10 01"),
                DemoPerson("conjoint", "Camille", "Roux", d(1989, 6, 16), "F", "35238", usage_name="Girard",
                           email="famille.girard@exemple.fr"),
                DemoPerson("enfant", "Jade", "Girard", years_ago(today, 2, 50), "F", "44109"),
            ],
        ),
        (
            "Allocataire né en Guadeloupe (mobile +590)",
            [
                DemoPerson("allocataire", "Rose", "Jean-Baptiste", d(1992, 9, 9), "F", "97120",
                           mobile="+590 690 00 11 01"),
            ],
        ),
    ]  # fmt: skip


def _random_case(rng: random.Random, today: date, index: int) -> tuple[str, list[DemoPerson]]:
    """A random household: couple or single, with or without children, births mostly in mainland France."""

    def birthplace() -> tuple[str, str]:
        draw = rng.random()
        if draw < 0.08:
            return "", rng.choice(COUNTRIES)
        if draw < 0.13:
            return rng.choice(OVERSEAS), FRANCE
        if draw < 0.16:
            return rng.choice(CORSICA), FRANCE
        return rng.choice(COMMUNES), FRANCE

    def adult(role: str, sex: str, surname: str, birth_name: str | None = None) -> DemoPerson:
        first = rng.choice(MALE_NAMES if sex == "M" else FEMALE_NAMES)
        place, country = birthplace()
        login = f"{first}.{birth_name or surname}{index}".lower()
        login = login.translate(str.maketrans("éèëêïîàçö", "eeeeiiaco")).replace(" ", "-")
        return DemoPerson(
            role,
            first,
            birth_name or surname,
            years_ago(today, rng.randint(22, 75), rng.randint(0, 364)),
            sex,
            place,
            country,
            usage_name=surname if birth_name and rng.random() < 0.6 else "",
            email=f"{login}@exemple.fr" if rng.random() < 0.7 else "",
            mobile=f"06 00 {10 + index // 10000 % 90:02d} {index // 100 % 100:02d} {index % 100:02d}"
            if rng.random() < 0.6 and role == "allocataire"
            else "",
        )

    surname = rng.choice(SURNAMES)
    holder_sex = rng.choice("MF")
    members = [adult("allocataire", holder_sex, surname)]
    couple = rng.random() < 0.6
    if couple:
        partner_sex = "F" if holder_sex == "M" else "M"
        partner_birth_name = rng.choice(SURNAMES) if partner_sex == "F" else surname
        members.append(adult("conjoint", partner_sex, surname, partner_birth_name))
    children = rng.choice([0, 0, 1, 1, 2, 2, 3]) if couple or rng.random() < 0.5 else 0
    names_taken = {member.given_names for member in members}
    youngest_parent_age = min((today - member.birth_date).days for member in members)
    for _ in range(children):
        sex = rng.choice("MF")
        first = rng.choice([n for n in (MALE_NAMES if sex == "M" else FEMALE_NAMES) if n not in names_taken])
        names_taken.add(first)
        place = members[0].birthplace or rng.choice(COMMUNES)
        members.append(
            DemoPerson(
                "enfant",
                first,
                surname,
                today - timedelta(days=rng.randint(30, min(20 * 365, youngest_parent_age - 18 * 365))),
                sex,
                place,
                has_nir=rng.random() < 0.97,
            )
        )
    profile = ("Couple" if couple else "Personne seule") + (f", {children} enfant(s)" if children else "")
    return profile, members


def build_demo_cases(*, seed: int = DEFAULT_SEED, count: int = DEFAULT_CASE_COUNT, today: date | None = None):
    """The hand-written profiles, then random households up to `count` cases. Deterministic for a seed and a day."""
    today = today or timezone.localdate()
    rng = random.Random(seed)
    drafts = _curated_cases(today)[:count]
    drafts += [_random_case(rng, today, index) for index in range(len(drafts), count)]

    numbers: set[str] = set()
    nirs: set[str] = set()
    cases = []
    for profile, members in drafts:
        number = f"{rng.randrange(1_000_000, 10_000_000):07d}"
        while number in numbers:
            number = f"{rng.randrange(1_000_000, 10_000_000):07d}"
        numbers.add(number)
        for person in members:
            if person.has_nir:
                person.nir = _make_nir(rng, person, nirs)
        pin = f"{rng.randrange(10**8):08d}"
        cases.append(DemoCase(number=number, pin=pin, profile=profile, members=members))
    return cases


def _make_nir(rng: random.Random, person: DemoPerson, taken: set[str]) -> str:
    """S YY MM + birthplace (5 characters: commune code, or 99 + country) + order: consistent with the birth data."""
    sex = person.nir_sex_digit or ("1" if person.sex == "M" else "2")
    place = person.birthplace if person.birth_country == FRANCE else person.birth_country
    prefix = f"{sex}{person.birth_date:%y%m}{place}"
    while True:
        nir = f"{prefix}{rng.randint(1, 999):03d}"
        if nir not in taken:
            taken.add(nir)
            return nir


def demo_rows(cases: list[DemoCase]) -> list[list[str]]:
    return [
        [
            case.number,
            case.pin,
            person.role,
            person.nir_with_key,
            person.birth_name,
            person.usage_name,
            person.given_names,
            person.birth_date.isoformat(),
            person.sex,
            person.birthplace,
            person.birth_country,
            person.email,
            person.mobile,
        ]
        for case in cases
        for person in case.members
    ]


def write_demo_csv(cases: list[DemoCase], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as output:
        writer = csv.writer(output, delimiter=";", lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(demo_rows(cases))
    return path
