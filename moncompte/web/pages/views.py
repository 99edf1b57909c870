"""The fixed pages: the same for everyone, signed in or not, and read-only (GET and HEAD; anything else is 405).

What differs from one deployment to another (publisher, publication director, host, contacts) comes from settings;
left empty, the pages say that this is a demonstration deployment. The cookie page reads the cookie names and
lifetimes from the settings that set them, so that it cannot drift from what the site really stores."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from moncompte.messaging.selectors import outbox_recent

#: When the accessibility statement was drawn up (RGAA 4.1 model: "Établissement de cette déclaration").
STATEMENT_DATE = date(2026, 12, 1)

#: Who publishes a demonstration deployment (LEGAL_PUBLISHER left empty).
DEMO_PUBLISHER = _("Caisse d'allocations familiales de démonstration (organisme fictif)")

#: Django's message framework keeps a one-time notice ("Vous êtes déconnecté") in this cookie until it is shown.
MESSAGES_COOKIE_NAME = "messages"


def legal_context() -> dict:
    return {
        "legal": {
            "demo": not settings.LEGAL_PUBLISHER,
            "publisher": settings.LEGAL_PUBLISHER,
            "publisher_name": settings.LEGAL_PUBLISHER or DEMO_PUBLISHER,
            "publisher_address": settings.LEGAL_PUBLISHER_ADDRESS,
            "publication_director": settings.LEGAL_PUBLICATION_DIRECTOR,
            "host": settings.LEGAL_HOST,
            "dpo_contact": settings.DPO_CONTACT,
            "accessibility_contact": settings.ACCESSIBILITY_CONTACT,
        }
    }


def cookies_context() -> dict:
    return {
        "cookies": {
            "session": settings.SESSION_COOKIE_NAME,
            "idle_minutes": settings.SESSION_IDLE_TIMEOUT // 60,
            "lifetime_hours": settings.SESSION_ABSOLUTE_LIFETIME // 3600,
            "csrf": settings.CSRF_COOKIE_NAME,
            "csrf_days": settings.CSRF_COOKIE_AGE // (24 * 3600) if settings.CSRF_COOKIE_AGE else None,
            "language": settings.LANGUAGE_COOKIE_NAME,
            "messages": MESSAGES_COOKIE_NAME,
            "remember": settings.REMEMBER_ME_COOKIE_NAME,
            "remember_days": settings.REMEMBER_ME_MAX_AGE // (24 * 3600),
            "device": settings.DEVICE_COOKIE_NAME,
            "device_days": settings.DEVICE_TRUST_DAYS,
        }
    }


@require_safe
def accessibility_view(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/accessibility.html", {**legal_context(), "statement_date": STATEMENT_DATE})


@require_safe
def legal_notice_view(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/legal_notice.html", legal_context())


@require_safe
def personal_data_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "pages/personal_data.html",
        {**legal_context(), **cookies_context(), "code_minutes": settings.OTP_LIFETIME // 60},
    )


@require_safe
def cookies_view(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/cookies.html", {**legal_context(), **cookies_context()})


@require_safe
def dev_outbox_view(request: HttpRequest) -> HttpResponse:
    """Development only (DEBUG): the local outbox, so a newcomer can read the codes the app sends."""
    if not settings.DEBUG:
        raise Http404
    return render(request, "pages/dev_outbox.html", {"outbox": outbox_recent()})
