from django.apps import AppConfig


class SignupConfig(AppConfig):
    """Member signup, typed-contact requests and invitation acceptance: how a member of a case gets an account.

    No models of its own: it writes accounts, and the household's invitations and requests, through their services."""

    name = "moncompte.signup"
    verbose_name = "Création de compte"
