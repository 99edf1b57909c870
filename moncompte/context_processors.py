from types import SimpleNamespace

from django.conf import settings

from moncompte.franceconnect import provider

# django-dsfr's own context processor reads a DsfrConfig row on every request; ours is a constant.
_SITE = SimpleNamespace(
    site_title=settings.SITE_TITLE,
    site_tagline="Caisse d'allocations familiales",
    header_brand_html="République<br>française",
    footer_brand_html="République<br>française",
    footer_description="Votre espace personnel pour les prestations familiales.",
    mourning=False,
    beta_tag=False,
    notice_title="",
    notice_description="",
    accessibility_status="NOT",
)


def site(request):
    return {
        "SITE_CONFIG": _SITE,
        "site_title": settings.SITE_TITLE,
        "debug_outbox": settings.DEBUG,
        "franceconnect_enabled": provider.enabled(),
    }
