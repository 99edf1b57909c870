from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    """Incident response: the switch that closes every channel, the incident record and its timeline; then who saw
    what, the cancellation of a time window, the notices and the breach report (the journal autodiscovers `kinds`
    and `services`)."""

    name = "moncompte.incidents"
    verbose_name = "Incidents de sécurité"
