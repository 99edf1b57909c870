"""Changes to the person registry's side records: "Signaler une erreur" correction requests, filed by the person and
handled by an agent. Each function runs in one transaction and writes its journal entry in it.

The journal sits on the same ground floor as identity and knows no other app: identity may write to it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from moncompte.identity.models import PERSON_DATA_FIELDS, CorrectionRequest, Person
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


#: What an agent may correct on a person from the admin (the NIR and the provisional id are never edited there).
CORRECTABLE_FIELDS = PERSON_DATA_FIELDS


def _journal_value(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


@transaction.atomic
def person_correct(*, person: Person, changes: dict, agent_account_id: int | None) -> Person:
    """An agent corrects a person's identity or contacts on file (after a correction request, for instance).
    Journaled with the old and new values of the changed fields, and undoable."""
    changes = {field: value for field, value in changes.items() if field in CORRECTABLE_FIELDS}
    current = Person.objects.select_for_update().get(pk=person.pk)
    before = {field: getattr(current, field) for field in changes if getattr(current, field) != changes[field]}
    if not before:
        return current
    for field in before:
        setattr(current, field, changes[field])
    current.save(update_fields=[*before, "updated_at"])
    journal.record(
        "person.corrected",
        person_id=current.pk,
        before={field: _journal_value(value) for field, value in before.items()},
        after={field: _journal_value(getattr(current, field)) for field in before},
        actor_account_id=agent_account_id,
    )
    return current


@journal.register_undo("person.corrected")
def _undo_person_corrected(entry: Entry) -> None:
    person = Person.objects.get(pk=entry.person_id)
    for field, value in entry.before.items():
        setattr(person, field, Person._meta.get_field(field).to_python(value))
    person.save(update_fields=[*entry.before, "updated_at"])
