"""The household's answers to the agency's requests (« Répondre à une demande de la Caf ») and their files.

The requests themselves live in the agency's case system (read through `partners.connectors.agency_requests`): only
their id, subject and date are copied here, so that an answer still says what it answered once the case system has
closed the request. Agents read the answers in the admin (read-only)."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from moncompte.households.models import Case
from moncompte.identity.models import Person


class AgencyAnswer(models.Model):
    """One answer to one request of the case system. Immutable once sent, except `withdrawn_at` (the answer was
    undone through the journal: it no longer counts, the request is offered again; its files stay for the record)."""

    MUTABLE_FIELDS = frozenset({"withdrawn_at"})

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="agency_answers")
    request_id = models.CharField("demande (identifiant de la Caf)", max_length=40)
    request_subject = models.CharField("objet de la demande", max_length=200)
    request_asked_on = models.DateField("demande du")
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="agency_answers")
    text = models.TextField("réponse", blank=True)
    answered_at = models.DateTimeField("envoyée le")
    withdrawn_at = models.DateTimeField("annulée le", null=True, blank=True)

    class Meta:
        verbose_name = "réponse à une demande de la Caf"
        verbose_name_plural = "réponses aux demandes de la Caf"
        constraints = [
            # One standing answer per request: a second tab, a double click or a replayed form cannot send another.
            models.UniqueConstraint(
                fields=["case", "request_id"], condition=Q(withdrawn_at__isnull=True), name="agency_answer_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.request_subject} ({self.case.case_number})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            fields = set(kwargs.get("update_fields") or ())
            if not fields or not fields <= self.MUTABLE_FIELDS:
                raise ValueError("An answer is immutable: only withdrawn_at may change.")
        super().save(*args, **kwargs)


def answer_document_path(document: AnswerDocument, filename: str) -> str:
    # Never the name the person gave: a random one, with the extension of the type found in the content.
    return f"reponses/{document.answer.answered_at:%Y/%m}/{secrets.token_hex(16)}{filename[filename.rfind('.') :]}"


class AnswerDocument(models.Model):
    """A file sent with an answer: PDF, JPEG or PNG as its content says, stored through Django's storage API (never
    served from a public URL: staff download it from the admin)."""

    answer = models.ForeignKey(AgencyAnswer, on_delete=models.PROTECT, related_name="documents")
    file = models.FileField(upload_to=answer_document_path, max_length=200)
    original_name = models.CharField("nom du fichier", max_length=100)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField("taille")
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = "pièce jointe à une réponse"
        verbose_name_plural = "pièces jointes aux réponses"

    def __str__(self) -> str:
        return self.original_name
