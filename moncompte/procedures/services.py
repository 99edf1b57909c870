"""Every change to a request: start, save a step, add or remove a document, hand it to the holder, submit it, and the
housekeeping of old drafts. Each runs in one transaction and writes its journal entry; the pages call these.

Who may do what is checked here as well as on the pages (households.policy): PREPARE_REQUEST to start and fill in a
household request, START_REQUEST to send it. A new applicant, who belongs to no case yet, prepares and sends their
own first request (case None)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from moncompte.households import policy
from moncompte.households.models import Case, Membership, Role
from moncompte.households.policy import Capability
from moncompte.households.selectors import membership_in_role
from moncompte.identity.models import Person
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.services import person_notify
from moncompte.procedures import documents, registry
from moncompte.procedures.models import Document, Draft, Submission
from moncompte.procedures.registry import ProcedureKind, Step, StepContext
from moncompte.procedures.steps import bind, corrections_of, missing_documents, prefill_record, summary_of

NOTICE_SUBMITTED = "procedures/notices/submitted"
NOTICE_WAITING = "procedures/notices/draft_waiting"
NOTICE_REMINDER = "procedures/notices/draft_reminder"
#: Documents a step may hold for one purpose.
MAX_DOCUMENTS_PER_SLOT = 5
REMINDER_BEFORE = timedelta(days=7)
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U
_REFERENCE_FORM = re.compile(rf"[A-Z]{{2}}-[0-9]{{4}}-([{_REFERENCE_ALPHABET}]{{4}})-([{_REFERENCE_ALPHABET}]{{3}})")


class ProcedureError(Exception):
    """A change the request's state or the person's standing does not allow; `message` is for the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DraftGone(ProcedureError):
    """The draft expired or was sent or deleted meanwhile."""


class StaleDraft(ProcedureError):
    """The page was shown before another save (another device, another tab) or its hidden field was changed."""


class DraftIncomplete(ProcedureError):
    """A step is not (or no longer) valid: `step` is where the person must go back."""

    def __init__(self, message: str, step: str):
        super().__init__(message)
        self.step = step


# --- Who may ---------------------------------------------------------------------------------------------------------


def may_prepare(person: Person, case: Case | None) -> bool:
    if case is None:  # a new applicant's first request: only someone who belongs to no case yet
        return not Membership.objects.filter(person=person).exists()
    return policy.can(person, Capability.PREPARE_REQUEST, case)


def may_submit(person: Person, draft: Draft) -> bool:
    if draft.case_id is None:
        return draft.author_id == person.pk
    return policy.can(person, Capability.START_REQUEST, draft.case)


def context_for(draft: Draft, viewer: Person) -> StepContext:
    """The forms speak of the draft's author (registry.StepContext); `viewer` is who is on the page."""
    author = draft.author
    sees = draft.case is not None and policy.can(author, Capability.VIEW_CASE, draft.case)
    return StepContext(person=author, case=draft.case, data=draft.data, sees_household=sees, viewer=viewer)


def version(draft: Draft) -> str:
    """The draft's version, carried by each form: a save from a page shown before another save is refused."""
    return str(int(draft.saved_at.timestamp() * 1_000_000))


def kind_of(draft: Draft) -> ProcedureKind:
    kind = registry.get(draft.kind)
    if kind is None:  # a kind withdrawn from the catalogue
        raise DraftGone(_("Cette démarche n'est plus proposée en ligne."))
    return kind


def _expiry(now: datetime) -> datetime:
    return now + timedelta(days=settings.PROCEDURE_DRAFT_DAYS)


def _case_number(draft: Draft | Submission) -> str:
    return draft.case.case_number if draft.case_id else ""


def check_alive(draft: Draft | None) -> None:
    """DraftGone for a draft sent or deleted (None) or past its expiry (not yet removed by the housekeeping)."""
    if draft is None or draft.expires_at <= timezone.now():
        raise DraftGone(
            _("Cette démarche n'existe plus : elle a été envoyée, supprimée, ou son délai de conservation est passé.")
        )


