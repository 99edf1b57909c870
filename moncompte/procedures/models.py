"""Benefit requests: a draft while the person fills it in, a submission once sent (immutable), and the supporting
documents ("pièces justificatives") of either."""

from __future__ import annotations

import secrets

from django.db import models

from moncompte.households.models import Case
from moncompte.identity.models import Person


def new_token() -> str:
    return secrets.token_urlsafe(16)


class Draft(models.Model):
    """A request being prepared. `data` holds what was typed at each step, as typed ({step: {field: value}}), so that
    submitting validates every step again with the same forms; `completed` the steps validated so far; `prefill`
    what partners sent for some fields ({step: {field: {"value", "source", "at"}}}), kept to record corrections.

    The `token` is the draft's handle in URLs; a draft is still only ever read through `selectors.draft_get`, with
    the signed-in person (its author, or whoever acts for its household)."""

    token = models.CharField(max_length=24, unique=True, default=new_token, editable=False)
    kind = models.CharField("démarche", max_length=40)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="drafts")
    author = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="drafts")
    current_step = models.CharField("étape en cours", max_length=40)
    data = models.JSONField(default=dict, blank=True)
    completed = models.JSONField(default=list, blank=True)
    prefill = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField("commencée le", auto_now_add=True)
    saved_at = models.DateTimeField("enregistrée le")
    expires_at = models.DateTimeField("expire le")
    reminded_at = models.DateTimeField("rappel envoyé le", null=True, blank=True)
    holder_told_at = models.DateTimeField("allocataire prévenu le", null=True, blank=True)

    class Meta:
        verbose_name = "démarche en cours"
        verbose_name_plural = "démarches en cours"
        indexes = [models.Index(fields=["expires_at"], name="draft_expires_at")]

    def __str__(self) -> str:
        return f"{self.kind} ({self.token[:6]}…)"


class Submission(models.Model):
    """A request sent to the agency: what was declared, frozen. Only `withdrawn_at` (the submission was undone, by
    the journal) and `processed_at` (an agent handled it) ever change afterwards."""

    MUTABLE_FIELDS = frozenset({"withdrawn_at", "processed_at"})

    reference = models.CharField("référence", max_length=20, unique=True)
    kind = models.CharField("démarche", max_length=40)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="submissions")
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="submissions")
    prepared_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="prepared_submissions"
    )
    data = models.JSONField()
    corrections = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField("envoyée le")
    withdrawn_at = models.DateTimeField("annulée le", null=True, blank=True)
    processed_at = models.DateTimeField("traitée le", null=True, blank=True)

    class Meta:
        verbose_name = "demande envoyée"
        verbose_name_plural = "demandes envoyées"

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            fields = set(kwargs.get("update_fields") or ())
            if not fields or not fields <= self.MUTABLE_FIELDS:
                raise ValueError("A submission is immutable: only withdrawn_at and processed_at may change.")
        super().save(*args, **kwargs)


def document_path(document: Document, filename: str) -> str:
    # Never the name the person gave: a random one, with the extension of the type found in the content.
    return f"pieces/{document.uploaded_at:%Y/%m}/{secrets.token_hex(16)}{filename[filename.rfind('.') :]}"


class Document(models.Model):
    """A supporting document, stored through Django's storage API (never served from a public URL): PDF, JPEG or
    PNG, as its content says."""

    owner = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="documents")
    draft = models.ForeignKey(Draft, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents")
    submission = models.ForeignKey(
        Submission, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    purpose = models.CharField("pièce", max_length=40)
    file = models.FileField(upload_to=document_path, max_length=200)
    original_name = models.CharField("nom du fichier", max_length=100)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField("déposée le")

    class Meta:
        verbose_name = "pièce justificative"
        verbose_name_plural = "pièces justificatives"

    def __str__(self) -> str:
        return self.original_name
