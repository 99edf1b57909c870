from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "moncompte.accounts"
    verbose_name = "Comptes personnels"
