"""The pivot identity in FranceConnect's claims (userinfo), read strictly: a claim of the wrong type or format makes
the identity unusable, never a guess."""

from __future__ import annotations

import datetime
import re
from typing import Any

from moncompte.identity.matching import PivotIdentity
from moncompte.identity.models import FRANCE, Sex

_GENDERS = {"male": Sex.MALE, "female": Sex.FEMALE}
_BIRTHPLACE = re.compile(r"[0-9]{5}|2[AB][0-9]{3}")
_COUNTRY = re.compile(r"99[0-9]{3}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _text(claims: dict[str, Any], name: str, max_length: int) -> str | None:
    value = claims.get(name)
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value if 0 < len(value) <= max_length else None


def pivot_identity(claims: dict[str, Any]) -> PivotIdentity | None:
    """The pivot identity of the claims, or None when one of its parts is missing or malformed."""
    birth_name = _text(claims, "family_name", 100)
    given_names = _text(claims, "given_name", 200)
    sex = _GENDERS.get(claims.get("gender")) if isinstance(claims.get("gender"), str) else None
    birthdate = claims.get("birthdate")
    country = claims.get("birthcountry")
    birthplace = claims.get("birthplace") or ""
    if not (birth_name and given_names and sex and isinstance(birthdate, str) and _DATE.fullmatch(birthdate)):
        return None
    try:
        birth_date = datetime.date.fromisoformat(birthdate)
    except ValueError:
        return None  # FranceConnect gives 00 for a day or month nobody knows: such a date matches nobody here
    if not isinstance(country, str) or not _COUNTRY.fullmatch(country) or not isinstance(birthplace, str):
        return None
    if country == FRANCE:
        birthplace = birthplace.upper()
        if not _BIRTHPLACE.fullmatch(birthplace):
            return None
    elif birthplace:
        return None
    return PivotIdentity(
        birth_name=birth_name,
        given_names=given_names,
        birth_date=birth_date,
        sex=sex,
        birthplace=birthplace,
        birth_country=country,
    )
