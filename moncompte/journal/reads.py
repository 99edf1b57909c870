"""Who saw what (DESIGN §7; issue 12, item 3): every look at a person's or a case's data, recorded cheaply.

The access policy calls `seen(...)` when it hands out a case or a member (households.policy), and so does any channel
that shows someone's data another way (the agents' desk). During a request, `seen` only adds the subject to a set
kept for that request (`collecting`, opened by ReadRecordingMiddleware); once the response is sent, the looks this
process has not recorded yet for that session and hour are written in one INSERT that ignores the ones already there
(`Read`'s unique constraints). Nothing is written on the request's critical path, and a session that shows the same
case on every page writes one row per hour.

Outside a request (a command, a task) there is nobody looking: `seen` does nothing."""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextvars import ContextVar

from django.db import DatabaseError
from django.utils import timezone

from moncompte.journal.models import Read

logger = logging.getLogger(__name__)

#: The subjects seen during the current request: ("case", number) or ("person", id).
_seen: ContextVar[set[tuple[str, str | int]] | None] = ContextVar("journal_reads_seen", default=None)
#: The looks this process wrote lately (session, viewer, subject, hour), so a page shown again writes nothing.
_recent: OrderedDict[tuple, None] = OrderedDict()
_recent_lock = threading.Lock()
RECENT_SIZE = 50_000


def seen(*, case_number: str = "", person_id: int | None = None) -> None:
    """The data of this case or person is being shown to the account acting now (journal.context)."""
    subjects = _seen.get()
    if subjects is None:
        return
    if case_number:
        subjects.add(("case", str(case_number)))
    if person_id is not None:
        subjects.add(("person", int(person_id)))


@contextlib.contextmanager
def collecting() -> Iterator[set]:
    """Collect the looks of a block (a request); `write` them after."""
    token = _seen.set(set())
    try:
        yield _seen.get()
    finally:
        _seen.reset(token)


def write(subjects: set, *, viewer_account_id: int | None, session_ref: str, channel: str) -> int:
    """Record the looks not recorded yet by this process for this session and hour; returns how many rows it sent."""
    if not subjects or viewer_account_id is None:
        return 0
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    rows = []
    with _recent_lock:
        for kind, subject in subjects:
            key = (session_ref, viewer_account_id, kind, subject, hour)
            if key in _recent:
                _recent.move_to_end(key)
                continue
            _recent[key] = None
            if len(_recent) > RECENT_SIZE:
                _recent.popitem(last=False)
            rows.append(
                Read(
                    at=now,
                    hour=hour,
                    viewer_account_id=viewer_account_id,
                    session_ref=session_ref,
                    channel=channel,
                    case_number=subject if kind == "case" else "",
                    person_id=subject if kind == "person" else None,
                )
            )
    if rows:
        try:
            Read.objects.bulk_create(rows, ignore_conflicts=True)
        except DatabaseError:
            # The page was shown already; a lost record must not turn into an error. Forget these keys so the next
            # look tries again, and say so in the log (no personal data in it).
            with _recent_lock:
                for row in rows:
                    subject = ("case", row.case_number) if row.case_number else ("person", row.person_id)
                    _recent.pop((session_ref, viewer_account_id, *subject, hour), None)
            logger.exception("could not record %d reads", len(rows))
            return 0
    return len(rows)


def forget() -> None:
    """Empty this process's memory of recent looks (between tests)."""
    with _recent_lock:
        _recent.clear()


def in_window(start: datetime.datetime, end: datetime.datetime):
    """The looks recorded in a window (their first time in each hour falls in it)."""
    return Read.objects.filter(at__gte=start, at__lt=end)
