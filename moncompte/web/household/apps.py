from django.apps import AppConfig


class WebHouseholdConfig(AppConfig):
    name = "moncompte.web.household"
    label = "web_household"
    verbose_name = "Pages « Mon foyer »"
