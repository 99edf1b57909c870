"""Changes to cases and memberships. Every function runs in one transaction and journals what it did."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction

from moncompte.households.models import Case
from moncompte.journal import services as journal

PIN_HASHER = "case_pin_argon2"


def hash_case_pin(pin: str) -> str:
    """The one way a PIN is ever stored: argon2id, through the CasePinHasher (parameters from settings)."""
    return make_password(pin, hasher=PIN_HASHER)


def case_check_pin(case: Case, pin: str) -> bool:
    """Check a case PIN; a hash made with older parameters is upgraded on success, as Django does for passwords."""
    if not case.pin_hash:
        return False

    def upgrade(raw_pin: str) -> None:
        with transaction.atomic():
            Case.objects.filter(pk=case.pk, pin_hash=case.pin_hash).update(pin_hash=hash_case_pin(raw_pin))
            journal.record("case.pin_rehashed", case_number=case.case_number)

    return check_password(pin, case.pin_hash, setter=upgrade, preferred=PIN_HASHER)
