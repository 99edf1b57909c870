from django.apps import AppConfig


class WebPagesConfig(AppConfig):
    """The site's fixed pages: accessibility statement, legal notice, personal data, cookies (and, in development,
    the local outbox). They render settings and import no domain app but messaging's outbox selector."""

    name = "moncompte.web.pages"
    label = "web_pages"
    verbose_name = "Pages d'information"
