"""Writing to the journal, and undoing what it records. Called by the other apps' services, never by views."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from moncompte.journal import context, kinds
from moncompte.journal.models import Entry

UndoHandler = Callable[[Entry], None]
_undo_handlers: dict[str, UndoHandler] = {}


class UndoError(Exception):
    pass


def register_undo(kind: str) -> Callable[[UndoHandler], UndoHandler]:
    """Declare how an action kind is undone. The handler gets the entry and must call services (which journal)."""

    def decorator(handler: UndoHandler) -> UndoHandler:
        _undo_handlers[kind] = handler
        return handler

    return decorator


def is_reversible(kind: str) -> bool:
    return kind in _undo_handlers


def record(
    kind: str,
    *,
    person_id: int | None = None,
    case_number: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    actor_account_id: int | None = None,
) -> Entry:
    """Write one entry. Must run inside the caller's transaction, so the action and its entry commit together.

    Raises kinds.UnknownKind for a kind no app declared (journal/kinds.py)."""
    kinds.get(kind)
    ctx = context.current()
    return Entry.objects.create(
        kind=kind,
        person_id=person_id,
        case_number=case_number or "",
        before=dict(before or {}),
        after=dict(after or {}),
        actor_account_id=actor_account_id if actor_account_id is not None else ctx.actor_account_id,
        channel=ctx.channel,
        session_ref=ctx.session_ref,
        ip_address=ctx.ip_address,
        user_agent=ctx.user_agent,
    )


@transaction.atomic
def undo(entry: Entry) -> Entry:
    """Undo one recorded action through its kind's handler; the undo itself is journaled and linked."""
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    if entry.undone_at is not None:
        raise UndoError("Cette action a déjà été annulée.")
    handler = _undo_handlers.get(entry.kind)
    if handler is None:
        raise UndoError(f"Les actions de type « {entry.kind} » ne peuvent pas être annulées.")
    handler(entry)
    undo_entry = record(
        f"{entry.kind}.undone",
        person_id=entry.person_id,
        case_number=entry.case_number,
        before=entry.after,
        after=entry.before,
    )
    entry.undone_at = timezone.now()
    entry.undone_by = undo_entry
    entry.save(update_fields=["undone_at", "undone_by"])
    return undo_entry
