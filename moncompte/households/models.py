from django.db import models
from django.utils.translation import gettext_lazy as _

from moncompte.identity.models import Person


class Role(models.TextChoices):
    HOLDER = "holder", _("Allocataire (responsable de dossier)")
    PARTNER = "partner", _("Conjoint")
    CHILD = "child", _("Enfant")
    OTHER = "other", _("Autre personne")


#: Roles whose members knew the shared case PIN and may migrate with it.
PIN_ROLES = (Role.HOLDER, Role.PARTNER)


class Case(models.Model):
    """A household's file ("dossier allocataire"). The legacy PIN is kept only as an argon2 hash."""

    case_number = models.CharField("numéro allocataire", max_length=7, unique=True)
    pin_hash = models.CharField("mot de passe dossier (empreinte)", max_length=256, blank=True)
    pin_changed_at = models.DateTimeField("mot de passe dossier changé le", null=True, blank=True)
    address = models.TextField("adresse du foyer", blank=True)
    members = models.ManyToManyField(Person, through="Membership", related_name="cases")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "dossier"

    def __str__(self) -> str:
        return f"Dossier {self.case_number}"


class Membership(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("rôle", max_length=8, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "membre du foyer"
        verbose_name_plural = "membres du foyer"
        constraints = [
            models.UniqueConstraint(fields=["case", "person"], name="one_membership_per_case_and_person"),
            models.UniqueConstraint(fields=["case"], condition=models.Q(role="holder"), name="one_holder_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.get_role_display()} ({self.case.case_number})"


class DelegationOrigin(models.TextChoices):
    HOLDER = "holder", _("Accordée par l'allocataire")
    CASE_PIN = "case_pin", _("Reprise du mot de passe du dossier")


class Delegation(models.Model):
    """The holder lets the partner act for the household. At most one active delegation per case; a revoked one
    stays as history (`revoked_at`)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="delegations")
    partner = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="delegations_received")
    origin = models.CharField("origine", max_length=8, choices=DelegationOrigin.choices)
    granted_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="accordée par"
    )
    granted_at = models.DateTimeField("accordée le", auto_now_add=True)
    revoked_at = models.DateTimeField("retirée le", null=True, blank=True)
    revoked_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="retirée par"
    )

    class Meta:
        verbose_name = "délégation"
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(revoked_at__isnull=True), name="one_active_delegation_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"Délégation {self.case.case_number} → {self.partner}"


class Invitation(models.Model):
    """A single-use link sent to a member aged 15+ so they open their own account: sent by the holder, or sent
    after the holder approved a member's signup request. Only a hash of the link's token is stored."""

    class Origin(models.TextChoices):
        HOLDER = "holder", _("Invitation de l'allocataire")
        APPROVAL = "approval", _("Demande approuvée par l'allocataire")

    class DestinationSource(models.TextChoices):
        """Who vouches for the destination (issue 8, item 2): only a contact the agency holds for the invitee, or one
        the invitee proved with a code, may become their validated contact when the invitation is used."""

        ON_FILE = "on_file", _("Coordonnée connue de la Caf pour la personne invitée")
        TYPED = "typed", _("Coordonnée indiquée par l'allocataire")
        PROVEN = "proven", _("Coordonnée prouvée par la personne invitée avec un code")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="invitations")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="invitations")
    origin = models.CharField("origine", max_length=8, choices=Origin.choices, default=Origin.HOLDER)
    created_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="envoyée par"
    )
    medium = models.CharField("canal", max_length=5)
    destination = models.CharField("destinataire", max_length=254)
    #: A typed destination is never validated by the invitation: the invitee proves it with a code while accepting,
    #: their contacts on file are told, and they validate a contact of their own afterwards.
    destination_source = models.CharField(
        "origine du destinataire", max_length=8, choices=DestinationSource.choices, default=DestinationSource.TYPED
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField("envoyée le", auto_now_add=True)
    expires_at = models.DateTimeField("expire le")
    used_at = models.DateTimeField("utilisée le", null=True, blank=True)
    revoked_at = models.DateTimeField("annulée le", null=True, blank=True)

    class Meta:
        verbose_name = "invitation"

    def __str__(self) -> str:
        return f"Invitation {self.case.case_number} → {self.person}"


class SignupRequest(models.Model):
    """A member aged 15+ with no contact on file asked to open an account: the holder approves or refuses it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente de l'allocataire")
        APPROVED = "approved", _("Approuvée")
        REFUSED = "refused", _("Refusée")
        CANCELLED = "cancelled", _("Annulée")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="signup_requests")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="signup_requests")
    medium = models.CharField("canal", max_length=5)
    destination = models.CharField("coordonnée vérifiée", max_length=254)
    status = models.CharField("état", max_length=9, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField("demandée le", auto_now_add=True)
    decided_at = models.DateTimeField("traitée le", null=True, blank=True)
    decided_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="traitée par"
    )

    class Meta:
        verbose_name = "demande de création de compte"
        verbose_name_plural = "demandes de création de compte"
        constraints = [
            models.UniqueConstraint(
                fields=["case", "person"], condition=models.Q(status="pending"), name="one_pending_signup_request"
            )
        ]

    def __str__(self) -> str:
        return f"Demande de compte {self.case.case_number} — {self.person}"


class SeparationRequest(models.Model):
    """A separation declared by the holder or the partner, processed by an agent in the admin."""

    class Status(models.TextChoices):
        PENDING = "pending", _("À traiter")
        PROCESSED = "processed", _("Traitée")
        CANCELLED = "cancelled", _("Annulée")

    class ChildrenLive(models.TextChoices):
        STAYING = "staying", _("Avec la personne qui reste")
        LEAVING = "leaving", _("Avec la personne qui part")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="separation_requests")
    declared_by = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+", verbose_name="déclarée par")
    leaving = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+", verbose_name="personne qui part")
    separation_date = models.DateField("date de séparation")
    new_address = models.TextField("nouvelle adresse de la personne qui part")
    #: {"<person id>": "staying" | "leaving"} for each child of the case.
    children = models.JSONField("résidence des enfants", default=dict, blank=True)
    status = models.CharField("état", max_length=9, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField("déclarée le", auto_now_add=True)
    processed_at = models.DateTimeField("traitée le", null=True, blank=True)
    processed_by_account_id = models.BigIntegerField("agent", null=True, blank=True)
    new_case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="nouveau dossier"
    )

    class Meta:
        verbose_name = "déclaration de séparation"
        verbose_name_plural = "déclarations de séparation"

    def __str__(self) -> str:
        return f"Séparation {self.case.case_number} ({self.separation_date:%d/%m/%Y})"
