"""Individual notices (issue 12, item 6): each person an incident concerns is told, in French, what happened, why
they are concerned, what was cancelled for them and what to do next, by e-mail and/or SMS through the outbox.

Exactly once per person and incident, however many runs: a person's `Notice` row and their messages are written in
one transaction, and the row's unique constraint refuses a second one. A person with no validated contact (the outbox
writes only to those) goes to the agents' worklist, to be written to by post. The queueing is throttled
(INCIDENT_NOTICE_RATE people a second) so the e-mail and SMS gateways are not flooded; the outbox's workers send."""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from moncompte.identity.models import Person
from moncompte.incidents.affected import Affected, affected, chunks
from moncompte.incidents.models import Incident, Notice, WorkItem
from moncompte.journal import kinds
from moncompte.journal.models import Entry
from moncompte.messaging.services import person_notify

TEMPLATE = "incidents/notices/incident"
NO_CONTACT = "Aucune coordonnée validée : écrire à la personne par courrier (avis individuel de l'incident)."
BATCH = 200


@dataclass
class Sent:
    notified: int = 0
    messages: int = 0
    no_contact: int = 0
    already: int = 0

    def figures(self) -> dict[str, int]:
        return {
            "notified": self.notified,
            "messages": self.messages,
            "no_contact": self.no_contact,
            "already": self.already,
        }


def _long(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "j F Y à H:i")


def _short(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "d/m H:i")


def _cancelled_by_person(who: Affected, people: list[int], start, end) -> dict[int, list[str]]:
    """What was undone in the window for each of these people: the labels of their actions."""
    accounts = {account: person for account, person in who.account_people.items() if person in set(people)}
    labels: dict[int, list[str]] = defaultdict(list)
    entries = Entry.objects.filter(
        created_at__gte=start, created_at__lt=end, undone_at__isnull=False, actor_account_id__in=list(accounts)
    ).order_by("created_at", "id")
    for entry in entries:
        labels[accounts[entry.actor_account_id]].append(kinds.label(entry))
    return labels


def notify(
    incident: Incident,
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    rate: float,
    progress: Callable[[int, int], None] | None = None,
    batch: int = BATCH,
    who: Affected | None = None,
) -> Sent:
    who = who or affected(start, end)
    people = sorted(who.concerned)
    closure = incident.closures.order_by("closed_at").first()
    common = {
        "start": _long(start),
        "end": _long(end),
        "start_short": _short(start),
        "end_short": _short(end),
        "public_summary": incident.public_summary,
        "closed_at": _long(closure.closed_at) if closure else "",
        "dpo_contact": settings.DPO_CONTACT,
    }
    sent = Sent()
    began = time.monotonic()
    for chunk in chunks(people, batch):
        known = set(Notice.objects.filter(incident=incident, person_id__in=chunk).values_list("person_id", flat=True))
        sent.already += len(known)
        todo = [person for person in chunk if person not in known]
        names = {person.pk: person.first_name for person in Person.objects.filter(pk__in=todo)}
        cancelled = _cancelled_by_person(who, todo, start, end)
        for person_id in todo:
            context = {
                **common,
                "first_name": names.get(person_id, ""),
                "seen": person_id in who.outside,
                "acted": person_id in who.acted,
                "cancelled": cancelled.get(person_id, []),
            }
            try:
                with transaction.atomic():
                    notice = Notice.objects.create(
                        incident=incident, person_id=person_id, cancelled=len(context["cancelled"])
                    )
                    messages = person_notify(person_id=person_id, template=TEMPLATE, context=context)
                    notice.messages = [message.pk for message in messages]
                    notice.save(update_fields=["messages"])
                    if not messages:
                        WorkItem.objects.create(
                            incident=incident,
                            kind=WorkItem.Kind.CONTACT,
                            what=TEMPLATE,
                            person_id=person_id,
                            at=timezone.now(),
                            reason=NO_CONTACT,
                        )
            except IntegrityError:  # another run told this person in the meantime
                sent.already += 1
                continue
            sent.notified += 1
            sent.messages += len(messages)
            sent.no_contact += not messages
            ahead = sent.notified / rate - (time.monotonic() - began)
            if ahead > 0:
                time.sleep(ahead)
        if progress is not None:
            progress(sent.notified + sent.already, len(people))
    return sent