def _locked(draft: Draft, seen: str | None) -> Draft:
    # of=("self",): the case is a nullable join, and PostgreSQL refuses FOR UPDATE on the nullable side of one.
    fresh = Draft.objects.select_for_update(of=("self",)).select_related("case").filter(pk=draft.pk).first()
    check_alive(fresh)
    if seen is not None and seen != version(fresh):
        raise StaleDraft(
            _(
                "Cette démarche a été modifiée entre-temps (depuis un autre appareil ou un autre onglet) : "
                "rien n'a été enregistré. Vérifiez l'étape ci-dessous et enregistrez-la à nouveau."
            )
        )
    return fresh


def _touch(draft: Draft) -> None:
    now = timezone.now()
    draft.saved_at, draft.expires_at, draft.reminded_at = now, _expiry(now), None


# --- Drafts ----------------------------------------------------------------------------------------------------------


@transaction.atomic
def draft_start(*, kind: ProcedureKind, person: Person, case: Case | None) -> Draft:
    if not may_prepare(person, case):
        raise ProcedureError(_("Vous ne pouvez pas faire cette demande pour ce dossier."))
    now = timezone.now()
    draft = Draft.objects.create(
        kind=kind.slug,
        case=case,
        author=person,
        current_step=kind.steps[0].name,
        saved_at=now,
        expires_at=_expiry(now),
    )
    journal.record(
        "procedure.started",
        person_id=person.pk,
        case_number=_case_number(draft),
        after={"draft_id": draft.pk, "kind": kind.slug},
    )
    return draft


@transaction.atomic
def step_save(*, draft: Draft, step: Step, raw: dict[str, Any], person: Person, seen: str, complete: bool) -> Draft:
    """Keep what was typed at `step`. `complete`: the form was valid and the step's documents are there, the draft
    moves to the next step; otherwise (« Enregistrer et reprendre plus tard ») it is kept as typed, to finish later."""
    draft = _locked(draft, seen)
    kind = kind_of(draft)
    before = {
        "step": step.name,
        "values": draft.data.get(step.name),
        "completed": list(draft.completed),
        "current_step": draft.current_step,
        "prefill": draft.prefill.get(step.name),
    }
    draft.data = {**draft.data, step.name: raw}
    completed = [name for name in draft.completed if name != step.name]
    if complete:
        completed.append(step.name)
        draft.current_step = kind.steps[kind.index(step.name) + 1].name
        if step.prefill is not None:
            draft.prefill = {**draft.prefill, step.name: prefill_record(step, context_for(draft, person))}
    else:
        draft.current_step = step.name
    draft.completed = [s.name for s in kind.steps if s.name in completed]
    _touch(draft)
    draft.save()
    journal.record(
        "procedure.saved",
        person_id=person.pk,
        case_number=_case_number(draft),
        before=before,
        after={"draft_id": draft.pk, "step": step.name, "complete": complete},
    )
    return draft


@transaction.atomic
def step_go_back(*, draft: Draft, step: Step, person: Person) -> Draft:
    """The person opened an earlier step: the draft resumes there next time (nothing typed is lost)."""
    draft = _locked(draft, None)
    if draft.current_step != step.name:
        draft.current_step = step.name
        draft.save(update_fields=["current_step"])
    return draft


@transaction.atomic
def document_add(
    *, draft: Draft, step: Step, slot: str, upload: UploadedFile, person: Person, seen: str | None = None
) -> Document:
    """Keep a supporting document for one of the step's slots (raises documents.DocumentRefused, ProcedureError).
    The draft's version changes: the caller reads it again (`document.draft`) for its next save."""
    if slot not in {s.name for s in step.documents}:
        raise ProcedureError(_("Cette pièce n'est pas demandée à cette étape."))
    checked = documents.check(upload)
    draft = _locked(draft, seen)
    if draft.documents.filter(purpose=slot).count() >= MAX_DOCUMENTS_PER_SLOT:
        raise ProcedureError(
            _("Vous avez déjà déposé %(count)s fichiers pour cette pièce : retirez-en un pour en ajouter un autre.")
            % {"count": MAX_DOCUMENTS_PER_SLOT}
        )
    document = Document(
        owner=person,
        draft=draft,
        purpose=slot,
        original_name=checked.original_name,
        content_type=checked.content_type,
        size=len(checked.content),
        sha256=checked.sha256,
        uploaded_at=timezone.now(),
    )
    document.file.save(f"piece{checked.extension}", ContentFile(checked.content), save=False)
    try:
        document.save()
        _touch(draft)
        draft.save(update_fields=["saved_at", "expires_at", "reminded_at"])
        journal.record(
            "procedure.document_added",
            person_id=person.pk,
            case_number=_case_number(draft),
            after={"draft_id": draft.pk, "document_id": document.pk, "purpose": slot},
        )
    except BaseException:
        document.file.storage.delete(document.file.name)  # no row, no file
        raise
    return document


