"""The phone channel's own records: the state of each call (models.Call). What a call did is in the journal."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from moncompte.journal import services as journal
from moncompte.phone.models import Call


@transaction.atomic
def calls_forget(*, now: datetime.datetime | None = None) -> int:
    """Delete the records of the calls whose last answer is older than PHONE_CALL_DAYS (their calling numbers and
    the case numbers typed); the journal keeps what the calls did. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.PHONE_CALL_DAYS)
    deleted, _ = Call.objects.filter(updated_at__lt=cutoff).delete()
    if deleted:
        journal.record("phone.calls_forgotten", after={"calls": deleted, "days": settings.PHONE_CALL_DAYS})
    return deleted
