"""Cancelling every action of an incident's window (issue 12, item 5).

The actions are the journal entries of the window written by the accounts of the people concerned who acted
(incidents.affected: people left out by the password rule keep theirs). They are taken newest first, in batches:
- an event (a sign-in, a code sent: journal.kinds `event`) changed nothing and is passed over;
- a reversible action is undone through its kind's handler (journal.services.undo_many, one transaction a batch);
- any other action, or one whose undo refuses (a request an agent already processed), becomes a WorkItem;
- the messages sent in the window to the people concerned cannot be recalled: each becomes a WorkItem too.

A dry run walks the same entries and changes nothing. A batch commits with the undo of its entries, so a run that is
stopped (a kill, a lost connection) loses at most its current batch, and running again goes on where it stopped:
undone entries are passed over, and a work item is never added twice. The cost grows with the window: every query
is bounded by it (its journal entries, by keyset pages of the (created_at, id) index)."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db.models import Q

from moncompte.incidents.affected import Affected, affected
from moncompte.incidents.models import Incident, WorkItem
from moncompte.journal import kinds
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage

BATCH = 500
NO_UNDO = "Ce type d'action n'a pas d'annulation automatique : à annuler à la main si nécessaire."
SENT = "Message déjà envoyé pendant la période : il ne peut pas être rappelé. L'avis individuel l'explique."

Progress = Callable[[int, int], None]


@dataclass
class Outcome:
    scanned: int = 0
    undone: Counter = field(default_factory=Counter)
    to_worklist: Counter = field(default_factory=Counter)
    events: int = 0
    messages: int = 0
    already_undone: int = 0

    def figures(self) -> dict:
        return {
            "scanned": self.scanned,
            "undone": sum(self.undone.values()),
            "to_worklist": sum(self.to_worklist.values()),
            "events": self.events,
            "messages": self.messages,
            "already_undone": self.already_undone,
            "undone_by_kind": dict(self.undone.most_common()),
            "worklist_by_kind": dict(self.to_worklist.most_common()),
        }


def _window_entries(start: datetime.datetime, end: datetime.datetime):
    return Entry.objects.filter(created_at__gte=start, created_at__lt=end, actor_account_id__isnull=False).exclude(
        kind__endswith=kinds.UNDONE
    )


def _pages(start: datetime.datetime, end: datetime.datetime, size: int) -> Iterator[list[Entry]]:
    """The window's entries not undone yet, newest first, a page at a time (keyset on the journal's (created_at, id)
    index). Each page's query starts the index range at the last key (`created_at <= x`, the OR only settles ties),
    so a page reads its own rows and not the pages before it."""
    queryset = _window_entries(start, end).filter(undone_at__isnull=True).order_by("-created_at", "-id")
    last: tuple[datetime.datetime, int] | None = None
    while True:
        page_qs = queryset
        if last is not None:
            page_qs = queryset.filter(
                Q(created_at__lt=last[0]) | Q(created_at=last[0], id__lt=last[1]), created_at__lte=last[0]
            )
        page = list(page_qs[:size])
        if not page:
            return
        yield page
        last = (page[-1].created_at, page[-1].pk)


def _work_item(incident: Incident, entry: Entry, reason: str) -> WorkItem:
    return WorkItem(
        incident=incident,
        kind=WorkItem.Kind.ACTION,
        entry_id=entry.pk,
        what=entry.kind,
        person_id=entry.person_id,
        case_number=entry.case_number,
        at=entry.created_at,
        reason=reason,
    )


def cancel(
    incident: Incident,
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    dry_run: bool,
    progress: Progress | None = None,
    batch: int = BATCH,
    who: Affected | None = None,
) -> Outcome:
    who = who or affected(start, end)
    accounts = who.concerned_accounts()
    outcome = Outcome()
    outcome.already_undone = _window_entries(start, end).filter(undone_at__isnull=False).count()
    events = set(kinds.event_names())
    total = _window_entries(start, end).filter(undone_at__isnull=True).count()
    for page in _pages(start, end, batch):
        outcome.scanned += len(page)
        to_undo: list[Entry] = []
        items: list[WorkItem] = []
        for entry in page:
            if entry.actor_account_id not in accounts:
                continue
            if entry.kind in events:
                outcome.events += 1
            elif journal.is_reversible(entry.kind):
                to_undo.append(entry)
            else:
                items.append(_work_item(incident, entry, NO_UNDO))
                outcome.to_worklist[entry.kind] += 1
        if dry_run:
            outcome.undone.update(entry.kind for entry in to_undo)
        elif to_undo:
            results = journal.undo_many(to_undo)
            for entry in to_undo:
                error = results[entry.pk]
                if error is None:
                    outcome.undone[entry.kind] += 1
                else:
                    items.append(_work_item(incident, entry, str(error)))
                    outcome.to_worklist[entry.kind] += 1
        if items and not dry_run:
            WorkItem.objects.bulk_create(items, ignore_conflicts=True)
        if progress is not None:
            progress(outcome.scanned, total)

    people = who.concerned
    messages = OutboxMessage.objects.filter(created_at__gte=start, created_at__lt=end, person_id__isnull=False)
    items = []
    for message in messages.only("pk", "template", "person_id", "created_at").iterator(chunk_size=2000):
        if message.person_id in people:
            outcome.messages += 1
            items.append(
                WorkItem(
                    incident=incident,
                    kind=WorkItem.Kind.MESSAGE,
                    message_id=message.pk,
                    what=message.template,
                    person_id=message.person_id,
                    at=message.created_at,
                    reason=SENT,
                )
            )
    if items and not dry_run:
        WorkItem.objects.bulk_create(items, ignore_conflicts=True, batch_size=1000)
    return outcome
