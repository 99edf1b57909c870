"""Who is calling: the case number and the case PIN until PHONE_PIN_SUNSET, then the caller's birth date among the
members who knew the PIN (holder, partner: households.PIN_ROLES), and the forgotten PIN. Rules of tries: limits.py.

Every outcome is the same for a case number that exists and one that does not (same answers, same counts, one
argon2 computation whatever happens), and the PIN typed is never kept nor written anywhere."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.utils import timezone

from moncompte.accounts.models import Account
from moncompte.households import policy
from moncompte.households.models import PIN_ROLES, Case, Membership
from moncompte.households.services import PinNotRenewed, case_check_pin, case_pin_renew, hash_case_pin
from moncompte.identity.models import Person
from moncompte.journal import services as journal
from moncompte.lib import counters
from moncompte.phone import limits

CASE_DIGITS = 7
PIN_DIGITS = 8


def pin_accepted(today: datetime.date | None = None) -> bool:
    """The case PIN identifies callers until PHONE_PIN_SUNSET (its last day), or for good when it is unset."""
    sunset = settings.PHONE_PIN_SUNSET
    return sunset is None or (today or timezone.localdate()) <= sunset


@functools.cache
def _dummy_hash() -> str:
    """A PIN hash nobody has, checked for an unknown case so that it costs what a known one does."""
    return hash_case_pin("00000000")


def _case(case_number: str) -> Case | None:
    return Case.objects.filter(case_number=case_number).first() if len(case_number) == CASE_DIGITS else None


def _trusted(case: Case | None, caller: str) -> bool:
    """The call comes from the validated mobile of a member of the case."""
    if case is None or not caller:
        return False
    return Account.objects.filter(
        person__memberships__case=case, mobile=caller, mobile_verified_at__isnull=False
    ).exists()


@dataclass(frozen=True)
class Checked:
    case: Case | None = None  # the case, when the PIN was right
    refused_until: datetime.datetime | None = None  # a limit is reached: nothing was tried

    @property
    def ok(self) -> bool:
        return self.case is not None


def pin_check(case_number: str, pin: str, *, caller: str) -> Checked:
    """Check a case number and PIN as typed (digits only, the caller checked their length)."""
    case = _case(case_number)
    bucket = limits.bucket(case_number, caller, trusted=_trusted(case, caller))
    until = limits.refused_until(bucket)
    if until is not None:
        return Checked(refused_until=until)
    if case is not None and case.pin_hash:
        right = case_check_pin(case, pin)
    else:
        check_password(pin, _dummy_hash())
        right = False
    if right:
        return Checked(case=case)
    with transaction.atomic():
        limits.count_wrong_pin(bucket, case_number=case.case_number if case else "")
        journal.record("phone.pin_refused", case_number=case.case_number if case else "")
    return Checked()


def _members_born(case: Case, birth_date: datetime.date) -> list[Membership]:
    return list(
        Membership.objects.filter(case=case, role__in=PIN_ROLES, person__birth_date=birth_date).select_related(
            "person"
        )
    )


def caller_identify(case: Case, birth_date: datetime.date) -> Person | None:
    """The member who knew the PIN and was born that day, journaled as identified; None when nobody was. When two
    were born the same day (it happens), the one who may be told less: the shared PIN cannot tell them apart."""
    members = _members_born(case, birth_date)
    if not members:
        return None
    members.sort(key=lambda m: policy.can(m.person, policy.Capability.DESK_INFO, case))
    person = members[0].person
    with transaction.atomic():
        journal.record("phone.identified", person_id=person.pk, case_number=case.case_number)
    return person


def _renewals_key(case: Case) -> str:
    return counters.window_key(f"phone-pin-renewals:{case.pk}", limits.DAY)


def pin_renew(case_number: str, birth_date: datetime.date, *, caller: str) -> datetime.datetime | None:
    """« Mot de passe oublié » : a new PIN by SMS to the validated mobile of the holder or delegated partner of the
    case born that day (households.case_pin_renew), at most PHONE_PIN_RENEWALS_PER_DAY a day per case. Returns the
    end of a cool-off when the tries' limits are reached, else None, whatever happened: the caller is told the same
    thing in every case (« si ces informations correspondent… »). A birth date matching nobody counts as a wrong
    PIN: it is what someone guessing would type."""
    case = _case(case_number)
    bucket = limits.bucket(case_number, caller, trusted=_trusted(case, caller))
    until = limits.refused_until(bucket)
    if until is not None:
        return until
    members = _members_born(case, birth_date) if case is not None else []
    entitled = [m.person for m in members if policy.can(m.person, policy.Capability.DESK_INFO, case)]
    if not members:
        with transaction.atomic():
            limits.count_wrong_pin(bucket, case_number=case.case_number if case else "")
    if not entitled or counters.get(_renewals_key(case)) >= settings.PHONE_PIN_RENEWALS_PER_DAY:
        # Nobody to send it to (unknown case, nobody's birth date, a partner without delegation: the new PIN goes
        # to whoever may act for the household), or enough for today: a PIN hash all the same, so that the time
        # of the answer tells nothing either.
        hash_case_pin("00000000")
        return None
    try:
        case_pin_renew(case=case, person=entitled[0])
    except PinNotRenewed:
        hash_case_pin("00000000")
        with transaction.atomic():
            journal.record("phone.pin_renewal_impossible", person_id=entitled[0].pk, case_number=case.case_number)
        return None
    counters.incr(_renewals_key(case), timeout=limits.DAY)
    return None
