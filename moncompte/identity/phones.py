"""Mobile numbers of metropolitan France and overseas (Réunion, Guadeloupe, Martinique, Guyane, Mayotte), stored
in E.164. `0692…` parsed as FR is invalid: it is a Réunion mobile (+262), hence the list of regions tried.

+269 numbers are accepted too when typed with their prefix (issue 3 lists them): Mayotte's numbers moved to +262 639
in 2007, but many households of Mayotte keep a +269 (Comoros) mobile, and an SMS reaches it."""

import re

import phonenumbers
from django.utils.translation import gettext as _

MOBILE_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT")  # tried, in this order, for a number typed without prefix
ACCEPTED_REGIONS = (*MOBILE_REGIONS, "KM")
_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
#: What a typed number may hold. phonenumbers reads letters as keypad digits ("06 AB…" would become "06 22…"): a
#: letter is a typing error here, never a vanity number.
_CHARACTERS = re.compile(r"[0-9+ .()\-]+")


class PhoneError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_mobile(raw: str) -> str:
    """Return the E.164 form of a French or overseas mobile number, or raise PhoneError with a message for the person
    (in the active language)."""
    text = (raw or "").strip()
    if not text:
        raise PhoneError(_("Saisissez un numéro de téléphone mobile."))
    if len(text) > 30:
        raise PhoneError(_("Ce numéro de téléphone est trop long."))
    if _CHARACTERS.fullmatch(text):
        for region in MOBILE_REGIONS:
            try:
                number = phonenumbers.parse(text, region)
            except phonenumbers.NumberParseException:
                continue
            region_found = phonenumbers.region_code_for_number(number)
            if phonenumbers.is_valid_number(number) and region_found in ACCEPTED_REGIONS:
                if phonenumbers.number_type(number) not in _MOBILE_TYPES:
                    raise PhoneError(
                        _("Ce numéro n'est pas un numéro de mobile : saisissez un numéro qui peut recevoir des SMS.")
                    )
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise PhoneError(
        _(
            "Ce numéro de mobile n'est pas valide. Saisissez un numéro de France métropolitaine ou d'outre-mer, "
            "par exemple 06 12 34 56 78 ou +262 692 12 34 56."
        )
    )


def format_mobile(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def format_mobile_as_written(e164: str) -> str:
    """06 12 34 56 78, 0692 12 34 56: the national form for a mobile of France or its overseas departments, the way
    the person writes it; the international form for any other (+269 …)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) in {"FR", "RE", "GP", "MQ", "GF", "YT"}:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
