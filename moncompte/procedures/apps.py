from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    name = "moncompte.procedures"
    verbose_name = "Démarches (demandes de prestation)"

    def ready(self) -> None:
        from moncompte.procedures import activity_bonus, housing_aid  # noqa: F401  (they register their kinds)
