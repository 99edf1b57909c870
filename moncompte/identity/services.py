"""Changes to the person registry's side records: "Signaler une erreur" correction requests, filed by the person and
handled by an agent. Each function runs in one transaction and writes its journal entry in it.

The journal sits on the same ground floor as identity and knows no other app: identity may write to it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from moncompte.identity.models import CorrectionRequest, Person
from moncompte.journal import services as journal
from moncompte.journal.models import Entry

#: The longest description a person may type: enough for an explanation, not a dumping ground.
CORRECTION_MESSAGE_MAX_LENGTH = 2000


@transaction.atomic
def correction_request_file(*, person: Person, topic: str, message: str) -> CorrectionRequest:
    """File a correction request for an agent. The caller has checked the topic and the length of the message.

    The journal entry names the topic, never the message: a person may type their NIR in it."""
    request = CorrectionRequest.objects.create(person=person, topic=topic, message=message)
    journal.record("correction.requested", person_id=person.pk, after={"request": request.pk, "topic": topic})
    return request


@journal.register_undo("correction.requested")
def _undo_correction_requested(entry: Entry) -> None:
    # A request filed by someone else in the person's name goes, unless an agent already handled it.
    CorrectionRequest.objects.filter(pk=entry.after.get("request"), status=CorrectionRequest.Status.OPEN).delete()


@transaction.atomic
def correction_request_mark_done(*, request: CorrectionRequest, agent_account_id: int | None) -> CorrectionRequest:
    """An agent checked the request and corrected what had to be (or not): the request leaves the to-do list."""
    request = CorrectionRequest.objects.select_for_update().get(pk=request.pk)
    if request.status == CorrectionRequest.Status.DONE:
        return request
    request.status = CorrectionRequest.Status.DONE
    request.handled_at = timezone.now()
    request.save(update_fields=["status", "handled_at"])
    journal.record(
        "correction.handled",
        person_id=request.person_id,
        before={"request": request.pk, "status": CorrectionRequest.Status.OPEN},
        after={"request": request.pk, "status": CorrectionRequest.Status.DONE},
        actor_account_id=agent_account_id,
    )
    return request


@journal.register_undo("correction.handled")
def _undo_correction_handled(entry: Entry) -> None:
    CorrectionRequest.objects.filter(pk=entry.after.get("request")).update(
        status=CorrectionRequest.Status.OPEN, handled_at=None
    )
