from django.apps import AppConfig


class LegacyConfig(AppConfig):
    """The import from the old case system (`manage.py import_legacy`) and the demo data written in its format."""

    name = "moncompte.legacy"
    verbose_name = "Import de l'export historique"
