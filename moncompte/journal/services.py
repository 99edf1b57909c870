"""Writing to the journal, and undoing what it records. Called by the other apps' services, never by views."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from moncompte.journal import context, kinds
from moncompte.journal.models import Entry

logger = logging.getLogger(__name__)
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
    entry = _entry(kind, person_id, case_number, before, after, actor_account_id)
    entry.save(force_insert=True)
    return entry


def _entry(kind, person_id, case_number, before, after, actor_account_id) -> Entry:
    """An unsaved entry, with who acts and from where (journal.context)."""
    ctx = context.current()
    return Entry(
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


def _undo_entry(entry: Entry) -> Entry:
    """The unsaved record of undoing `entry`: its kind + ".undone", the states swapped."""
    return _entry(f"{entry.kind}{kinds.UNDONE}", entry.person_id, entry.case_number, entry.after, entry.before, None)


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
    undo_entry = _undo_entry(entry)
    undo_entry.save(force_insert=True)
    entry.undone_at = timezone.now()
    entry.undone_by = undo_entry
    entry.save(update_fields=["undone_at", "undone_by"])
    return undo_entry


def undo_many(entries: list[Entry]) -> dict[int, UndoError | None]:
    """Undo several recorded actions, in the order given (newest first, for a time window), in one transaction:
    each through its kind's handler, the undo entries written together. Returns, for each entry id, None when it was
    undone (or had been already) or the UndoError that stopped it.

    When a handler refuses (UndoError) or fails, the batch is rolled back and redone one entry at a time, each in its
    own transaction, so one refusal costs its batch's speed and nothing else. Entries undone already are passed over:
    calling it again after an interruption finishes the work."""
    try:
        with transaction.atomic():
            return _undo_batch(entries)
    except Exception as error:  # the slow path below tells each entry's own error
        logger.info("undo of %d entries rolled back (%s): one at a time", len(entries), type(error).__name__)
    results: dict[int, UndoError | None] = {}
    for entry in entries:
        try:
            undo(entry)
        except UndoError as error:
            results[entry.pk] = None if entry.undone_at or _already_undone(entry) else error
        except Exception as error:  # a handler's bug must not stop the cancellation of the others
            logger.exception("undo of journal entry %s (%s) failed", entry.pk, entry.kind)
            results[entry.pk] = UndoError(f"Erreur inattendue ({type(error).__name__}) : à annuler à la main.")
        else:
            results[entry.pk] = None
    return results


def _already_undone(entry: Entry) -> bool:
    return Entry.objects.filter(pk=entry.pk, undone_at__isnull=False).exists()


def _undo_batch(entries: list[Entry]) -> dict[int, UndoError | None]:
    locked = {
        e.pk: e
        for e in Entry.objects.select_for_update().filter(pk__in=[e.pk for e in entries], undone_at__isnull=True)
    }
    results: dict[int, UndoError | None] = {entry.pk: None for entry in entries}
    done: list[tuple[Entry, Entry]] = []
    for entry in entries:
        locked_entry = locked.get(entry.pk)
        if locked_entry is None:
            continue  # undone already
        handler = _undo_handlers.get(locked_entry.kind)
        if handler is None:
            raise UndoError(f"Les actions de type « {locked_entry.kind} » ne peuvent pas être annulées.")
        handler(locked_entry)
        done.append((locked_entry, _undo_entry(locked_entry)))
    if not done:
        return results
    undo_entries = Entry.objects.bulk_create([undo_entry for _, undo_entry in done])
    now = timezone.now()
    for (entry, _), undo_entry in zip(done, undo_entries, strict=True):
        entry.undone_at, entry.undone_by = now, undo_entry
    Entry.objects.bulk_update([entry for entry, _ in done], ["undone_at", "undone_by"])
    return results