#: The documents a draft holds that no live submission holds: a withdrawn submission (undone) gave its documents back
#: to the draft that came back; it keeps its summary, which names them.
_FREE = Q(submission__isnull=True) | Q(submission__withdrawn_at__isnull=False)


@transaction.atomic
def document_remove(*, draft: Draft, document_id: Any, person: Person, seen: str | None = None) -> None:
    draft = _locked(draft, seen)
    document = draft.documents.filter(_FREE, pk=_as_id(document_id)).first()
    if document is None:
        raise ProcedureError(_("Ce fichier n'est pas (ou plus) dans cette démarche."))
    before = {"draft_id": draft.pk, "document_id": document.pk, "purpose": document.purpose}
    _delete_files([document])
    document.delete()
    journal.record("procedure.document_removed", person_id=person.pk, case_number=_case_number(draft), before=before)


@transaction.atomic
def draft_hand_over(*, draft: Draft, person: Person) -> Draft:
    """A partner without delegation has prepared a household request: the holder is told it awaits them."""
    draft = _locked(draft, None)
    kind = kind_of(draft)
    if draft.case_id is None or may_submit(person, draft):
        raise ProcedureError(_("Vous pouvez envoyer cette demande vous-même."))
    check_complete(draft, kind, person)
    holder = membership_in_role(draft.case, Role.HOLDER)
    if holder is None:
        raise ProcedureError(_("Ce dossier n'a pas d'allocataire à prévenir : contactez votre Caf."))
    draft.holder_told_at = timezone.now()
    draft.save(update_fields=["holder_told_at"])
    person_notify(
        person_id=holder.person_id,
        template=NOTICE_WAITING,
        context={"person": holder.person, "title": kind.title, "case_number": draft.case.case_number},
    )
    journal.record(
        "procedure.handed_over",
        person_id=person.pk,
        case_number=_case_number(draft),
        after={"draft_id": draft.pk, "holder_id": holder.person_id},
    )
    return draft


@transaction.atomic
def draft_delete(*, draft: Draft, person: Person) -> None:
    draft = _locked(draft, None)
    before = {"draft_id": draft.pk, "kind": draft.kind, "step": draft.current_step}
    _delete_draft(draft)
    journal.record("procedure.deleted", person_id=person.pk, case_number=_case_number(draft), before=before)


def _delete_draft(draft: Draft) -> None:
    kept = list(draft.documents.filter(_FREE))
    _delete_files(kept)
    Document.objects.filter(pk__in=[d.pk for d in kept]).delete()
    draft.delete()


# --- Submission ------------------------------------------------------------------------------------------------------


def check_complete(draft: Draft, kind: ProcedureKind, person: Person) -> list:
    """Every step validated again, as the person would see it; the forms, or DraftIncomplete at the first wrong one."""
    context = context_for(draft, person)
    forms = []
    for step in kind.form_steps:
        form = bind(step, context, draft.data.get(step.name) or {})
        if step.name not in draft.completed or not form.is_valid():
            raise DraftIncomplete(
                _("L'étape « %(title)s » est à compléter avant l'envoi.") % {"title": step.title}, step.name
            )
        if missing_documents(step, draft):
            raise DraftIncomplete(
                _("Une pièce justificative manque à l'étape « %(title)s ».") % {"title": step.title}, step.name
            )
        forms.append((step, form))
    return forms


