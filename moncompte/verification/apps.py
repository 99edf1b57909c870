from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "moncompte.verification"
    verbose_name = "Codes à usage unique"
