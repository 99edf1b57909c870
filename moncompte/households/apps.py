from django.apps import AppConfig


class HouseholdsConfig(AppConfig):
    name = "moncompte.households"
    verbose_name = "Dossiers et foyers"
