"""An incident, its timeline, and the closures of the service.

The incident is the security team's record of a breach: its time window (the actions and reads to look at), what it
is, the categories of data concerned, its status, and a timeline of every step taken (closing, counting, cancelling,
telling, reporting), which the breach report reads. A closure is one period during which every channel was closed;
the open one, if any, is what `incidents.switch` answers every request with."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class DataCategory(models.TextChoices):
    """The categories of personal data an incident may concern (GDPR art. 33(3)(a)), in the agency's words."""

    IDENTITY = "identity", "Identité (nom, prénoms, date et lieu de naissance, NIR)"
    CONTACT = "contact", "Coordonnées (adresse e-mail, téléphone mobile)"
    HOUSEHOLD = "household", "Composition du foyer"
    PAYMENTS = "payments", "Paiements et montants des prestations"
    LETTERS = "letters", "Courriers de la Caf"
    REQUESTS = "requests", "Demandes de prestation et pièces justificatives"
    INCOME = "income", "Ressources et revenus"
    BANK = "bank", "Coordonnées bancaires"
    SECURITY = "security", "Historique de connexion et de sécurité"


class Status(models.TextChoices):
    OPEN = "open", "Ouvert"
    CONTAINED = "contained", "Maîtrisé"
    CLOSED = "closed", "Clos"


class Incident(models.Model):
    title = models.CharField("intitulé", max_length=200)
    description = models.TextField("nature de l'incident")
    detected_at = models.DateTimeField("connu de la Caf le", help_text="Le délai de 72 heures court à partir d'ici.")
    window_start = models.DateTimeField("début de la période concernée")
    window_end = models.DateTimeField("fin de la période concernée", null=True, blank=True)
    categories = models.JSONField("catégories de données", default=list, blank=True)
    status = models.CharField("état", max_length=16, choices=Status.choices, default=Status.OPEN)
    consequences = models.TextField("conséquences probables", blank=True)
    public_summary = models.TextField(
        "ce qui s'est passé, pour les personnes concernées",
        blank=True,
        help_text="Une ou deux phrases, écrites pour le public : l'avis envoyé à chaque personne concernée les cite.",
    )
    authority_notified_at = models.DateTimeField("notifié à la CNIL le", null=True, blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    class Meta:
        verbose_name = "incident de sécurité"
        verbose_name_plural = "incidents de sécurité"
        ordering = ["-detected_at", "-id"]
        permissions = [("close_service", "Peut fermer et rouvrir tous les canaux")]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__isnull=True) | Q(window_end__gt=models.F("window_start")),
                name="incident_window_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    @property
    def reference(self) -> str:
        return f"INC-{self.detected_at:%Y}-{self.pk:04d}"

    def category_labels(self) -> list[str]:
        labels = dict(DataCategory.choices)
        return [str(labels.get(code, code)) for code in self.categories]


class Step(models.Model):
    """One step of an incident's timeline, with the figures it produced (counts, durations)."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Incident ouvert"
        UPDATED = "updated", "Incident modifié"
        CLOSED = "site_closed", "Fermeture de tous les canaux"
        REOPENED = "site_reopened", "Réouverture de tous les canaux"
        COUNTED = "counted", "Personnes concernées comptées"
        DRY_RUN = "dry_run", "Annulation à blanc"
        CANCELLED = "cancelled", "Actions de la période annulées"
        NOTIFIED = "notified", "Personnes concernées prévenues"
        REPORTED = "reported", "Rapport de violation produit"
        AUTHORITY = "authority", "Notification à la CNIL"
        NOTE = "note", "Note"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="steps", verbose_name="incident")
    at = models.DateTimeField("date", auto_now_add=True, db_index=True)
    kind = models.CharField("étape", max_length=16, choices=Kind.choices)
    text = models.TextField("détail", blank=True)
    figures = models.JSONField("chiffres", default=dict, blank=True)
    actor = models.CharField("par", max_length=150, blank=True)

    class Meta:
        verbose_name = "étape"
        verbose_name_plural = "chronologie"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()}"


class Closure(models.Model):
    """A period during which every channel was closed. At most one is open (reopened_at empty) at a time."""

    closed_at = models.DateTimeField("fermé le", auto_now_add=True)
    reason = models.TextField("motif")
    closed_by = models.CharField("fermé par", max_length=150, blank=True)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="closures", verbose_name="incident"
    )
    reopened_at = models.DateTimeField("rouvert le", null=True, blank=True)
    reopened_by = models.CharField("rouvert par", max_length=150, blank=True)
    #: True while open, empty once reopened: unique, so that a second closure cannot start while one is open (the
    #: database refuses it even when two agents close at the same instant).
    current = models.BooleanField("en cours", null=True, default=True, unique=True, editable=False)

    class Meta:
        verbose_name = "fermeture du service"
        verbose_name_plural = "fermetures du service"
        ordering = ["-closed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(current=True, reopened_at__isnull=True)
                | Q(current__isnull=True, reopened_at__isnull=False),
                name="closure_current_until_reopened",
            )
        ]

    def __str__(self) -> str:
        return f"Fermeture du {self.closed_at:%Y-%m-%d %H:%M}"


class WorkItem(models.Model):
    """What the cancellation of a window could not undo by itself, for an agent to handle: an action with no undo
    (or whose undo refused, e.g. a request an agent already processed), or a message already sent."""

    class Kind(models.TextChoices):
        ACTION = "action", "Action à annuler à la main"
        MESSAGE = "message", "Message déjà envoyé"
        CONTACT = "contact", "Personne à prévenir par courrier (aucune coordonnée validée)"

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="work_items", verbose_name="incident"
    )
    kind = models.CharField("type", max_length=16, choices=Kind.choices)
    entry_id = models.BigIntegerField("entrée du journal", null=True, blank=True)
    message_id = models.BigIntegerField("message", null=True, blank=True)
    what = models.CharField("quoi", max_length=100, help_text="Type d'action du journal, ou modèle du message")
    person_id = models.BigIntegerField("personne", null=True, blank=True, db_index=True)
    case_number = models.CharField("dossier", max_length=7, blank=True)
    at = models.DateTimeField("fait le")
    reason = models.TextField("motif")
    created_at = models.DateTimeField("ajouté le", auto_now_add=True)
    done_at = models.DateTimeField("traité le", null=True, blank=True)
    done_by = models.CharField("traité par", max_length=150, blank=True)

    class Meta:
        verbose_name = "tâche à traiter"
        verbose_name_plural = "tâches à traiter (annulation)"
        ordering = ["done_at", "-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "entry_id"], condition=Q(entry_id__isnull=False), name="work_item_once_per_entry"
            ),
            models.UniqueConstraint(
                fields=["incident", "message_id"],
                condition=Q(message_id__isnull=False),
                name="work_item_once_per_message",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} : {self.what}"


class Notice(models.Model):
    """The individual notice of one person concerned by an incident: once per person and incident, whatever the number
    of runs (the unique constraint is the guarantee)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notices", verbose_name="incident")
    person_id = models.BigIntegerField("personne")
    created_at = models.DateTimeField("prévenue le", auto_now_add=True)
    messages = models.JSONField("messages", default=list, blank=True, help_text="Les messages de la boîte d'envoi")
    cancelled = models.PositiveIntegerField("actions annulées", default=0)

    class Meta:
        verbose_name = "avis individuel"
        verbose_name_plural = "avis individuels"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["incident", "person_id"], name="one_notice_per_person")]

    def __str__(self) -> str:
        return f"Avis à la personne {self.person_id}"
