"""The fields the procedures share: amounts typed the French way, an IBAN checked by its key, a postcode, a date."""

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from moncompte.procedures.fields import AmountField, IbanField, PastDateField, PostcodeField
from tests.procedures.helpers import IBAN, IBAN_WRONG_KEY

AMOUNT_INVALID = "Indiquez un montant en euros, en chiffres, par exemple 1 234,56."


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1 234,56", Decimal("1234.56")),
        ("1234.56", Decimal("1234.56")),
        ("1 234 €", Decimal("1234.00")),
        ("1\u00a0234,5", Decimal("1234.50")),  # no-break space, as a spreadsheet copies it
        ("1\u202f234,50 €", Decimal("1234.50")),  # narrow no-break space, as Django's French format writes it
        ("  650,00  ", Decimal("650.00")),
        ("0", Decimal("0.00")),
        ("999999", Decimal("999999.00")),
    ],
)
def test_an_amount_typed_the_french_way_is_read(typed, amount):
    value = AmountField().clean(typed)
    assert value == amount and value.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "typed",
    [
        "-5",
        "12,345",
        "1.234,56",
        "douze",
        "12e3",
        "1,2,3",
        "€",
        "12 euros",
        "0x10",
        "NaN",
        "Infinity",
        "1_000",
        "\u0663",
        "\u0967\u0968",
    ],
)
def test_what_is_not_an_amount_in_euros_is_refused(typed):
    with pytest.raises(ValidationError) as error:
        AmountField().clean(typed)
    assert error.value.messages == [AMOUNT_INVALID]


def test_a_huge_amount_is_refused_as_too_high():
    with pytest.raises(ValidationError) as error:
        AmountField(max_amount=20_000).clean("25 000")
    assert error.value.messages == ["Ce montant paraît trop élevé (20 000 € au plus) : vérifiez-le."]


@pytest.mark.parametrize("typed", ["9" * 10, "1" * 1000, "1" * 10_000, "12" + " " * 38 + "n'importe quoi"])
def test_an_absurdly_long_number_is_refused_without_work(typed):
    with pytest.raises(ValidationError) as error:
        AmountField().clean(typed)
    assert error.value.messages == [AMOUNT_INVALID]


def test_an_optional_amount_left_empty_is_none_and_a_required_one_says_so():
    assert AmountField(required=False).clean("") is None
    assert AmountField(required=False).clean("   ") is None
    with pytest.raises(ValidationError) as error:
        AmountField(error_messages={"required": "Indiquez le loyer."}).clean("")
    assert error.value.messages == ["Indiquez le loyer."]


def test_an_amount_is_shown_back_the_french_way():
    assert AmountField().prepare_value(Decimal("1234.5")) == "1 234,50"
    assert AmountField().prepare_value("12 abc") == "12 abc"  # what was typed, to correct


def test_the_amount_widget_asks_for_a_decimal_keyboard():
    attrs = AmountField().widget.attrs
    assert attrs["inputmode"] == "decimal" and attrs["maxlength"] == "20"


def test_two_amount_fields_do_not_share_their_widget():
    first, second = AmountField(), AmountField()
    first.widget.attrs["data-x"] = "1"
    assert "data-x" not in second.widget.attrs


# --- IBAN -----------------------------------------------------------------------------------------------------------

IBAN_CHECKSUM = (
    "La clé de cet IBAN ne correspond pas : une erreur de frappe s'est sans doute glissée. "
    "Recopiez-le depuis votre RIB."
)
IBAN_INVALID = (
    "Ce n'est pas un IBAN valide : il commence par deux lettres (FR pour la France) et compte 27 caractères en France."
)


@pytest.mark.parametrize(
    "typed",
    [
        IBAN,
        "FR76 3000 6000 0112 3456 7890 189",
        "fr76 3000 6000 0112 3456 7890 189",
        "FR76-3000-6000-0112-3456-7890-189",
        " FR76\u00a03000\u00a06000\u00a00112\u00a03456\u00a07890\u00a0189 ",
    ],
)
def test_a_french_iban_is_stored_compact_whatever_its_spaces_or_case(typed):
    assert IbanField().clean(typed) == IBAN


