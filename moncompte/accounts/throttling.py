"""Login throttling. django-axes counts failures per identifier AND IP address (AXES_LOCKOUT_PARAMETERS), with a
finite cool-off; on top of it two sliding counters catch one identifier tried from many addresses and one address
trying many identifiers. Nothing here ever locks an account for good: a NIR is not a secret, and a permanent lock
would let anyone lock a citizen out.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from moncompte.identity.nir import normalise_nir


def login_client_ip(request) -> str | None:
    """The address the login limits count on, the same the journal records and axes counts: REMOTE_ADDR, or what
    PROXY_COUNT (AXES_IPWARE_*) says of trusted proxies; never a client-supplied X-Forwarded-For."""
    from moncompte.journal.middleware import client_ip

    return client_ip(request)


def axes_username(request, credentials: dict | None) -> str:
    """The identifier axes counts on: the normalised NIR, whatever spaces or dots the person typed."""
    raw = ""
    if credentials:
        raw = credentials.get("identifier") or credentials.get("username") or ""
    if not raw and request is not None:
        raw = request.POST.get(settings.AXES_USERNAME_FORM_FIELD, "") or request.POST.get("username", "")
    return normalise_nir(str(raw))[:32]


@dataclass(frozen=True)
class Throttled(Exception):
    until: datetime

    @property
    def message(self) -> str:
        return retry_message(self.until)


def retry_message(until: datetime) -> str:
    minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
    # Translators: the time of day in the lockout message, a format of Django's `date` filter ("14 h 05").
    at = formats.time_format(timezone.localtime(until), _("H \\h i"))
    delay = ngettext("%(minutes)s minute", "%(minutes)s minutes", minutes) % {"minutes": minutes}
    return _(
        "Trop de tentatives de connexion ont échoué. Par sécurité, la connexion est suspendue pour ce numéro "
        "depuis cet appareil. Vous pourrez réessayer à %(at)s (dans %(delay)s). "
        "Si vous avez oublié votre mot de passe, utilisez « Mot de passe oublié ? »."
    ) % {"at": at, "delay": delay}


def _keys(identifier: str, ip: str | None) -> list[tuple[str, int]]:
    window = int(time.time() // settings.LOGIN_LIMIT_WINDOW)
    return [
        (f"login-fail:id:{identifier}:{window}", settings.LOGIN_LIMIT_PER_IDENTIFIER),
        (f"login-fail:ip:{ip or '-'}:{window}", settings.LOGIN_LIMIT_PER_IP),
    ]


def _window_end() -> datetime:
    now = time.time()
    end = (now // settings.LOGIN_LIMIT_WINDOW + 1) * settings.LOGIN_LIMIT_WINDOW
    return timezone.now() + timedelta(seconds=end - now)


def check_login_allowed(identifier: str, ip: str | None) -> None:
    """Raise Throttled when the identifier (across addresses) or the address (across identifiers) failed too often."""
    values = cache.get_many([key for key, _limit in _keys(identifier, ip)])
    for key, limit in _keys(identifier, ip):
        if values.get(key, 0) >= limit:
            raise Throttled(until=_window_end())


def count_login_failure(identifier: str, ip: str | None) -> None:
    for key, _limit in _keys(identifier, ip):
        # add() then incr(): atomic INCR on Redis; good enough on the per-process LocMem cache of the embedded mode.
        cache.add(key, 0, timeout=settings.LOGIN_LIMIT_WINDOW * 2)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=settings.LOGIN_LIMIT_WINDOW * 2)


def axes_retry_at(request, credentials: dict | None) -> datetime:
    from axes.models import AccessAttempt

    last = (
        AccessAttempt.objects.filter(username=axes_username(request, credentials), ip_address=login_client_ip(request))
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    return (last or timezone.now()) + settings.AXES_COOLOFF_TIME


def lockout_response(request, original_response=None, credentials=None):
    """What axes shows once an identifier is locked from an address: when to try again, in French, status 429."""
    until = axes_retry_at(request, credentials)
    return locked_page(request, until)


def locked_page(request, until: datetime):
    return render(request, "accounts/locked.html", {"message": retry_message(until)}, status=429)
