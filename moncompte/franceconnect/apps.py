from django.apps import AppConfig


class FranceConnectConfig(AppConfig):
    name = "moncompte.franceconnect"
    label = "franceconnect"
    verbose_name = "FranceConnect"
