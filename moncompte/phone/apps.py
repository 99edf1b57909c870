from django.apps import AppConfig


class PhoneConfig(AppConfig):
    """The phone channel (DESIGN §4): the voice server's dialog, as the telephony provider's webhooks."""

    name = "moncompte.phone"
    label = "phone"
    verbose_name = "Serveur vocal"
    default_auto_field = "django.db.models.BigAutoField"
