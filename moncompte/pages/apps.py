from django.apps import AppConfig


class PagesConfig(AppConfig):
    """The site's fixed pages: accessibility statement, legal notice, personal data and cookies.

    A top layer like a channel: it renders templates from settings and imports no domain app."""

    name = "moncompte.pages"
    verbose_name = "Pages d'information"
