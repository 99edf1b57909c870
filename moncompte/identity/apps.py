from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "moncompte.identity"
    verbose_name = "Identité"

    def ready(self) -> None:
        # The module that registers an undo handler with the journal (it autodiscovers only `services` modules).
        from moncompte.identity import linking  # noqa: F401