@transaction.atomic
def draft_submit(*, draft: Draft, person: Person, seen: str) -> Submission:
    draft = _locked(draft, seen)
    kind = kind_of(draft)
    if not may_submit(person, draft):
        raise ProcedureError(
            _(
                "Seul l'allocataire (ou son conjoint, s'il a une délégation) peut envoyer cette demande : "
                "vous pouvez la préparer, l'allocataire l'enverra."
            )
        )
    forms = check_complete(draft, kind, person)
    now = timezone.now()
    submission = Submission.objects.create(
        reference=_new_reference(kind, now),
        kind=kind.slug,
        case=draft.case,
        author=person,
        prepared_by=draft.author if draft.author_id != person.pk else None,
        data={
            "raw": draft.data,
            "summary": summary_of(forms, draft),
            "prefill": draft.prefill,
            "current_step": draft.current_step,
        },
        corrections=corrections_of(forms, draft),
        submitted_at=now,
    )
    draft.documents.update(submission=submission)
    journal.record(
        "procedure.submitted",
        person_id=person.pk,
        case_number=_case_number(submission),
        after={"submission_id": submission.pk, "reference": submission.reference, "kind": kind.slug},
    )
    told = {person.pk, draft.author_id}
    for recipient_id in told:
        person_notify(
            person_id=recipient_id,
            template=NOTICE_SUBMITTED,
            context={
                "title": kind.title,
                "reference": submission.reference,
                "when": timezone.localtime(now),
                "by_other": recipient_id != person.pk,
                "person": Person.objects.get(pk=recipient_id),
            },
        )
    draft.delete()
    return submission


def reference_check(chars: str) -> str:
    """The check character of a reference's random part: Luhn mod 32. It catches every single wrong character and
    every swap of two neighbours but one (0 and Z). (A weighted sum mod 32 with weights 1…6 missed a wrong character
    16 apart at an even place: 32 is not prime.)"""
    total, factor = 0, 2
    for char in reversed(chars):
        addend = factor * _REFERENCE_ALPHABET.index(char)
        total += addend // 32 + addend % 32
        factor = 3 - factor
    return _REFERENCE_ALPHABET[-total % 32]


def reference_is_valid(reference: str) -> bool:
    """Whether a reference (« AL-2026-7KM3-Q9X ») is of our form and its check character agrees."""
    match = _REFERENCE_FORM.fullmatch(str(reference).upper())
    return match is not None and reference_check(match[1] + match[2][:2]) == match[2][2]


def _new_reference(kind: ProcedureKind, now: datetime) -> str:
    """« AL-2026-7KM3-Q9X »: the kind, the year, 6 random characters and a check character (`reference_check`),
    so that a reference read out on the phone with a typo is caught."""
    for _attempt in range(10):
        chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))
        chars += reference_check(chars)
        reference = f"{kind.code}-{now:%Y}-{chars[:4]}-{chars[4:]}"
        if not Submission.objects.filter(reference=reference).exists():
            return reference
    raise RuntimeError("no free reference")  # 10 collisions in a row among 10⁹ references: not a real case


# --- Housekeeping (a periodic task) ----------------------------------------------------------------------------------


def drafts_remind(now: datetime | None = None) -> int:
    """Tell the author of each draft that expires within a week (once per draft and expiry date)."""
    now = now or timezone.now()
    due = Draft.objects.filter(expires_at__gt=now, expires_at__lte=now + REMINDER_BEFORE, reminded_at__isnull=True)
    count = 0
    for draft_id in due.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            draft = Draft.objects.select_for_update().filter(pk=draft_id, reminded_at__isnull=True).first()
            if draft is None:
                continue
            kind = registry.get(draft.kind)
            draft.reminded_at = now
            draft.save(update_fields=["reminded_at"])
            person_notify(
                person_id=draft.author_id,
                template=NOTICE_REMINDER,
                context={
                    "person": draft.author,
                    "title": kind.title if kind else draft.kind,
                    "expires_at": timezone.localtime(draft.expires_at),
                },
            )
            journal.record(
                "procedure.reminded",
                person_id=draft.author_id,
                case_number=_case_number(draft),
                after={"draft_id": draft.pk},
            )
            count += 1
    return count


