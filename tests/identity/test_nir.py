"""Tests of the NIR (French social-security number) parser. No database needed."""

import os
import pickle

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
    # Standalone run, without the project's pytest configuration: just enough for gettext_lazy to render.
    settings.configure(USE_I18N=False)

from moncompte.identity.nir import Nir, NirError, nir_grouped, nir_key, normalise_nir, parse_nir

# Reference numbers. Keys hand-computed as 97 - (N mod 97):
#   2 55 08 14 168 025: N = 2550814168025 = 97 x 26297053278 + 59, key 97 - 59 = 38 (the classic textbook example)
#   1 84 05 75 123 456: N = 1840575123456 = 97 x 18975001272 + 72, key 97 - 72 = 25
#   2 97 12 971 05 123: N = 2971297105123 = 97 x 30631928918 + 77, key 97 - 77 = 20 (overseas)
#   1 85 05 99 135 042: N = 1850599135042 = 97 x 19078341598 + 36, key 97 - 36 = 61 (born abroad)
#   7 90 03 99 123 456: N = 7900399123456 = 97 x 81447413643 + 85, key 97 - 85 = 12 (NIA)
#   8 90 12 75 999 001: N = 8901275999001 = 97 x 91765731948 + 45, key 97 - 45 = 52 (waiting number)
# Corsica, 2A read as 19 and 2B as 18:
#   1 80 06 2A 012 345: N = 1800619012345 = 97 x 18563082601 + 48, key 97 - 48 = 49
#   1 80 06 2B 012 345: N = 1800618012345 = 97 x 18563072292 + 21, key 97 - 21 = 76
#   1 80 06 20 012 345: N = 1800620012345 = 97 x 18563092910 + 75, key 97 - 75 = 22 (old Corsican "20")
TEXTBOOK = "255081416802538"
PARIS = "184057512345625"
OVERSEAS = "297129710512320"
ABROAD = "185059913504261"
NIA = "790039912345612"
WAITING = "890127599900152"
CORSICA_2A = "180062A01234549"
CORSICA_2B = "180062B01234576"
CORSICA_20 = "180062001234522"

MSG_LENGTH_11 = (
    "Le numéro de Sécurité sociale doit comporter 13 caractères (ou 15 avec la clé) : vous en avez saisi 11."
)
MSG_KEY_MISMATCH = (
    "La clé de contrôle ne correspond pas au numéro saisi. Vérifiez les deux derniers chiffres sur votre carte Vitale."
)
MSG_SEX = "Le premier chiffre (sexe) doit être 1, 2, 3, 4, 7 ou 8."
MSG_MONTH = (
    "Le mois de naissance (4e et 5e caractères) doit être compris entre 01 et 12, entre 20 et 42, ou entre 50 et 99."
)
MSG_CHARACTERS = "Le numéro ne peut contenir que des chiffres, sauf 2A ou 2B pour la Corse."
MSG_REQUIRED = "Saisissez votre numéro de Sécurité sociale."


def refusal(raw):
    with pytest.raises(NirError) as excinfo:
        parse_nir(raw)
    return excinfo.value


def with_key(nir13):
    return f"{nir13}{nir_key(nir13):02d}"


# --- Valid numbers ---------------------------------------------------------------------------------------------


def test_a_15_character_number_with_the_right_key_is_split_into_its_parts():
    nir = parse_nir(TEXTBOOK)
    assert nir == Nir(
        value="2550814168025",
        sex="2",
        year="55",
        month="08",
        department="14",
        commune="168",
        order="025",
        key="38",
    )


def test_a_13_character_number_without_key_is_accepted_and_its_key_computed():
    nir = parse_nir("2550814168025")
    assert nir.value == "2550814168025"
    assert nir.key == "38"
    assert nir.with_key == TEXTBOOK


def test_the_13_and_15_character_forms_give_the_same_nir():
    assert parse_nir(PARIS[:13]) == parse_nir(PARIS)


@pytest.mark.parametrize(
    "raw",
    [
        "2 55 08 14 168 025 38",
        "2.55.08.14.168.025.38",
        "2-55-08-14-168-025-38",
        "2\u00a055\u00a008\u00a014\u00a0168\u00a0025\u00a038",
        "2\u202f55\u202f08\u202f14\u202f168\u202f025\u202f38",
        "  255 0814 16 80 2538\t\n",
        "2 55 08 14 168 025 - 38",
        "\u200b255081416802538\ufeff",
        "2\u201355\u201308\u201314\u2013168\u2013025\u201338",
    ],
)
def test_spaces_dots_hyphens_and_non_breaking_spaces_are_tolerated_anywhere(raw):
    assert parse_nir(raw).with_key == TEXTBOOK


