from django.apps import AppConfig


class WebSignupConfig(AppConfig):
    name = "moncompte.web.signup"
    label = "web_signup"
    verbose_name = "Pages de création de compte et d'invitation"