def drafts_expire(now: datetime | None = None) -> int:
    """Delete the drafts past their expiry, with their documents (each in its own transaction: resumable)."""
    now = now or timezone.now()
    count = 0
    for draft_id in Draft.objects.filter(expires_at__lte=now).values_list("pk", flat=True).iterator():
        with transaction.atomic():
            draft = Draft.objects.select_for_update(of=("self",)).select_related("case").filter(pk=draft_id).first()
            if draft is None or draft.expires_at > now:
                continue
            before = {"draft_id": draft.pk, "kind": draft.kind, "expires_at": draft.expires_at.isoformat()}
            _delete_draft(draft)
            journal.record(
                "procedure.expired", person_id=draft.author_id, case_number=_case_number(draft), before=before
            )
            count += 1
    return count


# --- Files -----------------------------------------------------------------------------------------------------------


def _delete_files(kept: list[Document]) -> None:
    names = [d.file.name for d in kept]
    if names:
        storage = kept[0].file.storage
        transaction.on_commit(lambda: [storage.delete(name) for name in names])


def _as_id(value: Any) -> int:
    try:
        value = int(value)
    except (TypeError, ValueError):
        return 0
    return value if 0 < value <= policy.MAX_ID else 0


# --- Undo (the journal's handlers) -----------------------------------------------------------------------------------


@journal.register_undo("procedure.started")
def _undo_started(entry: Entry) -> None:
    draft = Draft.objects.filter(pk=entry.after.get("draft_id")).first()
    if draft is not None:
        _delete_draft(draft)


@journal.register_undo("procedure.saved")
def _undo_saved(entry: Entry) -> None:
    draft = Draft.objects.select_for_update().filter(pk=entry.after.get("draft_id")).first()
    if draft is None:
        return  # sent or deleted since: the submission's own undo restores it
    before = entry.before
    data = dict(draft.data)
    prefill = dict(draft.prefill)
    for store, key in ((data, "values"), (prefill, "prefill")):
        if before.get(key) is None:
            store.pop(before["step"], None)
        else:
            store[before["step"]] = before[key]
    draft.data, draft.prefill = data, prefill
    draft.completed, draft.current_step = before["completed"], before["current_step"]
    draft.save(update_fields=["data", "prefill", "completed", "current_step"])


@journal.register_undo("procedure.document_added")
def _undo_document_added(entry: Entry) -> None:
    document = Document.objects.filter(_FREE, pk=entry.after.get("document_id")).first()
    if document is not None:
        _delete_files([document])
        document.delete()


@journal.register_undo("procedure.submitted")
def _undo_submitted(entry: Entry) -> None:
    """The submission is withdrawn and its draft comes back, at the summary, for 90 days: the person may send it
    again. A request an agent already processed cannot be withdrawn by software."""
    submission = Submission.objects.select_for_update().get(pk=entry.after["submission_id"])
    if submission.processed_at is not None:
        raise journal.UndoError(
            _("Cette demande a déjà été traitée par un agent : elle ne peut pas être annulée ici.")
        )
    if submission.withdrawn_at is not None:
        return
    now = timezone.now()
    submission.withdrawn_at = now
    submission.save(update_fields=["withdrawn_at"])
    raw = submission.data["raw"]
    kind = registry.get(submission.kind)
    if kind is not None:  # at the summary, the steps in their order (a jsonb object does not keep its keys')
        current_step, completed = kind.steps[-1].name, [s.name for s in kind.form_steps if s.name in raw]
    else:
        current_step, completed = submission.data.get("current_step", ""), list(raw)
    draft = Draft.objects.create(
        kind=submission.kind,
        case=submission.case,
        author=submission.prepared_by or submission.author,
        current_step=current_step,
        data=raw,
        completed=completed,
        prefill=submission.data.get("prefill", {}),
        saved_at=now,
        expires_at=_expiry(now),
    )
    submission.documents.update(draft=draft)
