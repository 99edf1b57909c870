from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "moncompte.verification"
    verbose_name = "Codes à usage unique"

    def ready(self) -> None:
        from moncompte.verification import checks  # noqa: F401 (registers the system checks)
