from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "moncompte.partners"
    verbose_name = "Partenaires (données transmises)"
