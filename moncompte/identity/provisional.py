"""Provisional identifiers, for people the registry knows without a NIR (the seed: "un identifiant provisoire")."""

from __future__ import annotations

import secrets

from moncompte.identity.models import Person


def new_provisional_id() -> str:
    """A provisional identifier: "P", 10 random digits and their 2-digit key 97 - (n mod 97); 13 characters."""
    digits = f"{secrets.randbelow(10**10):010d}"
    return f"P{digits}{97 - int(digits) % 97:02d}"


def free_provisional_ids(count: int) -> list[str]:
    """`count` distinct provisional identifiers no person holds yet (the unique constraint still has the last word)."""
    found: set[str] = set()
    while len(found) < count:
        candidates = {new_provisional_id() for _ in range(count - len(found))} - found
        taken = set(Person.objects.filter(provisional_id__in=candidates).values_list("provisional_id", flat=True))
        found |= candidates - taken
    return list(found)
