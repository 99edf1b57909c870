"""Matching a pivot identity (what FranceConnect gives) to exactly one person of the registry, or nobody."""

import datetime

import pytest

from moncompte.identity.matching import Found, PivotIdentity, given_names_agree, match_person, nir_agrees
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

BORN = datetime.date(2009, 5, 4)


def nir_for(*, sex="F", born=BORN, place="75112", order=1) -> str:
    """A NIR whose own digits agree with the identity (sex, year, month, place)."""
    return f"{'2' if sex == 'F' else '1'}{born.year % 100:02d}{born.month:02d}{place}{order:03d}"


def lea(**fields) -> PivotIdentity:
    values = {
        "birth_name": "MARTIN",
        "given_names": "Léa Marie",
        "birth_date": BORN,
        "sex": "F",
        "birthplace": "75112",
        "birth_country": "99100",
    }
    return PivotIdentity(**(values | fields))


def person(**fields):
    values = {
        "birth_name": "Martin",
        "given_names": "Léa",
        "birth_date": BORN,
        "sex": "F",
        "birthplace": "75112",
        "birth_country": "99100",
        "nir": nir_for(),
    }
    return PersonFactory(**(values | fields))


def test_the_one_person_with_the_same_pivot_identity_is_found():
    ours = person()
    PersonFactory(birth_date=BORN, sex="F", birthplace="75112", birth_name="Durand", given_names="Léa")
    match = match_person(lea())
    assert (match.found, match.person) == (Found.ONE, ours)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("Martin", "MARTIN"),
        ("Martin-Dupont", "MARTIN DUPONT"),
        ("N'Diaye", "NDIAYE"),
        ("Lefèvre", "LEFEVRE"),
    ],
)
def test_birth_names_are_compared_without_case_accents_hyphens_or_apostrophes(ours, theirs):
    found = person(birth_name=ours)
    assert match_person(lea(birth_name=theirs)).person == found


@pytest.mark.parametrize(
    ("ours", "theirs", "agree"),
    [
        ("Léa", "Léa Marie", True),  # FranceConnect gives every given name
        ("Léa Marie Jeanne", "LEA", True),
        ("Jean-Pierre", "Jean Pierre Marc", True),  # a hyphen lost on one side
        ("Jean Pierre", "Jean-Pierre", True),
        ("Jean", "Jean-Pierre", False),  # another first given name
        ("Marie Léa", "Léa Marie", False),  # the first given name is what counts
        ("Léa", "Léon", False),
        ("", "Léa", False),
    ],
)
def test_the_first_given_names_must_agree(ours, theirs, agree):
    assert given_names_agree(ours, theirs) is agree


@pytest.mark.parametrize(
    "field",
    [
        {"birth_date": datetime.date(2009, 5, 5)},
        {"sex": "M"},
        {"birthplace": "75113"},
        {"birth_name": "Martini"},
        {"given_names": "Marie Léa"},
    ],
)
def test_any_other_difference_of_the_pivot_identity_is_nobody(field):
    person()
    assert match_person(lea(**field)).found == Found.NONE


def test_a_person_born_abroad_is_matched_on_the_birth_country():
    born_abroad = person(birthplace="", birth_country="99350", nir=nir_for(place="99350"))
    assert match_person(lea(birthplace="", birth_country="99350")).person == born_abroad
    assert match_person(lea(birthplace="", birth_country="99351")).found == Found.NONE


def test_twins_with_the_same_first_given_name_are_nobody_with_a_reason():
    """Twins share birth date, place, sex and birth name: when the given names cannot tell them apart either, we
    choose neither."""
    person(given_names="Léa Anne", nir=nir_for(order=1))
    person(given_names="Léa Marie", nir=nir_for(order=2))
    assert match_person(lea(given_names="Léa")).found == Found.SEVERAL
    # With all her given names, Léa Marie is still "Léa" first: both agree, so nobody either.
    assert match_person(lea(given_names="Léa Marie")).found == Found.SEVERAL


def test_twins_with_different_first_given_names_are_each_themselves():
    lea_ = person(given_names="Léa", nir=nir_for(order=1))
    emma = person(given_names="Emma", nir=nir_for(order=2))
    assert match_person(lea(given_names="Léa")).person == lea_
    assert match_person(lea(given_names="Emma Léa")).person == emma


def test_spouses_sharing_an_e_mail_address_are_never_matched_by_it():
    person(email_on_file="famille@exemple.fr")
    other = lea(birth_name="Bernard", given_names="Paul", sex="M")  # FranceConnect's e-mail would be the same
    assert match_person(other).found == Found.NONE


@pytest.mark.parametrize(
    ("nir", "agrees"),
    [
        (nir_for(), True),
        ("1" + nir_for()[1:], False),  # a man's NIR
        ("4" + nir_for()[1:], True),  # 3 and 4: a number given while the registration was pending
        ("8" + nir_for()[1:], True),  # a waiting number (NIA) of a woman
        (nir_for()[:1] + "08" + nir_for()[3:], False),  # another year
        (nir_for()[:3] + "06" + nir_for()[5:], False),  # another month
        (nir_for()[:3] + "20" + nir_for()[5:], True),  # month unknown when the NIR was given
        (nir_for()[:5] + "75113" + nir_for()[10:], False),  # another commune
        (None, True),  # a provisional identifier: nothing to compare
    ],
)
def test_the_nir_must_agree_with_the_identity_on_its_own_digits(nir, agrees):
    assert nir_agrees(nir, lea()) is agrees


def test_a_person_whose_nir_disagrees_is_not_matched():
    person(nir="1" + nir_for()[1:])
    assert match_person(lea()).found == Found.NONE


def test_a_person_with_a_provisional_identifier_is_matched_on_the_identity():
    provisional = person(nir=None, provisional_id="P123456789012")
    assert match_person(lea()).person == provisional


def test_the_repr_of_an_identity_shows_no_name_nor_date():
    assert "MARTIN" not in repr(lea()) and "2009" not in repr(lea())
