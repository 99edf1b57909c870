from django.db import models
from django.db.models import Q

from moncompte.journal import kinds


class Channel(models.TextChoices):
    WEB = "web", "Site web"
    API = "api", "Application mobile"
    PHONE = "phone", "Serveur vocal"
    DESK = "desk", "Accueil"
    COMMAND = "command", "Traitement"
    SYSTEM = "system", "Système"


class Entry(models.Model):
    """One action, written by the service that performed it, in the same transaction.

    The journal is the ground floor: it references accounts, people and cases by id only, so it knows no other app.
    `before` and `after` hold what an undo handler needs; they never hold a NIR, a PIN, a code or a password.
    """

    kind = models.CharField("type d'action", max_length=64, db_index=True)
    created_at = models.DateTimeField("date", auto_now_add=True)
    actor_account_id = models.BigIntegerField("compte auteur", null=True, blank=True, db_index=True)
    person_id = models.BigIntegerField("personne concernée", null=True, blank=True, db_index=True)
    case_number = models.CharField("numéro de dossier", max_length=7, blank=True, db_index=True)
    channel = models.CharField("canal", max_length=16, choices=Channel.choices, default=Channel.SYSTEM)
    session_ref = models.CharField("session", max_length=16, blank=True, help_text="Empreinte de la session")
    ip_address = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    user_agent = models.CharField("appareil", max_length=256, blank=True)
    caller = models.CharField("numéro appelant", max_length=16, blank=True, help_text="Canal téléphone (E.164)")
    before = models.JSONField("avant", default=dict, blank=True)
    after = models.JSONField("après", default=dict, blank=True)
    undone_at = models.DateTimeField("annulée le", null=True, blank=True)
    undone_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="annulée par"
    )

    class Meta:
        verbose_name = "entrée du journal"
        verbose_name_plural = "journal des actions"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["person_id", "-created_at"]),
            # The journal's order, for time windows walked by keyset (incidents.cancellation) and for the admin.
            models.Index(fields=["created_at", "id"], name="journal_entry_created_id"),
            models.Index(
                fields=["person_id", "created_at"],
                condition=Q(kind__in=kinds.PASSWORD_SET),
                name="journal_entry_password_set",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind}"


class SecurityAlertManager(models.Manager):
    """The entries of the kinds declared as alerts (journal.kinds)."""

    def get_queryset(self):
        return super().get_queryset().filter(kind__in=kinds.alert_names())


class SecurityAlert(Entry):
    """The journal's alerts, for the security team: a ceiling reached (verification.ceilings), with where and when."""

    objects = SecurityAlertManager()

    class Meta:
        proxy = True
        verbose_name = "alerte de sécurité"
        verbose_name_plural = "alertes de sécurité"
        ordering = ["-created_at", "-id"]


class Read(models.Model):
    """One look at a person's or a case's data: which account displayed it, in which session and channel, first
    when in that hour. Written by `journal.reads` after the response is sent, one row per session, subject and hour
    (the unique constraints make a second write of the same look a no-op), so that "whose data may have been seen
    by whom" can be answered for any window to the hour (incidents.affected)."""

    at = models.DateTimeField("vu le", db_index=True)
    hour = models.DateTimeField("heure")
    viewer_account_id = models.BigIntegerField("compte qui a vu")
    person_id = models.BigIntegerField("personne vue", null=True, blank=True, db_index=True)
    case_number = models.CharField("dossier vu", max_length=7, blank=True, db_index=True)
    channel = models.CharField("canal", max_length=16, choices=Channel.choices, default=Channel.WEB)
    session_ref = models.CharField("session", max_length=16, blank=True)

    class Meta:
        verbose_name = "consultation"
        verbose_name_plural = "consultations (qui a vu quoi)"
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session_ref", "viewer_account_id", "case_number", "hour"],
                condition=~models.Q(case_number=""),
                name="read_once_per_session_case_hour",
            ),
            models.UniqueConstraint(
                fields=["session_ref", "viewer_account_id", "person_id", "hour"],
                condition=models.Q(person_id__isnull=False),
                name="read_once_per_session_person_hour",
            ),
            models.CheckConstraint(
                condition=models.Q(person_id__isnull=False) ^ ~models.Q(case_number=""), name="read_has_one_subject"
            ),
        ]

    def __str__(self) -> str:
        subject = f"dossier {self.case_number}" if self.case_number else f"personne {self.person_id}"
        return f"{self.at:%Y-%m-%d %H:%M} compte {self.viewer_account_id} : {subject}"
