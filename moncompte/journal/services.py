"""Writing to the journal, and undoing what it records. Called by the other apps' services, never by views."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from moncompte.journal import context, kinds
from moncompte.journal.models import Entry

logger = logging.getLogger(__name__)
UndoHandler = Callable[[Entry], None]
UndoManyHandler = Callable[[list[Entry]], None]
_undo_handlers: dict[str, UndoHandler] = {}
_undo_many_handlers: dict[str, UndoManyHandler] = {}


class UndoError(Exception):
    pass


def register_undo(kind: str) -> Callable[[UndoHandler], UndoHandler]:
    """Declare how an action kind is undone. The handler gets the entry and must call services (which journal)."""

    def decorator(handler: UndoHandler) -> UndoHandler:
        _undo_handlers[kind] = handler
        return handler

    return decorator


def register_undo_many(kind: str) -> Callable[[UndoManyHandler], UndoManyHandler]:
    """Declare how several actions of a kind are undone at once, for a time window's cancellation (undo_many), where
    one query for the lot instead of one per entry is what keeps 100,000 undos within a minute. The handler gets the
    entries newest first, inside the batch's transaction, and must leave what undoing them one by one in that order
    would; a kind may have both handlers (the single one for `undo`), or this one alone."""

    def decorator(handler: UndoManyHandler) -> UndoManyHandler:
        _undo_many_handlers[kind] = handler
        return handler

    return decorator


def is_reversible(kind: str) -> bool:
    return kind in _undo_handlers or kind in _undo_many_handlers


def _handle(entries: list[Entry]) -> None:
    """Undo entries of one kind through its handlers: the batch one when there is one, else one entry at a time."""
    kind = entries[0].kind
    if kind in _undo_many_handlers and (len(entries) > 1 or kind not in _undo_handlers):
        _undo_many_handlers[kind](entries)
        return
    handler = _undo_handlers.get(kind)
    if handler is None:
        raise UndoError(f"Les actions de type « {kind} » ne peuvent pas être annulées.")
    for entry in entries:
        handler(entry)


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
        caller=ctx.caller,
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
    _handle([entry])
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
    pending = [locked[entry.pk] for entry in entries if entry.pk in locked]  # the others were undone already
    # Runs of one kind go to its handler together, in the order given: what undoing them one by one would do.
    for _, run in itertools.groupby(pending, key=attrgetter("kind")):
        _handle(list(run))
    if not pending:
        return results
    undo_entries = Entry.objects.bulk_create([_undo_entry(entry) for entry in pending])
    _mark_undone([(entry.pk, undo_entry.pk) for entry, undo_entry in zip(pending, undo_entries, strict=True)])
    return results


def _mark_undone(pairs: list[tuple[int, int]]) -> None:
    """Mark entries undone, each by its undo entry's id, in one UPDATE … FROM (VALUES …) (PostgreSQL, SQLite 3.33+):
    bulk_update's CASE expression would cost about half a millisecond an entry in Python alone."""
    table = connection.ops.quote_name(Entry._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), 1000):
            chunk = pairs[start : start + 1000]
            rows = ", ".join(["(%s, %s)"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} SET undone_at = %s, undone_by_id = v.column2 "  # noqa: S608 (no value in the text)
                f"FROM (VALUES {rows}) AS v WHERE {table}.id = v.column1",
                [now, *itertools.chain.from_iterable(chunk)],
            )
