from django.apps import AppConfig


class WebFranceConnectConfig(AppConfig):
    name = "moncompte.web.franceconnect"
    label = "web_franceconnect"
    verbose_name = "Pages FranceConnect (connexion, liaison du compte, déconnexion)"
