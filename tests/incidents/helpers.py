"""Journal entries and looks placed in time, for the incident tests (the journal stamps entries with now)."""

from __future__ import annotations

import datetime

from moncompte.journal import services as journal
from moncompte.journal.context import acting
from moncompte.journal.models import Entry, Read


def entry_at(at: datetime.datetime, kind: str, *, actor=None, person=None, **fields) -> Entry:
    """A journal entry of `kind` written by `actor` (an account) at `at`."""
    with acting(actor_account_id=actor.pk if actor else None, channel="web", session_ref="s" * 16):
        entry = journal.record(kind, person_id=person.pk if person else None, **fields)
    Entry.objects.filter(pk=entry.pk).update(created_at=at)
    entry.refresh_from_db()
    return entry


def look_at(at: datetime.datetime, viewer, *, case=None, person=None) -> Read:
    """`viewer` (an account) displayed this case's or person's data at `at`."""
    return Read.objects.create(
        at=at,
        hour=at.replace(minute=0, second=0, microsecond=0),
        viewer_account_id=viewer.pk,
        case_number=case.case_number if case else "",
        person_id=person.pk if person else None,
        session_ref=f"{viewer.pk:016d}",
    )


def in_the_window(entry: Entry, at: datetime.datetime) -> None:
    """Move an entry a service wrote now to `at`."""
    Entry.objects.filter(pk=entry.pk).update(created_at=at)
