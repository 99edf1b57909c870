"""References: « AL-2026-7KM3-Q9X », the kind, the year, six characters of Crockford's base 32 and a check character
that catches a reference read out on the phone with a typo."""

import itertools
import re

import pytest
from django.utils import timezone

from moncompte.procedures import services
from moncompte.procedures.activity_bonus import ACTIVITY_BONUS
from moncompte.procedures.housing_aid import HOUSING_AID
from moncompte.procedures.models import Submission
from moncompte.procedures.services import _REFERENCE_ALPHABET as ALPHABET
from moncompte.procedures.services import reference_check, reference_is_valid

FORM = re.compile(r"(AL|PA)-(\d{4})-([0-9A-HJKMNP-TV-Z]{4})-([0-9A-HJKMNP-TV-Z]{3})")


def test_the_alphabet_has_no_letter_read_as_a_digit():
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


@pytest.mark.parametrize("kind", [HOUSING_AID, ACTIVITY_BONUS], ids=["AL", "PA"])
def test_a_reference_names_the_kind_and_the_year_and_carries_its_check_character(db, kind):
    now = timezone.now()
    for _ in range(50):
        reference = services._new_reference(kind, now)
        match = FORM.fullmatch(reference)
        assert match, reference
        assert match[1] == kind.code and match[2] == f"{now:%Y}"
        chars = match[3] + match[4]
        assert reference_check(chars[:6]) == chars[6]
        assert reference_is_valid(reference) and reference_is_valid(reference.lower())


def test_every_single_wrong_character_is_caught():
    for chars in ("0000000", "7KM3Q9A", "ZZZZZZ0", "GGGGGG0"):
        chars = chars[:6] + reference_check(chars[:6])
        reference = f"AL-2026-{chars[:4]}-{chars[4:]}"
        assert reference_is_valid(reference)
        for place, wrong in itertools.product(range(7), ALPHABET):
            if wrong == chars[place]:
                continue
            typo = chars[:place] + wrong + chars[place + 1 :]
            assert not reference_is_valid(f"AL-2026-{typo[:4]}-{typo[4:]}"), (chars, place, wrong)


def test_a_swap_of_two_neighbours_is_caught_but_for_0_and_z():
    missed = set()
    for a, b in itertools.permutations(ALPHABET, 2):
        for place in range(5):
            chars = list("7KM3Q9")
            chars[place], chars[place + 1] = a, b
            good = "".join(chars)
            swapped = good[:place] + b + a + good[place + 2 :]
            if reference_check(good) == reference_check(swapped):
                missed.add(frozenset((a, b)))
    assert missed <= {frozenset("0Z")}


@pytest.mark.parametrize(
    "reference",
    [
        "",
        "AL-2026-7KM3",
        "AL-2026-7KM3-Q9XX",
        "AL-26-7KM3-Q9X",
        "AL-2026-7KL3-Q9X",  # L is not in the alphabet
        "AL-\uff12\uff10\uff12\uff16-7KM3-Q9X",  # full-width digits
        "AL2026-7KM3Q9X",
        "AL-2026-7KM3-Q9X\x00",
    ],
)
def test_what_is_not_of_the_form_is_not_a_reference(reference):
    assert not reference_is_valid(reference)


def test_a_reference_already_taken_is_drawn_again(db, fam, monkeypatch):
    from tests.procedures.helpers import housing_draft

    draft = housing_draft(fam.holder, fam.case)
    taken = services.draft_submit(draft=draft, person=fam.holder, seen=services.version(draft)).reference
    draws = iter(taken.replace("-", "")[6:12] + "1234567")
    monkeypatch.setattr(services.secrets, "choice", lambda alphabet: next(draws))
    again = services._new_reference(HOUSING_AID, timezone.now())
    assert again != taken and again.startswith(f"AL-{timezone.now():%Y}-1234-56")
    assert Submission.objects.filter(reference=again).count() == 0


def test_references_are_unique_in_the_database(db, fam):
    from django.db import IntegrityError, transaction

    from tests.procedures.helpers import housing_draft

    draft = housing_draft(fam.holder, fam.case)
    submission = services.draft_submit(draft=draft, person=fam.holder, seen=services.version(draft))
    with pytest.raises(IntegrityError), transaction.atomic():
        Submission.objects.create(
            reference=submission.reference,
            kind=submission.kind,
            author=fam.holder,
            data={},
            submitted_at=timezone.now(),
        )