def test_value_never_includes_the_key():
    assert parse_nir(PARIS).value == "1840575123456"
    assert len(parse_nir(PARIS).value) == 13


def test_a_key_below_ten_is_zero_padded():
    # Look for an order number giving a key below 10 rather than hard-coding one.
    nir13 = next(f"18405751234{n:02d}" for n in range(1, 100) if nir_key(f"18405751234{n:02d}") < 10)
    nir = parse_nir(nir13)
    assert len(nir.key) == 2
    assert nir.key.startswith("0")
    assert parse_nir(nir.with_key) == nir


@pytest.mark.parametrize("sex", ["1", "2", "3", "4", "7", "8"])
def test_every_allowed_sex_digit_is_accepted(sex):
    nir13 = sex + "840575123456"
    assert parse_nir(with_key(nir13)).sex == sex


@pytest.mark.parametrize("month", ["01", "09", "12", "20", "30", "42", "50", "75", "99"])
def test_real_months_and_unknown_month_conventions_are_accepted(month):
    nir13 = f"184{month}75123456"
    assert parse_nir(with_key(nir13)).month == month


@pytest.mark.parametrize("department", ["01", "09", "19", "20", "21", "75", "94", "95"])
def test_metropolitan_departments_are_accepted(department):
    nir13 = f"18405{department}123456"
    nir = parse_nir(with_key(nir13))
    assert nir.department == department
    assert nir.commune == "123"
    assert not nir.is_overseas
    assert not nir.is_born_abroad


def test_year_can_be_any_two_digits():
    assert parse_nir(with_key("1000575123456")).year == "00"
    assert parse_nir(with_key("1990575123456")).year == "99"


# --- Corsica ---------------------------------------------------------------------------------------------------


def test_corsica_2a_is_read_as_19_for_the_key():
    assert nir_key("180062A012345") == 49
    assert nir_key("180062A012345") == nir_key("1800619012345")


def test_corsica_2b_is_read_as_18_for_the_key():
    assert nir_key("180062B012345") == 76
    assert nir_key("180062B012345") == nir_key("1800618012345")


def test_a_corsican_number_keeps_2a_in_its_value_and_department():
    nir = parse_nir(CORSICA_2A)
    assert nir.value == "180062A012345"
    assert nir.department == "2A"
    assert nir.commune == "012"
    assert nir.key == "49"


def test_a_corsican_number_with_2b_is_accepted():
    nir = parse_nir("1 80 06 2B 012 345 76")
    assert nir.department == "2B"
    assert nir.key == "76"


def test_lowercase_2a_and_2b_are_accepted_and_uppercased():
    assert parse_nir("1 80 06 2a 012 345 49").value == "180062A012345"
    assert parse_nir("180062b01234576").department == "2B"


def test_the_old_corsican_department_20_is_accepted():
    nir = parse_nir(CORSICA_20)
    assert nir.department == "20"
    assert nir.key == "22"


def test_2a_2b_and_20_give_different_keys():
    assert len({nir_key("180062A012345"), nir_key("180062B012345"), nir_key("1800620012345")}) == 3


def test_a_2a_number_with_the_key_computed_from_20_is_refused():
    assert refusal("180062A01234522").code == "key_mismatch"


# --- Overseas and born abroad ----------------------------------------------------------------------------------


def test_an_overseas_number_has_a_three_digit_department_and_a_two_digit_commune():
    nir = parse_nir("2 97 12 971 05 123 20")
    assert nir.department == "971"
    assert nir.commune == "05"
    assert nir.order == "123"
    assert nir.key == "20"
    assert nir.is_overseas


@pytest.mark.parametrize("department", ["971", "972", "973", "974", "976", "979", "981", "984", "987", "988", "989"])
def test_overseas_departments_971_to_979_and_981_to_989_are_accepted(department):
    nir = parse_nir(with_key(f"29712{department}05123"))
    assert nir.department == department
    assert nir.commune == "05"


def test_a_person_born_abroad_has_department_99_and_a_country_code():
    nir = parse_nir(ABROAD)
    assert nir.department == "99"
    assert nir.commune == "135"
    assert nir.is_born_abroad
    assert not nir.is_overseas


@pytest.mark.parametrize("country", ["001", "100", "352", "990"])
def test_country_codes_001_to_990_are_accepted(country):
    nir = parse_nir(with_key(f"1850599{country}042"))
    assert nir.department == "99"
    assert nir.commune == country


