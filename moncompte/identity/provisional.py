"""Provisional identifiers, for people the registry knows without a NIR (the seed: "un identifiant provisoire").

Layout: "P", 10 digits, and their 2-digit key 97 - (n mod 97), 13 characters in all (P 12345 67890 12 as printed for
reading). The key catches every single wrong digit and every swap of two neighbouring digits, as the NIR's does.

A provisional identifier can never be read as a NIR, nor a NIR as one: a NIR has no letter but the 2A or 2B of
Corsica, and a provisional identifier starts with P. The NIA and other waiting numbers (sex digit 7 or 8) are NIRs.
Once a NIR is linked to the person (`identity.linking`), their provisional identifier is retired: it no longer signs
in and is never issued again.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from moncompte.identity.models import Person
from moncompte.identity.nir import MAX_RAW_LENGTH, NirError, normalise_nir, parse_nir

__all__ = [
    "PROVISIONAL_ID_LENGTH",
    "ProvisionalIdError",
    "free_provisional_ids",
    "is_provisional_id",
    "new_provisional_id",
    "parse_login_identifier",
    "parse_provisional_id",
    "provisional_grouped",
    "provisional_key",
]

PREFIX = "P"
PROVISIONAL_ID_LENGTH = 13
_DIGITS = 10
_SHAPE = re.compile(r"P[0-9]{12}")

_MSG_REQUIRED = _("Saisissez votre identifiant provisoire.")
_MSG_INVALID = _(
    "Cet identifiant provisoire n'est pas valide : vérifiez-le sur le courrier ou le récépissé de la Caf."
)
#: A NIR (a NIA included) typed where a provisional identifier is expected: it signs in on the NIR's page.
_MSG_IS_NIR = _(
    "Ce numéro est un numéro de Sécurité sociale, pas un identifiant provisoire : connectez-vous avec lui depuis la "
    "page de connexion."
)


class ProvisionalIdError(ValueError):
    """Raised with a French, human message (self.message) and a short machine code (self.code); the message never
    echoes what was typed."""

    def __init__(self, message: Any, code: str) -> None:
        super().__init__(message, code)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)


def provisional_key(digits: str) -> int:
    """The key of the 10 digits: 97 - (n mod 97), from 1 to 97."""
    return 97 - int(digits) % 97


def new_provisional_id() -> str:
    """A provisional identifier: "P", 10 random digits and their 2-digit key 97 - (n mod 97); 13 characters."""
    digits = f"{secrets.randbelow(10**_DIGITS):0{_DIGITS}d}"
    return f"{PREFIX}{digits}{provisional_key(digits):02d}"


def is_provisional_id(value: str) -> bool:
    """Whether `value`, already normalised (as `parse_provisional_id` returns it), has the shape of a provisional
    identifier. Never true of a NIR."""
    return _SHAPE.fullmatch(value) is not None


def parse_provisional_id(text: str | None) -> str:
    """A provisional identifier as a person types it (spaces, dots, dashes, a lower-case p), checked with its key;
    returns the 13 characters. Raises ProvisionalIdError (a ValueError) for anything else, a NIR included."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise TypeError(f"parse_provisional_id expects a str, not {type(text).__name__}")
    if len(text) > MAX_RAW_LENGTH:
        raise ProvisionalIdError(_MSG_INVALID, "too_long")
    value = normalise_nir(text)  # the same separators and spaces as a NIR; upper case
    if not value:
        raise ProvisionalIdError(_MSG_REQUIRED, "required")
    if not is_provisional_id(value):
        try:
            parse_nir(value)
        except NirError:
            raise ProvisionalIdError(_MSG_INVALID, "invalid") from None
        raise ProvisionalIdError(_MSG_IS_NIR, "is_nir")
    digits, key = value[1:11], value[11:]
    if int(key) != provisional_key(digits):
        raise ProvisionalIdError(_MSG_INVALID, "key_mismatch")
    return value


def parse_login_identifier(text: str | None) -> str:
    """What a person signs in with: a NIR (returned as its 13 characters) or a provisional identifier (its 13
    characters, starting with P). The two parsers never both accept a string. Raises NirError or ProvisionalIdError,
    both ValueErrors."""
    try:
        return parse_nir(text).value
    except NirError:
        if not normalise_nir(text or "").startswith(PREFIX):
            raise
    return parse_provisional_id(text)


def provisional_grouped(value: str) -> str:
    """The identifier spaced for reading aloud or copying from a letter: P 12345 67890 12."""
    return f"{value[0]} {value[1:6]} {value[6:11]} {value[11:]}" if is_provisional_id(value) else value


def free_provisional_ids(count: int) -> list[str]:
    """`count` distinct provisional identifiers no person holds yet, nor ever held: a retired identifier is never
    issued again, since a letter that still shows it must not lead to someone else (the unique constraints still
    have the last word)."""
    found: set[str] = set()
    while len(found) < count:
        candidates = {new_provisional_id() for _ in range(count - len(found))} - found
        taken = Person.objects.filter(Q(provisional_id__in=candidates) | Q(retired_provisional_id__in=candidates))
        found |= candidates - {
            value for pair in taken.values_list("provisional_id", "retired_provisional_id") for value in pair
        }
    return list(found)
