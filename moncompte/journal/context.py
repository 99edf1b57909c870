"""Who is acting, from where: set once per request (or command, or phone call), read by `journal.services.record`."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace

from moncompte.journal.models import Channel


@dataclass(frozen=True)
class ActionContext:
    channel: str = Channel.SYSTEM
    actor_account_id: int | None = None
    session_ref: str = ""
    ip_address: str | None = None
    user_agent: str = ""
    #: The calling number (E.164) of a phone call, as the provider gave it.
    caller: str = ""


_current: ContextVar[ActionContext] = ContextVar("journal_action_context", default=ActionContext())  # noqa: B039 (frozen)


def current() -> ActionContext:
    return _current.get()


def session_ref(session_key: str | None) -> str:
    """A short fingerprint of a session key: enough to group a session's actions, useless to hijack it."""
    if not session_key:
        return ""
    return hashlib.sha256(session_key.encode()).hexdigest()[:16]


@contextlib.contextmanager
def acting(**changes) -> Iterator[ActionContext]:
    """Run a block with some fields of the action context changed (channel, actor, session…)."""
    token = _current.set(replace(_current.get(), **changes))
    try:
        yield _current.get()
    finally:
        _current.reset(token)
