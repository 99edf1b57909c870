"""Parsing and validation of the NIR (numéro d'inscription au répertoire, the French social-security number).

Pure Python, no database. Layout of the 13 characters (the 2-digit control key may follow):

    S YY MM DD CCC OOO [KK]     metropolitan France and Corsica (DD = 01..95, 2A, 2B, or the old "20")
    S YY MM DDD CC OOO [KK]     overseas (DDD = 971..979 or 981..989)
    S YY MM 99 PPP OOO [KK]     born abroad (PPP = INSEE country code, 001..990)

S is the sex digit (1, 2, 3, 4, or 7 and 8 for the NIA and other waiting numbers, which must be accepted),
MM the birth month (01..12, or 20..42 and 50..99 when the month is unknown), OOO the order number and
KK = 97 - (N mod 97), where N is the 13 characters read as a number once 2A is replaced by 19 and 2B by 18.

Every refusal raises NirError carrying a human French message and a short machine code. The messages never
echo the number itself, and the repr of a Nir only shows its masked form, so that neither ends up in logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

__all__ = ["Nir", "NirError", "nir_key", "normalise_nir", "parse_nir"]

# Raw input longer than this is refused before any other work (an oversized form field).
MAX_RAW_LENGTH = 40

NIR_LENGTH = 13
NIR_WITH_KEY_LENGTH = 15
#: The case number (numéro allocataire), the login of the old site.
CASE_NUMBER_LENGTH = 7

_DIGITS = frozenset("0123456789")
_ALLOWED_CHARACTERS = _DIGITS | {"A", "B"}
# Separators users type or paste: dots, hyphens (including the typographic dashes word processors produce) and
# invisible zero-width characters. Any whitespace (ordinary, non-breaking, narrow non-breaking, tabs, newlines)
# is removed as well.
_SEPARATORS = frozenset(".-\u2010\u2011\u2012\u2013\u2014\u2212\u200b\ufeff")
_CORSICA_FOR_KEY = {"2A": "19", "2B": "18"}

_VALID_SEXES = frozenset("123478")
_WAITING_NUMBER_SEXES = frozenset("78")
_OVERSEAS_PREFIXES = frozenset({"97", "98"})
_ABROAD = "99"


def _interpolate(template: Any, params: dict[str, Any]) -> str:
    return str(template) % params


# Interpolation that stays lazy: the message is translated when rendered, in the language active at that time.
_lazy_interpolate = lazy(_interpolate, str)


class NirError(ValueError):
    """Raised with a French, human message (self.message) and a short machine code (self.code)."""

    def __init__(self, message: Any, code: str) -> None:
        super().__init__(message, code)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)


_MSG_REQUIRED = _("Saisissez votre numéro de Sécurité sociale.")
_MSG_TOO_LONG = _(
    "Le numéro saisi est trop long. Un numéro de Sécurité sociale comporte 13 caractères (ou 15 avec la clé)."
)
_MSG_CHARACTERS = _("Le numéro ne peut contenir que des chiffres, sauf 2A ou 2B pour la Corse.")
_MSG_LENGTH = _(
    "Le numéro de Sécurité sociale doit comporter 13 caractères (ou 15 avec la clé) : vous en avez saisi %(count)s."
)
#: Seven digits: the old login, the case number ("numéro allocataire"), typed out of habit.
_MSG_CASE_NUMBER = _(
    "Le numéro de Sécurité sociale doit comporter 13 caractères (ou 15 avec la clé) : celui que vous avez saisi, "
    "à 7 chiffres, ressemble à un numéro allocataire, qui ne sert plus à se connecter. Saisissez le numéro de "
    "Sécurité sociale inscrit sur votre carte Vitale."
)
_MSG_SEX = _("Le premier chiffre (sexe) doit être 1, 2, 3, 4, 7 ou 8.")
_MSG_MONTH = _(
    "Le mois de naissance (4e et 5e caractères) doit être compris entre 01 et 12, entre 20 et 42, ou entre 50 et 99."
)
_MSG_DEPARTMENT = _(
    "Le département de naissance (6e et 7e caractères) doit être compris entre 01 et 95, ou valoir 2A ou 2B "
    "(Corse), 97 ou 98 (outre-mer), ou 99 (naissance à l'étranger)."
)
_MSG_OVERSEAS_DEPARTMENT = _(
    "Pour une naissance en outre-mer, le département de naissance (6e, 7e et 8e caractères) doit être compris "
    "entre 971 et 979 ou entre 981 et 989."
)
_MSG_COMMUNE = _("La commune de naissance (8e, 9e et 10e caractères) ne peut pas être 000.")
_MSG_OVERSEAS_COMMUNE = _(
    "Pour une naissance en outre-mer, la commune de naissance (9e et 10e caractères) ne peut pas être 00."
)
_MSG_COUNTRY = _(
    "Pour une naissance à l'étranger, le code du pays de naissance (8e, 9e et 10e caractères) doit être compris "
    "entre 001 et 990."
)
_MSG_ORDER = _("Le numéro d'ordre (11e, 12e et 13e caractères) ne peut pas être 000.")
_MSG_KEY_RANGE = _("La clé de contrôle (les deux derniers chiffres) doit être comprise entre 01 et 97.")
_MSG_KEY_MISMATCH = _(
    "La clé de contrôle ne correspond pas au numéro saisi. Vérifiez les deux derniers chiffres sur votre carte Vitale."
)


@dataclass(frozen=True)
class Nir:
    """A validated NIR. `value` is always the 13 characters without the key (2A/2B kept, uppercase)."""

    value: str
    sex: str
    year: str
    month: str
    department: str
    commune: str
    order: str
    key: str

    def __repr__(self) -> str:
        # Never put the whole number in logs or tracebacks.
        return f"Nir(masked={self.masked!r})"

    @property
    def masked(self) -> str:
        """Only sex, year and month are visible, with the same shape whatever the birthplace."""
        return f"{self.sex} {self.year} {self.month} •• ••• ••• ••"

    @property
    def with_key(self) -> str:
        """The 15 characters: the 13-character value followed by the 2-digit key."""
        return self.value + self.key

    @property
    def is_waiting_number(self) -> bool:
        """True for the NIA and other waiting numbers (numéros d'attente), whose sex digit is 7 or 8."""
        return self.sex in _WAITING_NUMBER_SEXES

    @property
    def is_born_abroad(self) -> bool:
        return self.department == _ABROAD

    @property
    def is_overseas(self) -> bool:
        return len(self.department) == 3


def nir_grouped(nir: str) -> str:
    """A NIR of 13 characters, or 15 with its key, spaced as the carte Vitale prints it: 1 82 03 75 112 045 67, and
    overseas 2 97 12 974 11 123 20 (the department has three digits, the commune two)."""
    place = f"{nir[5:8]} {nir[8:10]}" if nir[5:7] in ("97", "98") else f"{nir[5:7]} {nir[7:10]}"
    return " ".join(part for part in (nir[0], nir[1:3], nir[3:5], place, nir[10:13], nir[13:15]) if part)


def normalise_nir(raw: str) -> str:
    """Remove whitespace (including non-breaking spaces), dots and hyphens, and uppercase. No validation."""
    return "".join(c for c in raw if not c.isspace() and c not in _SEPARATORS).upper()


def _check_characters(nir: str) -> None:
    """Only ASCII digits, with a single exception: 2A or 2B as the département (6th and 7th characters)."""
    for index, char in enumerate(nir):
        if char in _DIGITS:
            continue
        if char in {"A", "B"} and index == 6 and nir[5] == "2":
            continue
        raise NirError(_MSG_CHARACTERS, "invalid_characters")


def _compute_key(nir13: str) -> int:
    numeric = nir13[:5] + _CORSICA_FOR_KEY.get(nir13[5:7], nir13[5:7]) + nir13[7:]
    return 97 - int(numeric) % 97


def nir_key(nir13: str) -> int:
    """Control key of a 13-character NIR: 97 - (n mod 97), 2A read as 19 and 2B as 18. Returns 1..97.

    Separators are tolerated; raises NirError if what remains is not 13 digits (2A/2B allowed).
    """
    nir = normalise_nir(nir13)
    if any(c not in _ALLOWED_CHARACTERS for c in nir):
        raise NirError(_MSG_CHARACTERS, "invalid_characters")
    if len(nir) != NIR_LENGTH:
        raise NirError(_lazy_interpolate(_MSG_LENGTH, {"count": len(nir)}), "length")
    _check_characters(nir)
    return _compute_key(nir)


def _split_place(nir: str) -> tuple[str, str]:
    """Split characters 6 to 10 into (département, commune or country code), validating both."""
    prefix = nir[5:7]
    if prefix in _OVERSEAS_PREFIXES:
        department, commune = nir[5:8], nir[8:10]
        if department[2] == "0":
            raise NirError(_MSG_OVERSEAS_DEPARTMENT, "overseas_department")
        if commune == "00":
            raise NirError(_MSG_OVERSEAS_COMMUNE, "overseas_commune")
        return department, commune

    department, commune = prefix, nir[7:10]
    if department == _ABROAD:
        if not 1 <= int(commune) <= 990:
            raise NirError(_MSG_COUNTRY, "country")
        return department, commune

    if department not in _CORSICA_FOR_KEY and not 1 <= int(department) <= 95:
        raise NirError(_MSG_DEPARTMENT, "department")
    if commune == "000":
        raise NirError(_MSG_COMMUNE, "commune")
    return department, commune


def _month_is_valid(month: str) -> bool:
    number = int(month)
    return 1 <= number <= 12 or 20 <= number <= 42 or 50 <= number <= 99


def parse_nir(raw: str | None) -> Nir:
    """Validate a NIR typed by a person (13 characters, or 15 with the key) and return its parts.

    Raises NirError, and only NirError, for any refused string; None is treated as an empty input.
    """
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise TypeError(f"parse_nir expects a str, not {type(raw).__name__}")
    if len(raw) > MAX_RAW_LENGTH:
        raise NirError(_MSG_TOO_LONG, "too_long")

    nir = normalise_nir(raw)
    if not nir:
        raise NirError(_MSG_REQUIRED, "required")
    # Characters before length: a letter typed for a digit deserves that message rather than a count.
    if any(c not in _ALLOWED_CHARACTERS for c in nir):
        raise NirError(_MSG_CHARACTERS, "invalid_characters")
    if len(nir) == CASE_NUMBER_LENGTH and nir.isdigit():
        raise NirError(_MSG_CASE_NUMBER, "case_number")
    if len(nir) not in (NIR_LENGTH, NIR_WITH_KEY_LENGTH):
        raise NirError(_lazy_interpolate(_MSG_LENGTH, {"count": len(nir)}), "length")
    _check_characters(nir)

    value, given_key = nir[:NIR_LENGTH], nir[NIR_LENGTH:]
    sex, year, month = value[0], value[1:3], value[3:5]
    if sex not in _VALID_SEXES:
        raise NirError(_MSG_SEX, "sex")
    if not _month_is_valid(month):
        raise NirError(_MSG_MONTH, "month")
    department, commune = _split_place(value)
    order = value[10:13]
    if order == "000":
        raise NirError(_MSG_ORDER, "order")

    key = _compute_key(value)
    if given_key:
        if not 1 <= int(given_key) <= 97:
            raise NirError(_MSG_KEY_RANGE, "key_range")
        if int(given_key) != key:
            raise NirError(_MSG_KEY_MISMATCH, "key_mismatch")

    return Nir(
        value=value,
        sex=sex,
        year=year,
        month=month,
        department=department,
        commune=commune,
        order=order,
        key=f"{key:02d}",
    )
