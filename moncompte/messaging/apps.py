from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "moncompte.messaging"
    verbose_name = "Messages (e-mail et SMS)"
