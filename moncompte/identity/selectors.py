from typing import Any

from moncompte.identity.models import Person
from moncompte.identity.provisional import is_provisional_id


def person_get_by_nir(nir: str) -> Person | None:
    """`nir` must already be normalised by `identity.nir.parse_nir` (13 characters)."""
    return Person.objects.filter(nir=nir).first()


def login_lookup(identifier: str, prefix: str = "") -> dict[str, Any]:
    """The filter that finds whoever signs in with `identifier`, a 13-character NIR or a provisional identifier as
    `identity.provisional.parse_login_identifier` returns them. `prefix` reaches the person from another model
    ("person__"). A provisional identifier finds only a person without a NIR: once linked, it no longer signs in."""
    if is_provisional_id(identifier):
        return {f"{prefix}provisional_id": identifier, f"{prefix}nir__isnull": True}
    return {f"{prefix}nir": identifier}


def person_get_by_login_id(identifier: str) -> Person | None:
    """The person who signs in with `identifier` (a NIR or a provisional identifier, normalised), or None."""
    return Person.objects.filter(**login_lookup(identifier)).first()
