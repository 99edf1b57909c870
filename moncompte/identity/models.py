from django.db import models
from django.utils.translation import gettext_lazy as _

from moncompte.identity.nir import parse_nir


class Sex(models.TextChoices):
    MALE = "M", _("Masculin")
    FEMALE = "F", _("Féminin")


FRANCE = "99100"

#: The pivot identity and the contacts on file: what the legacy export sets and what an agent may correct (never the
#: NIR nor the provisional id).
PERSON_DATA_FIELDS = (
    "birth_name",
    "usage_name",
    "given_names",
    "birth_date",
    "sex",
    "birthplace",
    "birth_country",
    "email_on_file",
    "mobile_on_file",
)


class Person(models.Model):
    """A person known to the agency, with the pivot identity (the fields FranceConnect also gives).

    `nir` is the 13-character NIR without its key; people who have none yet get a `provisional_id`, their login id
    until the NIR is known. Linking the NIR (`identity.linking`) retires it: it moves to `retired_provisional_id`,
    where it no longer signs in and is never issued again.
    Contacts here are the ones on file from the legacy system: unproven, they are only used to send codes.
    """

    nir = models.CharField("NIR", max_length=13, unique=True, null=True, blank=True)
    provisional_id = models.CharField("identifiant provisoire", max_length=13, unique=True, null=True, blank=True)
    retired_provisional_id = models.CharField(
        "identifiant provisoire retiré", max_length=13, unique=True, null=True, blank=True
    )
    birth_name = models.CharField("nom de naissance", max_length=100)
    usage_name = models.CharField("nom d'usage", max_length=100, blank=True)
    given_names = models.CharField("prénoms", max_length=200)
    birth_date = models.DateField("date de naissance")
    sex = models.CharField("sexe", max_length=1, choices=Sex.choices)
    birthplace = models.CharField("commune de naissance (code INSEE)", max_length=5, blank=True)
    birth_country = models.CharField("pays de naissance (code INSEE)", max_length=5, default=FRANCE)
    email_on_file = models.EmailField("e-mail connu", blank=True)
    mobile_on_file = models.CharField("mobile connu", max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "personne"
        # identity.matching looks people up by birth date and sex (then birthplace or country, then names).
        indexes = [models.Index(fields=["birth_date", "sex"], name="person_birth_date_sex")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(nir__isnull=False) | models.Q(provisional_id__isnull=False),
                name="person_has_an_identifier",
            ),
            # A person who has a NIR signs in with it: a provisional identifier beside it is retired.
            models.CheckConstraint(
                condition=models.Q(nir__isnull=True) | models.Q(provisional_id__isnull=True),
                name="person_nir_retires_the_provisional_id",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def first_name(self) -> str:
        return self.given_names.split(" ")[0] if self.given_names else ""

    @property
    def last_name(self) -> str:
        return self.usage_name or self.birth_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def nir_masked(self) -> str:
        return parse_nir(self.nir).masked if self.nir else ""

    def age_on(self, day) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


class CorrectionRequest(models.Model):
    """« Signaler une erreur »: a person says part of their data is wrong; an agent checks and corrects it."""

    class Topic(models.TextChoices):
        NAME = "name", _("Nom ou prénoms")
        BIRTH = "birth", _("Date ou lieu de naissance")
        NIR = "nir", _("Numéro de Sécurité sociale")
        HOUSEHOLD = "household", _("Composition du foyer")
        OTHER = "other", _("Autre")

    class Status(models.TextChoices):
        OPEN = "open", _("À traiter")
        DONE = "done", _("Traitée")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="correction_requests")
    topic = models.CharField("sujet", max_length=9, choices=Topic.choices)
    message = models.TextField("description")
    status = models.CharField("état", max_length=4, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField("signalée le", auto_now_add=True)
    handled_at = models.DateTimeField("traitée le", null=True, blank=True)

    class Meta:
        verbose_name = "signalement d'erreur"
        verbose_name_plural = "signalements d'erreur"

    def __str__(self) -> str:
        return f"{self.get_topic_display()} — {self.person}"