@pytest.mark.parametrize("typed", [IBAN_WRONG_KEY, "FR7630006000011234567890188", "FR7630006000011234567890198"])
def test_an_iban_with_a_wrong_key_says_so(typed):
    with pytest.raises(ValidationError) as error:
        IbanField().clean(typed)
    assert error.value.messages == [IBAN_CHECKSUM]
    assert error.value.error_list[0].code == "checksum"


@pytest.mark.parametrize(
    ("typed", "compact"),
    [
        ("GB33 BUKB 2020 1555 5555 55", "GB33BUKB20201555555555"),
        ("CH93 0076 2011 6238 5295 7", "CH9300762011623852957"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("MC58 1122 2000 0101 2345 6789 030", "MC5811222000010123456789030"),
    ],
)
def test_an_iban_of_the_sepa_zone_outside_the_eu_is_accepted(typed, compact):
    assert IbanField().clean(typed) == compact


@pytest.mark.parametrize("typed", ["TR330006100519786457841326", "BR1800360305000010009795493C1"])
def test_an_iban_outside_the_sepa_zone_is_refused(typed):
    with pytest.raises(ValidationError) as error:
        IbanField().clean(typed)
    assert error.value.messages == ["Le compte doit être tenu dans un pays de la zone SEPA (France et Europe)."]


@pytest.mark.parametrize(
    "typed", ["XX00", "US12", "n'importe quoi", "FR76", "30006000011234567890189", "FR76" + "9" * 40]
)
def test_what_is_not_an_iban_is_refused(typed):
    with pytest.raises(ValidationError) as error:
        IbanField().clean(typed)
    assert error.value.messages == [IBAN_INVALID]


def test_an_iban_with_a_nul_byte_is_refused():
    with pytest.raises(ValidationError):
        IbanField().clean("FR76\x003000")


def test_an_iban_left_empty_is_required():
    with pytest.raises(ValidationError) as error:
        IbanField(error_messages={"required": "Indiquez l'IBAN."}).clean("")
    assert error.value.messages == ["Indiquez l'IBAN."]


# --- Postcode, date --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["75012", "97400", "20000"])
def test_a_french_postcode_has_five_digits(typed):
    assert PostcodeField().clean(typed) == typed


@pytest.mark.parametrize("typed", ["7501", "750120", "75 012", "ABCDE", "2A004"])
def test_a_postcode_of_another_form_is_refused(typed):
    with pytest.raises(ValidationError) as error:
        PostcodeField().clean(typed)
    assert error.value.messages[0] in (
        "Le code postal compte 5 chiffres, par exemple 75012 ou 97400.",
        "Assurez-vous que cette valeur comporte au plus 5 caractères (actuellement 6).",
    )


def test_a_past_date_is_read_in_the_french_order_or_iso():
    assert PastDateField().clean("15/09/2024") == datetime.date(2024, 9, 15)
    assert PastDateField().clean("2024-09-15") == datetime.date(2024, 9, 15)


def test_a_date_in_the_future_is_refused():
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        PastDateField().clean(tomorrow.isoformat())
    assert error.value.messages == ["Cette date ne peut pas être dans le futur."]


@pytest.mark.parametrize("typed", ["31/02/2024", "2024-13-01", "hier", "15-09-2024"])
def test_a_date_that_is_not_one_is_refused(typed):
    with pytest.raises(ValidationError) as error:
        PastDateField().clean(typed)
    assert error.value.messages == ["Indiquez une date valide, par exemple 15/09/2024."]


def test_a_date_before_1900_is_refused_as_too_old_not_as_in_the_future():
    with pytest.raises(ValidationError) as error:
        PastDateField().clean("1899-12-31")
    assert error.value.messages == ["Cette date paraît trop ancienne : vérifiez-la."]


def test_the_amount_field_works_in_a_form_with_a_french_error():
    class Form(forms.Form):
        rent = AmountField()

    form = Form(data={"rent": "beaucoup"})
    assert not form.is_valid()
    assert form.errors["rent"] == [AMOUNT_INVALID]
