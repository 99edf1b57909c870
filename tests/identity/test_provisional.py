"""Provisional identifiers (issue 11, item 6): "P", 10 digits and their mod-97 key; typed as people type them; never
confused with a NIR, a NIA included; never issued twice, a retired one included."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moncompte.identity import provisional
from moncompte.identity.nir import NirError, nir_key, parse_nir
from moncompte.identity.provisional import (
    ProvisionalIdError,
    free_provisional_ids,
    new_provisional_id,
    parse_login_identifier,
    parse_provisional_id,
    provisional_grouped,
)
from tests.factories import PersonFactory, make_nir

INVALID = "Cet identifiant provisoire n'est pas valide : vérifiez-le sur le courrier ou le récépissé de la Caf."
IS_NIR = (
    "Ce numéro est un numéro de Sécurité sociale, pas un identifiant provisoire : connectez-vous avec lui depuis la "
    "page de connexion."
)
VALID = "P123456789095"  # 97 - 1234567890 % 97 = 95


def with_key(digits: str) -> str:
    return f"P{digits}{97 - int(digits) % 97:02d}"


def refusal(text) -> ProvisionalIdError:
    with pytest.raises(ProvisionalIdError) as caught:
        parse_provisional_id(text)
    return caught.value


# --- The format --------------------------------------------------------------------------------------------------


def test_the_example_has_the_key_of_its_ten_digits():
    assert with_key("1234567890") == VALID
    assert parse_provisional_id(VALID) == VALID


def test_a_new_identifier_is_p_then_ten_digits_and_their_key_and_parses():
    for _ in range(200):
        value = new_provisional_id()
        assert re.fullmatch(r"P[0-9]{12}", value)
        assert int(value[11:]) == 97 - int(value[1:11]) % 97
        assert 1 <= int(value[11:]) <= 97
        assert parse_provisional_id(value) == value


@pytest.mark.parametrize(
    "typed",
    [
        "P123456789095",
        "p123456789095",
        "P 12345 67890 95",
        "p.12345.67890.95",
        "P-12345-67890-95",
        "  P 1234 5678 9095\t",
        "P\u00a012345\u202f67890\u00a095",  # non-breaking spaces, as a word processor pastes them
        "P\u201112345\u201367890\u201495",  # typographic dashes
    ],
)
def test_spaces_dots_dashes_and_a_lower_case_p_are_accepted(typed):
    assert parse_provisional_id(typed) == VALID


def test_it_is_shown_grouped_for_reading():
    assert provisional_grouped(VALID) == "P 12345 67890 95"
    assert parse_provisional_id(provisional_grouped(VALID)) == VALID


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("P123456789096", id="wrong key"),
        pytest.param("P123456789000", id="key 00"),
        pytest.param("P123456789098", id="key above 97"),
        pytest.param("P12345678909", id="12 characters"),
        pytest.param("P1234567890951", id="14 characters"),
        pytest.param("P12345A789095", id="a letter among the digits"),
        pytest.param("Q123456789095", id="another letter first"),
        pytest.param("PP23456789095", id="two letters"),
        pytest.param("123456789095P", id="the letter last"),
        pytest.param("P12345678909\uff15", id="a full-width digit"),
        pytest.param("P" + "1" * 60, id="far too long"),
        pytest.param("1234567", id="a case number"),
    ],
)
def test_what_is_not_a_provisional_identifier_is_refused_with_the_french_message(typed):
    error = refusal(typed)

    assert isinstance(error, ValueError)
    assert str(error.message) == INVALID


def test_an_empty_input_asks_for_the_identifier():
    assert refusal("  ").code == refusal(None).code == "required"


def test_the_message_never_repeats_what_was_typed():
    assert "123456789096" not in str(refusal("P123456789096"))


def test_a_one_digit_mistake_or_a_swap_of_two_neighbours_is_caught_by_the_key():
    for position in range(1, 11):
        for digit in "0123456789":
            changed = VALID[:position] + digit + VALID[position + 1 :]
            if changed != VALID:
                with pytest.raises(ProvisionalIdError):
                    parse_provisional_id(changed)
        if position < 10 and VALID[position] != VALID[position + 1]:
            swapped = VALID[:position] + VALID[position + 1] + VALID[position] + VALID[position + 2 :]
            with pytest.raises(ProvisionalIdError):
                parse_provisional_id(swapped)


# --- Never a NIR, never both -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nir",
    [
        pytest.param(make_nir(sex="1", seq=17), id="NIR"),
        pytest.param(make_nir(sex="7", seq=18), id="NIA, sex 7"),
        pytest.param(make_nir(sex="8", seq=19), id="NIA, sex 8"),
        pytest.param("175062A004012", id="Corsica"),
    ],
)
def test_a_nir_or_a_nia_is_refused_and_said_to_be_a_nir(nir):
    assert parse_nir(nir).value == nir
    for typed in (nir, f"{nir}{nir_key(nir):02d}"):
        error = refusal(typed)
        assert (error.code, str(error.message)) == ("is_nir", IS_NIR)
        assert parse_login_identifier(typed) == nir  # it signs in as a NIR


def _accepted(parser, text: str) -> bool:
    try:
        parser(text)
    except ValueError:
        return False
    return True


_TYPED = st.text(alphabet="0123456789ABPp .-2", min_size=0, max_size=20)


@given(_TYPED)
def test_no_string_is_both_a_nir_and_a_provisional_identifier(text):
    assert not (_accepted(parse_nir, text) and _accepted(parse_provisional_id, text))


@given(st.from_regex(r"\A[0-9]{10}\Z"))
def test_every_valid_provisional_identifier_is_refused_by_the_nir_parser(digits):
    value = with_key(digits)
    assert parse_provisional_id(value) == value
    with pytest.raises(NirError):
        parse_nir(value)
    assert parse_login_identifier(value.lower()) == value


@given(_TYPED)
def test_the_login_identifier_is_what_one_of_the_two_parsers_accepts(text):
    expected = None
    if _accepted(parse_nir, text):
        expected = parse_nir(text).value
    elif _accepted(parse_provisional_id, text):
        expected = parse_provisional_id(text)
    try:
        assert parse_login_identifier(text) == expected
    except ValueError:
        assert expected is None


# --- Issuing -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_free_identifiers_skip_the_ones_held_and_the_ones_retired(monkeypatch):
    held, retired, fresh = with_key("1111111111"), with_key("2222222222"), with_key("3333333333")
    PersonFactory(nir=None, provisional_id=held)
    PersonFactory(retired_provisional_id=retired)
    draws = iter([held, retired, fresh])
    monkeypatch.setattr(provisional, "new_provisional_id", lambda: next(draws))

    assert free_provisional_ids(1) == [fresh]
