from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "moncompte.journal"
    verbose_name = "Journal des actions"
