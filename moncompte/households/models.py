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


# The import checkpoint model lives in its own module; importing it here registers it with the households app.
from moncompte.households.import_models import ImportRun  # noqa: E402, F401
