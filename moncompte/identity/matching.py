"""Finding the one person of the registry a pivot identity describes (FranceConnect gives no NIR), or nobody.

The pivot identity is the one every French administration shares: birth name, given names, birth date, sex, birth
place (INSEE commune) or, when born abroad, birth country. A person matches when
- birth date and sex are equal, and the birth place (France) or the birth country (abroad) is;
- the birth names are equal once folded (accents, case, hyphens, apostrophes and spaces do not count);
- the first given names agree: the first given name of one, folded, is the start of the other's given names
  folded ("Jean-Pierre" and "Jean Pierre Marie" agree; "Jean" and "Marie Jean" do not);
- the person's NIR, when they have one, agrees with the identity on its own digits: sex (1, 3, 7 for men; 2, 4, 8
  for women), year and month of birth (a month code of 20 and above means "unknown" and agrees with any), and place
  (characters 6 to 10 are the INSEE code of the commune, or 99 and the country).
Exactly one candidate is a match; none or two and more is nobody (`Found.SEVERAL` says which, so that the person
can be told why). E-mail addresses are never compared: spouses share them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum

from moncompte.identity.models import FRANCE, Person, Sex
from moncompte.lib.text import fold

_MALE_DIGITS = frozenset("137")
_FEMALE_DIGITS = frozenset("248")


@dataclass(frozen=True)
class PivotIdentity:
    birth_name: str
    given_names: str  # all of them, space-separated
    birth_date: datetime.date
    sex: str  # Sex.MALE or Sex.FEMALE
    birthplace: str  # INSEE commune code, "" when born abroad
    birth_country: str  # INSEE country code, 99100 for France

    def __repr__(self) -> str:
        # No name nor birth date in tracebacks and logs.
        return f"PivotIdentity(sex={self.sex}, born_abroad={self.birth_country != FRANCE})"


class Found(StrEnum):
    ONE = "one"
    NONE = "none"
    SEVERAL = "several"


@dataclass(frozen=True)
class Match:
    found: Found
    person: Person | None = None


def match_person(identity: PivotIdentity) -> Match:
    candidates = Person.objects.filter(birth_date=identity.birth_date, sex=identity.sex)
    if identity.birth_country == FRANCE:
        candidates = candidates.filter(birth_country=FRANCE, birthplace=identity.birthplace)
    else:
        candidates = candidates.filter(birth_country=identity.birth_country)
    birth_name = fold(identity.birth_name)
    found = [
        person
        for person in candidates
        if fold(person.birth_name) == birth_name
        and given_names_agree(person.given_names, identity.given_names)
        and nir_agrees(person.nir, identity)
    ]
    if not found:
        return Match(Found.NONE)
    if len(found) > 1:
        return Match(Found.SEVERAL)
    return Match(Found.ONE, found[0])


def given_names_agree(ours: str, theirs: str) -> bool:
    """The first given name of one, folded, starts the other's given names folded (either way round)."""
    ours_words, theirs_words = ours.split(), theirs.split()
    if not ours_words or not theirs_words:
        return False
    ours_first, theirs_first = fold(ours_words[0]), fold(theirs_words[0])
    if not ours_first or not theirs_first:
        return False
    return _starts_at_a_name(theirs_words, ours_first) or _starts_at_a_name(ours_words, theirs_first)


def _starts_at_a_name(words: list[str], first: str) -> bool:
    """`first` is the folding of the first one or several of `words` (so "jeanpierre" fits "Jean Pierre Marie")."""
    folded = ""
    for word in words:
        folded += fold(word)
        if folded == first:
            return True
        if len(folded) >= len(first):
            return False
    return False


def nir_agrees(nir: str | None, identity: PivotIdentity) -> bool:
    """Whether a NIR's own digits (sex, year and month of birth, place) agree with the identity; True without NIR."""
    if not nir:
        return True
    sex_digits = _MALE_DIGITS if identity.sex == Sex.MALE else _FEMALE_DIGITS
    if nir[0] not in sex_digits:
        return False
    if nir[1:3] != f"{identity.birth_date.year % 100:02d}":
        return False
    month = int(nir[3:5])
    if month <= 12 and month != identity.birth_date.month:
        return False
    place = identity.birthplace if identity.birth_country == FRANCE else identity.birth_country
    return nir[5:10] == place
