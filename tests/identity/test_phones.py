"""Mobiles of metropolitan France and overseas, stored in E.164 (issue 3: +262, +590, +596, +594, +269)."""

import pytest

from moncompte.identity.phones import PhoneError, format_mobile, parse_mobile


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("07.81.23.45.67", "+33781234567"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0692 12 34 56", "+262692123456"),
        ("0639 01 23 45", "+262639012345"),
        ("0690 12 34 56", "+590690123456"),
        ("0696 12 34 56", "+596696123456"),
        ("0694 20 12 34", "+594694201234"),
        ("+269 321 23 45", "+2693212345"),
        ("00269 332 12 34", "+2693321234"),
    ],
)
def test_french_and_overseas_mobiles_come_out_in_e164(typed, e164):
    assert parse_mobile(typed) == e164


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Saisissez un numéro de téléphone mobile."),
        ("01 23 45 67 89", "Ce numéro n'est pas un numéro de mobile"),
        ("+269 773 12 34", "Ce numéro n'est pas un numéro de mobile"),
        ("321 23 45", "Ce numéro de mobile n'est pas valide."),  # +269 only with its prefix
        ("+44 7700 900123", "Ce numéro de mobile n'est pas valide."),
        ("06 AB 00 01 01", "Ce numéro de mobile n'est pas valide."),  # not read as keypad letters (06 22…)
        ("9" * 40, "Ce numéro de téléphone est trop long."),
    ],
)
def test_other_numbers_are_refused_with_a_french_reason(typed, message):
    with pytest.raises(PhoneError) as refused:
        parse_mobile(typed)
    assert refused.value.message.startswith(message)


def test_numbers_are_shown_in_international_form():
    assert format_mobile("+262692123456") == "+262 692 12 34 56"