# --- Waiting numbers (NIA) -------------------------------------------------------------------------------------


def test_a_nia_starting_with_7_is_accepted_and_flagged_as_waiting_number():
    nir = parse_nir(NIA)
    assert nir.sex == "7"
    assert nir.is_waiting_number


def test_a_waiting_number_starting_with_8_is_accepted_and_flagged():
    nir = parse_nir(WAITING)
    assert nir.sex == "8"
    assert nir.is_waiting_number


@pytest.mark.parametrize("raw", [TEXTBOOK, PARIS, OVERSEAS, ABROAD, CORSICA_2A])
def test_ordinary_numbers_are_not_waiting_numbers(raw):
    assert not parse_nir(raw).is_waiting_number


# --- Display ---------------------------------------------------------------------------------------------------


def test_masked_shows_only_sex_year_and_month():
    assert parse_nir(PARIS).masked == "1 84 05 •• ••• ••• ••"


def test_masked_has_the_same_shape_for_overseas_corsica_and_abroad():
    assert parse_nir(OVERSEAS).masked == "2 97 12 •• ••• ••• ••"
    assert parse_nir(CORSICA_2A).masked == "1 80 06 •• ••• ••• ••"
    assert parse_nir(ABROAD).masked == "1 85 05 •• ••• ••• ••"


def test_with_key_is_the_15_characters():
    assert parse_nir("1 84 05 75 123 456").with_key == PARIS
    assert parse_nir(CORSICA_2B).with_key == CORSICA_2B


def test_repr_does_not_reveal_the_number():
    text = repr(parse_nir(PARIS))
    assert "123456" not in text
    assert "75123" not in text
    assert "1 84 05" in text


def test_nir_is_immutable():
    nir = parse_nir(PARIS)
    with pytest.raises(AttributeError):
        nir.value = "2550814168025"


# --- Helpers ---------------------------------------------------------------------------------------------------


def test_normalise_nir_strips_separators_and_uppercases_without_validating():
    assert normalise_nir(" 2 55.08-14\u00a0168\u202f025 38 ") == TEXTBOOK
    assert normalise_nir("2a") == "2A"
    assert normalise_nir("abc 12") == "ABC12"
    assert normalise_nir("") == ""


def test_nir_key_of_the_textbook_example_is_38():
    assert nir_key("2550814168025") == 38
    assert nir_key("2 55 08 14 168 025") == 38


def test_nir_key_is_between_1_and_97():
    assert nir_key("0000000000097") == 97  # 97 mod 97 = 0, so the key is 97, never 0
    assert nir_key("0000000000096") == 1


def test_nir_key_refuses_anything_but_13_characters():
    with pytest.raises(NirError) as excinfo:
        nir_key("255081416802")
    assert excinfo.value.code == "length"
    with pytest.raises(NirError) as excinfo:
        nir_key("25508141680X5")
    assert excinfo.value.code == "invalid_characters"


def test_nir_error_is_a_value_error_with_message_and_code():
    err = refusal("")
    assert isinstance(err, ValueError)
    assert err.code == "required"
    assert str(err) == MSG_REQUIRED


def test_nir_error_survives_pickling():
    err = pickle.loads(pickle.dumps(refusal("12345678901")))  # noqa: S301 (our own bytes)
    assert err.code == "length"
    assert str(err.message) == MSG_LENGTH_11


# --- Refusals and their messages -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "   ", "\u00a0", " . - ", None])
def test_an_empty_input_asks_for_the_number(raw):
    err = refusal(raw)
    assert err.code == "required"
    assert str(err.message) == MSG_REQUIRED


def test_a_too_short_number_says_how_many_characters_were_typed():
    err = refusal("1 84 05 75 123 4")
    assert err.code == "length"
    assert str(err.message) == MSG_LENGTH_11


@pytest.mark.parametrize(
    "raw, count", [("1", 1), ("18405751234", 11), ("18405751234562", 14), ("1840575123456255", 16)]
)
def test_every_wrong_length_is_refused_with_the_count(raw, count):
    err = refusal(raw)
    assert err.code == "length"
    assert str(err.message).endswith(f"vous en avez saisi {count}.")


def test_an_oversized_input_is_refused_early():
    err = refusal("1" * 41)
    assert err.code == "too_long"
    assert str(err.message) == (
        "Le numéro saisi est trop long. Un numéro de Sécurité sociale comporte 13 caractères (ou 15 avec la clé)."
    )


