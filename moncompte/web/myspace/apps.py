from django.apps import AppConfig


class WebMyspaceConfig(AppConfig):
    name = "moncompte.web.myspace"
    label = "web_myspace"
    verbose_name = "Pages « Mon espace » (informations, coordonnées, sécurité, sessions)"
