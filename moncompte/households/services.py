"""Changes to cases and memberships. Every function runs in one transaction and journals what it did."""

from __future__ import annotations

import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from moncompte.households.models import PIN_ROLES, Case, Membership
from moncompte.identity.models import Person
from moncompte.journal import services as journal
from moncompte.messaging.models import Medium
from moncompte.messaging.services import message_queue, person_notify, validated_contacts

PIN_HASHER = "case_pin_argon2"
PIN_DIGITS = 8
NOTICE_PIN_NEW = "households/notices/pin_renewed"
NOTICE_PIN_NEW_HOUSEHOLD = "households/notices/pin_renewed_household"


class PinNotRenewed(Exception):
    """No new PIN: the person has no validated mobile to receive it (nothing changed)."""


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


@transaction.atomic
def case_pin_renew(*, case: Case, person: Person) -> None:
    """A forgotten case PIN, on the phone channel: a new random 8-digit PIN replaces it (the old one stops working
    at once), hashed like every PIN, and is sent by SMS to this person's validated mobile (the holder's, or the
    delegated partner's: the caller decides who may). Nobody can choose it, nor change it afterwards. The other
    members who knew the PIN are told on their validated contacts; the personal accounts are untouched. Raises
    PinNotRenewed when the person has no validated mobile."""
    mobile = validated_contacts(person.pk).get(Medium.SMS)
    if not mobile:
        raise PinNotRenewed
    case = Case.objects.select_for_update().get(pk=case.pk)
    pin = f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"
    now = timezone.now()
    case.pin_hash, case.pin_changed_at = hash_case_pin(pin), now
    case.save(update_fields=["pin_hash", "pin_changed_at", "updated_at"])
    journal.record("case.pin_renewed", person_id=person.pk, case_number=case.case_number)
    context = {"case_number": case.case_number, "when": timezone.localtime(now)}
    message_queue(
        medium=Medium.SMS, to=mobile, template=NOTICE_PIN_NEW, context={**context, "pin": pin}, person_id=person.pk
    )
    others = Membership.objects.filter(case=case, role__in=PIN_ROLES).exclude(person=person).select_related("person")
    for membership in others:
        person_notify(
            person_id=membership.person_id,
            template=NOTICE_PIN_NEW_HOUSEHOLD,
            context={**context, "person": membership.person, "receiver": person.first_name},
        )