def test_an_input_of_exactly_40_characters_with_separators_is_still_read():
    raw = "2 55 08 14 168 025 38".center(40)
    assert len(raw) == 40
    assert parse_nir(raw).with_key == TEXTBOOK


def test_a_huge_input_is_refused_without_trouble():
    assert refusal("9" * 1_000_000).code == "too_long"


@pytest.mark.parametrize(
    "raw",
    [
        "1 84 O5 75 123 456 25",  # letter O instead of zero
        "1840575123456X",
        "1A40575123456",  # A outside the département
        "18405A2123456",  # A2 instead of 2A
        "184053A123456",  # 3A is not Corsica
        "184052C123456",  # 2C is not Corsica
        "180062A0123AB",  # letters in the key
        "1840575123456/25",
        "1840575123456_25",
        "184057512345\u0665",  # Arabic-Indic digit five
        "".join(chr(0xFF10 + int(c)) for c in "1840575123456"),  # full-width digits
        "+1840575123456",
    ],
)
def test_letters_and_other_characters_are_refused(raw):
    err = refusal(raw)
    assert err.code == "invalid_characters"
    assert str(err.message) == MSG_CHARACTERS


@pytest.mark.parametrize("sex", ["0", "5", "6", "9"])
def test_a_wrong_sex_digit_is_refused(sex):
    err = refusal(sex + "840575123456")
    assert err.code == "sex"
    assert str(err.message) == MSG_SEX


@pytest.mark.parametrize("month", ["00", "13", "15", "19", "43", "45", "49"])
def test_an_impossible_month_is_refused(month):
    err = refusal(f"184{month}75123456")
    assert err.code == "month"
    assert str(err.message) == MSG_MONTH


@pytest.mark.parametrize("department", ["00", "96"])
def test_an_impossible_department_is_refused(department):
    err = refusal(f"18405{department}123456")
    assert err.code == "department"
    assert str(err.message) == (
        "Le département de naissance (6e et 7e caractères) doit être compris entre 01 et 95, ou valoir 2A ou 2B "
        "(Corse), 97 ou 98 (outre-mer), ou 99 (naissance à l'étranger)."
    )


@pytest.mark.parametrize("department", ["970", "980"])
def test_an_overseas_department_ending_in_zero_is_refused(department):
    err = refusal(f"29712{department}05123")
    assert err.code == "overseas_department"
    assert str(err.message) == (
        "Pour une naissance en outre-mer, le département de naissance (6e, 7e et 8e caractères) doit être compris "
        "entre 971 et 979 ou entre 981 et 989."
    )


def test_commune_000_is_refused():
    err = refusal("1840575000456")
    assert err.code == "commune"
    assert str(err.message) == "La commune de naissance (8e, 9e et 10e caractères) ne peut pas être 000."


def test_commune_000_is_refused_in_corsica_too():
    assert refusal("180062A000345").code == "commune"


def test_overseas_commune_00_is_refused():
    err = refusal("2971297100123")
    assert err.code == "overseas_commune"
    assert str(err.message) == (
        "Pour une naissance en outre-mer, la commune de naissance (9e et 10e caractères) ne peut pas être 00."
    )


@pytest.mark.parametrize("country", ["000", "991", "999"])
def test_a_country_code_outside_001_to_990_is_refused(country):
    err = refusal(f"1850599{country}042")
    assert err.code == "country"
    assert str(err.message) == (
        "Pour une naissance à l'étranger, le code du pays de naissance (8e, 9e et 10e caractères) doit être compris "
        "entre 001 et 990."
    )


@pytest.mark.parametrize("nir13", ["1840575123000", "2971297105000", "1850599135000", "180062A012000"])
def test_order_000_is_refused(nir13):
    err = refusal(nir13)
    assert err.code == "order"
    assert str(err.message) == "Le numéro d'ordre (11e, 12e et 13e caractères) ne peut pas être 000."


@pytest.mark.parametrize("key", ["00", "98", "99"])
def test_a_key_outside_01_to_97_is_refused(key):
    err = refusal("1840575123456" + key)
    assert err.code == "key_range"
    assert str(err.message) == "La clé de contrôle (les deux derniers chiffres) doit être comprise entre 01 et 97."


@pytest.mark.parametrize("raw", ["184057512345624", "184057512345626", "255081416802583", "180062A01234576"])
def test_a_wrong_key_is_refused(raw):
    err = refusal(raw)
    assert err.code == "key_mismatch"
    assert str(err.message) == MSG_KEY_MISMATCH


def test_swapping_two_digits_is_caught_by_the_key():
    # 1 84 05 75 123 465 instead of ... 456, with the key of the right number.
    assert refusal("184057512346525").code == "key_mismatch"


