"""Whether the service is closed: every channel asks `closed()` before it answers (the web's middleware, and the API
and the phone channel when they exist).

The database holds the answer (the open `Closure`), so every process of every machine sharing it sees the same
thing. Each process asks it at most once per INCIDENT_SWITCH_POLL_SECONDS (2 s): a closure decided anywhere reaches
every process within that time plus one request, one indexed single-row query per process every two seconds
whatever the traffic. The process that closes or reopens forgets its answer at once (`forget`)."""

from __future__ import annotations

import datetime
import threading
import time
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Closed:
    since: datetime.datetime


_lock = threading.Lock()
_answer: tuple[float, Closed | None] | None = None


def closed() -> Closed | None:
    """The current closure (since when), or None while the service is open."""
    global _answer
    answer = _answer
    now = time.monotonic()
    if answer is not None and now - answer[0] < settings.INCIDENT_SWITCH_POLL_SECONDS:
        return answer[1]
    from moncompte.incidents.models import Closure

    with _lock:
        since = Closure.objects.filter(current=True).values_list("closed_at", flat=True).first()
        state = Closed(since) if since is not None else None
        _answer = (now, state)
    return state


def forget() -> None:
    """Ask the database again on the next request (after this process closed or reopened, and between tests)."""
    global _answer
    _answer = None
