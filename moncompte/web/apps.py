from django.apps import AppConfig


class WebConfig(AppConfig):
    """The web channel: the citizen's pages, one sub-package per area (account, myspace, household, signup, pages).

    This package holds what the areas share: the page frame and partials (templates/), the scripts and styles
    (static/web/), the form fields (forms.py) and the view helpers (helpers.py)."""

    name = "moncompte.web"
    verbose_name = "Canal web"
