from django.apps import AppConfig


class AgencyConfig(AppConfig):
    """What the Caf has in the case (payments, letters, its requests) as its case system says, and the household's
    answers to those requests (the journal autodiscovers `kinds` and `services`)."""

    name = "moncompte.agency"
    verbose_name = "Ce que la Caf a dans le dossier"
