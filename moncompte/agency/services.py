"""The household answers a request of the Caf (« Répondre à une demande de la Caf »): one transaction, one journal
entry, the holder and the author told, undoable.

Forwarding an answer to the agency's case system is not part of its contract (docs/partners.md: the case system is
read, never written): agents read the answers, and download their files, in the admin (« Réponses aux demandes de
la Caf »). Once the case system closes a request it no longer lists it, and the page no longer shows it."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from moncompte.agency.models import AgencyAnswer, AnswerDocument
from moncompte.households import policy
from moncompte.households.models import Case, Role
from moncompte.households.policy import Capability
from moncompte.households.selectors import membership_in_role
from moncompte.identity.models import Person
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.services import person_notify
from moncompte.partners import connectors
from moncompte.partners.connectors import AgencyRequest
from moncompte.procedures import documents
from moncompte.procedures.documents import DocumentRefused

NOTICE_ANSWERED = "agency/notices/answered"
#: The longest answer a person may type (the Caf's own requests are at most 5,000 characters too).
MAX_TEXT_LENGTH = 5000
#: Files one answer may carry.
MAX_FILES = 5
TEXT, DOCUMENTS = "text", "documents"
#: What is said when the request expects a text, or a document, and none came (the web form says it too).
NEEDS_TEXT = gettext_lazy("Écrivez votre réponse à la Caf.")
NEEDS_DOCUMENT = gettext_lazy("Joignez le document demandé par la Caf (PDF, JPEG ou PNG).")


class AnswerRefused(Exception):
    """An answer that cannot be sent as it is; `message` is for the person, `field` the form field it is about
    ("text", "documents", or None for the whole answer). Nothing was kept."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def clean_text(text: str) -> str:
    """The answer as kept: line ends made alike, spaces around it dropped."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _number(value: int) -> str:
    return formats.number_format(value, force_grouping=True)


def _check(request: AgencyRequest, text: str, uploads: Sequence[UploadedFile]) -> list[documents.Checked]:
    if len(text) > MAX_TEXT_LENGTH:
        raise AnswerRefused(
            _("Votre réponse est trop longue : %(max)s caractères au plus (elle en compte %(count)s).")
            % {"max": _number(MAX_TEXT_LENGTH), "count": _number(len(text))},
            TEXT,
        )
    if len(uploads) > MAX_FILES:
        raise AnswerRefused(
            _("Vous pouvez joindre %(max)s fichiers au plus à une réponse.") % {"max": MAX_FILES},
            DOCUMENTS,
        )
    checked = []
    for upload in uploads:
        try:
            checked.append(documents.check(upload))
        except DocumentRefused as refused:
            raise AnswerRefused(refused.message, DOCUMENTS) from None
    if request.expects in ("text", "both") and not text:
        raise AnswerRefused(str(NEEDS_TEXT), TEXT)
    if request.expects in ("document", "both") and not checked:
        raise AnswerRefused(str(NEEDS_DOCUMENT), DOCUMENTS)
    if not text and not checked:  # whatever the request expects, an answer says something
        raise AnswerRefused(_("Écrivez votre réponse ou joignez un document."), TEXT)
    return checked


def already_answered(answer: AgencyAnswer) -> str:
    return _(
        "Une réponse à cette demande a déjà été envoyée le %(date)s par %(name)s. Rien d'autre n'a été envoyé."
    ) % {
        "date": formats.date_format(timezone.localtime(answer.answered_at), "j F Y à H:i"),
        "name": answer.author.full_name,
    }


@transaction.atomic
def answer_send(
    *, case: Case, request: AgencyRequest, author: Person, text: str, uploads: Sequence[UploadedFile] = ()
) -> AgencyAnswer:
    """Keep the answer of `author` to `request` and its files, checked by their content. Raises AnswerRefused.

    `request` must come from `agency.selectors.request_for(author, case, …)`: the case system's own list for this
    case, never an id typed in a form. The policy (ANSWER_AGENCY) is checked here again."""
    if not policy.can(author, Capability.ANSWER_AGENCY, case):
        raise AnswerRefused(
            _(
                "Seuls l'allocataire et son conjoint, s'il a la délégation, peuvent répondre aux demandes de la Caf. "
                "Rien n'a été envoyé."
            )
        )
    text = clean_text(text)
    checked = _check(request, text, list(uploads))
    standing = AgencyAnswer.objects.filter(case=case, request_id=request.id, withdrawn_at__isnull=True).first()
    if standing is not None:
        raise AnswerRefused(already_answered(standing))
    now = timezone.now()
    stored: list[str] = []
    try:
        with transaction.atomic():
            answer = AgencyAnswer.objects.create(
                case=case,
                request_id=request.id,
                request_subject=request.subject[:200],
                request_asked_on=request.asked_on,
                author=author,
                text=text,
                answered_at=now,
            )
    except IntegrityError:  # sent from another tab in the meantime
        raise AnswerRefused(
            _("Cette demande de la Caf a déjà reçu une réponse. Rien d'autre n'a été envoyé.")
        ) from None
    try:
        for item in checked:
            document = AnswerDocument(
                answer=answer,
                original_name=item.original_name,
                content_type=item.content_type,
                size=len(item.content),
                sha256=item.sha256,
            )
            document.file.save(f"reponse{item.extension}", ContentFile(item.content), save=False)
            stored.append(document.file.name)
            document.save()
        journal.record(
            "agency.answered",
            person_id=author.pk,
            case_number=case.case_number,
            after={
                "answer_id": answer.pk,
                "request_id": request.id,
                "subject": answer.request_subject,
                "documents": len(checked),
            },
        )
        holder = membership_in_role(case, Role.HOLDER)
        for person in {author, *([holder.person] if holder else [])}:
            person_notify(
                person_id=person.pk,
                template=NOTICE_ANSWERED,
                context={
                    "person": person,
                    "subject": answer.request_subject,
                    "case_number": case.case_number,
                    "when": timezone.localtime(now),
                    "documents": len(checked),
                    "by_other": person.pk != author.pk,
                    "author": author,
                },
            )
    except BaseException:
        if stored:
            storage = AnswerDocument._meta.get_field("file").storage
            for name in stored:  # no row, no file
                storage.delete(name)
        raise
    # The next page asks the case system again rather than show the request from the cache.
    transaction.on_commit(lambda: _forget(case.case_number))
    return answer


def _forget(case_number: str) -> None:
    with contextlib.suppress(ValueError):
        connectors.forget_case(case_number)


# --- Undo (the journal's handler) ------------------------------------------------------------------------------------


@journal.register_undo("agency.answered")
def _undo_answered(entry: Entry) -> None:
    """The answer is withdrawn: it no longer counts, and the request is offered again. Its text and files are kept
    for the record (the agency may have read them already)."""
    answer = AgencyAnswer.objects.select_for_update().filter(pk=entry.after.get("answer_id")).first()
    if answer is None or answer.withdrawn_at is not None:
        return
    answer.withdrawn_at = timezone.now()
    answer.save(update_fields=["withdrawn_at"])
    case_number = entry.case_number
    transaction.on_commit(lambda: _forget(case_number))
