from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "moncompte.desk"
    label = "desk"
    verbose_name = "Accueil (agents)"
