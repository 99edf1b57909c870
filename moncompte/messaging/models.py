from django.db import models
from django.utils.translation import gettext_lazy as _


class Medium(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class Status(models.TextChoices):
    PENDING = "pending", _("À envoyer")
    SENT = "sent", _("Envoyé")
    KEPT_LOCALLY = "local", _("Gardé dans la boîte d'envoi locale")
    FAILED = "failed", _("Échec")


class OutboxMessage(models.Model):
    """Every e-mail and SMS is first a row here, written in the transaction of the action that caused it.

    A Celery task sends it after commit; the row, not the queue, is the truth (a lost task is found again by
    `send_pending_messages`). Once really sent, secrets in the body are masked: the outbox is not a code archive.
    """

    medium = models.CharField("canal", max_length=8, choices=Medium.choices)
    to = models.CharField("destinataire", max_length=254)
    subject = models.CharField("objet", max_length=200, blank=True)
    body = models.TextField("texte")
    template = models.CharField("modèle", max_length=100)
    person_id = models.BigIntegerField("personne", null=True, blank=True, db_index=True)
    status = models.CharField("état", max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    last_error = models.CharField("dernière erreur", max_length=500, blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        verbose_name = "message"
        verbose_name_plural = "boîte d'envoi"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_medium_display()} {self.template} ({self.get_status_display()})"