def test_the_message_never_contains_the_number():
    for raw in ["184057512345624", "1840575000456", "5840575123456", "18405751234"]:
        assert "1234" not in str(refusal(raw).message)


def test_parse_nir_refuses_non_strings_as_a_programming_error():
    with pytest.raises(TypeError):
        parse_nir(1840575123456)


# --- Properties ------------------------------------------------------------------------------------------------


def _digits(width, low, high):
    return st.integers(low, high).map(lambda n: f"{n:0{width}d}")


_metropolitan = st.tuples(
    st.one_of(_digits(2, 1, 19), _digits(2, 20, 95), st.sampled_from(["2A", "2B"])),
    _digits(3, 1, 999),
)
_overseas = st.tuples(
    st.one_of(_digits(3, 971, 979), _digits(3, 981, 989)),
    _digits(2, 1, 99),
)
_abroad = st.tuples(st.just("99"), _digits(3, 1, 990))


@st.composite
def valid_nir13(draw):
    sex = draw(st.sampled_from("123478"))
    year = draw(_digits(2, 0, 99))
    month = draw(st.one_of(_digits(2, 1, 12), _digits(2, 20, 42), _digits(2, 50, 99)))
    department, commune = draw(st.one_of(_metropolitan, _metropolitan, _overseas, _abroad))
    order = draw(_digits(3, 1, 999))
    return sex + year + month + department + commune + order


_fast = hypothesis_settings(max_examples=150, deadline=None, database=None)


@_fast
@given(valid_nir13())
def test_any_valid_number_with_its_key_appended_is_accepted_unchanged(nir13):
    key = nir_key(nir13)
    assert 1 <= key <= 97
    full = f"{nir13}{key:02d}"
    assert len(full) == 15
    nir = parse_nir(full)
    assert nir.value == nir13
    assert nir.with_key == full
    assert nir == parse_nir(nir13)
    assert nir == parse_nir(full.lower())


@_fast
@given(valid_nir13(), st.data())
def test_changing_any_single_digit_of_a_valid_number_is_refused(nir13, data):
    full = f"{nir13}{nir_key(nir13):02d}"
    position = data.draw(st.sampled_from([i for i, c in enumerate(full) if c.isdigit()]))
    replacement = data.draw(st.sampled_from([d for d in "0123456789" if d != full[position]]))
    altered = full[:position] + replacement + full[position + 1 :]
    with pytest.raises(NirError):
        parse_nir(altered)


@_fast
@given(valid_nir13(), st.lists(st.sampled_from([" ", ".", "-", "\u00a0", "\u202f"]), max_size=15), st.randoms())
def test_separators_inserted_anywhere_do_not_change_the_result(nir13, separators, random):
    full = list(f"{nir13}{nir_key(nir13):02d}")
    for separator in separators:
        full.insert(random.randint(0, len(full)), separator)
    assert parse_nir("".join(full)).value == nir13


@_fast
@given(valid_nir13())
def test_masked_never_reveals_more_than_sex_year_and_month(nir13):
    nir = parse_nir(nir13)
    assert nir.masked == f"{nir13[0]} {nir13[1:3]} {nir13[3:5]} •• ••• ••• ••"
    assert nir.value[5:] not in nir.masked


def _parse_or_refuse(raw):
    try:
        result = parse_nir(raw)
    except NirError as err:
        assert err.code
        assert str(err.message)
    else:
        assert isinstance(result, Nir)
        assert len(result.value) == 13
        assert len(result.with_key) == 15


@hypothesis_settings(max_examples=300, deadline=None, database=None)
@given(st.text())
def test_arbitrary_text_only_ever_gives_a_nir_or_a_nir_error(raw):
    _parse_or_refuse(raw)


@hypothesis_settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet="0123456789012345678901234567890123456789AaBb .-\u00a0xé", max_size=20))
def test_nir_like_text_only_ever_gives_a_nir_or_a_nir_error(raw):
    _parse_or_refuse(raw)


@pytest.mark.parametrize(
    ("nir", "grouped"),
    [
        ("1820375112045", "1 82 03 75 112 045"),
        ("182037511204567", "1 82 03 75 112 045 67"),
        ("297129741112320", "2 97 12 974 11 123 20"),
        ("175062A004847", "1 75 06 2A 004 847"),
    ],
)
def test_a_nir_is_grouped_as_the_carte_vitale_prints_it(nir, grouped):
    assert nir_grouped(nir) == grouped
