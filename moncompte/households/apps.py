from django.apps import AppConfig


class HouseholdsConfig(AppConfig):
    name = "moncompte.households"
    verbose_name = "Dossiers et foyers"

    def ready(self) -> None:
        # The modules that register undo handlers with the journal (it autodiscovers only `services` modules).
        from moncompte.households import delegation, invitations, separation  # noqa: F401
