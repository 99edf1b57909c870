from django.db import models

from moncompte.households.models import Case
from moncompte.identity.models import Person


class Call(models.Model):
    """One call to the voice server, by the provider's call id: where its dialog stands.

    `token` is the one the next webhook of the call must carry in its URL (each answer gives a new one): a webhook
    replayed, or sent twice, carries an older one, and changes nothing. The PIN typed is never kept; the case number
    typed is, until the caller is identified or the call ends."""

    sid = models.CharField("identifiant de l'appel", max_length=64, unique=True)
    caller = models.CharField("numéro appelant", max_length=16, blank=True)
    step = models.CharField("étape", max_length=32)
    token = models.CharField(max_length=32)
    typed_case_number = models.CharField("numéro allocataire tapé", max_length=7, blank=True)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    silences = models.PositiveSmallIntegerField(default=0)
    mistakes = models.PositiveSmallIntegerField(default=0)
    wrong_pins = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField("début", auto_now_add=True)
    updated_at = models.DateTimeField("dernière réponse", auto_now=True)
    ended_at = models.DateTimeField("fin", null=True, blank=True)

    class Meta:
        verbose_name = "appel"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Appel du {self.started_at:%d/%m/%Y %H:%M}"
