from django.db import models

from moncompte.accounts.models import Account


class Link(models.Model):
    """An account's FranceConnect identity: the `sub` FranceConnect gives this service for the person (the same
    whichever identity provider the person chose at FranceConnect). One per account, one account per `sub`."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="franceconnect_link", verbose_name="compte"
    )
    sub = models.CharField("identifiant FranceConnect (sub)", max_length=255, unique=True)
    created_at = models.DateTimeField("relié le", auto_now_add=True)
    last_login_at = models.DateTimeField("dernière connexion", null=True, blank=True)

    class Meta:
        verbose_name = "liaison FranceConnect"
        verbose_name_plural = "liaisons FranceConnect"

    def __str__(self) -> str:
        return f"FranceConnect — {self.account}"
