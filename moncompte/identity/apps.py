from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "moncompte.identity"
    verbose_name = "Identité"
