from django.apps import AppConfig


class WebAccountConfig(AppConfig):
    name = "moncompte.web.account"
    label = "web_account"
    verbose_name = "Pages du compte (connexion, première connexion, mot de passe)"
