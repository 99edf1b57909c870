"""Login throttling, built so that knowing a NIR is never enough to keep its owner out (DESIGN §7).

- A *trusted device* (accounts.devices: a browser where the person signed in) is outside every limit below but its
  own: LOGIN_LIMIT_PER_DEVICE failures per NIR and device, then a cool-off on that device only.
- An *untrusted client* is counted by django-axes per NIR AND address (AXES_LOCKOUT_PARAMETERS, finite cool-off),
  and per address across NIRs (LOGIN_LIMIT_PER_IP): both refuse that address only.
- Failures of untrusted clients are also counted per NIR across addresses (LOGIN_LIMIT_PER_IDENTIFIER). Past it the
  NIR is under attack: an untrusted client is *stepped up*, not refused. After the right password, a code sent to
  the person's contact completes the login; an attacker never gets past the password, so never triggers a send.
Nothing here ever locks an account for good.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from moncompte.identity.nir import normalise_nir
from moncompte.journal.middleware import client_ip
from moncompte.lib import counters

#: What a refusal is about: this device (a trusted one), this NIR from this address (axes), or this address.
SCOPE_DEVICE = "device"
SCOPE_NIR_AND_ADDRESS = "nir_address"
SCOPE_ADDRESS = "address"


def login_client_ip(request) -> str | None:
    """The address the login limits count on, the same the journal records and axes counts: REMOTE_ADDR, or what
    PROXY_COUNT says of trusted proxies (journal.middleware.client_ip); never what a client wrote itself."""
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
    scope: str = SCOPE_ADDRESS

    @property
    def message(self) -> str:
        return retry_message(self.until, self.scope)


def retry_message(until: datetime, scope: str = SCOPE_ADDRESS) -> str:
    minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
    # Translators: the time of day in the lockout message, a format of Django's `date` filter ("14 h 05").
    at = formats.time_format(timezone.localtime(until), _("H \\h i"))
    delay = ngettext("%(minutes)s minute", "%(minutes)s minutes", minutes) % {"minutes": minutes}
    if scope == SCOPE_DEVICE:
        reason = _(
            "Trop de mots de passe incorrects ont été saisis sur cet appareil. Par sécurité, la connexion à ce compte "
            "est suspendue sur cet appareil."
        )
    elif scope == SCOPE_NIR_AND_ADDRESS:
        reason = _(
            "Trop de mots de passe incorrects ont été saisis pour ce numéro depuis votre connexion internet. Par "
            "sécurité, la connexion à ce numéro est suspendue depuis cette connexion ; un appareil sur lequel vous "
            "vous êtes déjà connecté n'est pas concerné."
        )
    else:
        reason = _(
            "Trop de tentatives de connexion ont échoué depuis votre connexion internet. Par sécurité, les connexions "
            "sont suspendues depuis cette connexion ; un appareil sur lequel vous vous êtes déjà connecté n'est pas "
            "concerné."
        )
    return (
        reason
        + " "
        + _(
            "Vous pourrez réessayer à %(at)s (dans %(delay)s). Si vous avez oublié votre mot de passe, utilisez "
            "« Mot de passe oublié ? »."
        )
        % {"at": at, "delay": delay}
    )


def _nir_key(identifier: str) -> str:
    return counters.window_key(f"login-fail:id:{identifier}", settings.LOGIN_LIMIT_WINDOW)


def _ip_key(ip: str | None) -> str:
    return counters.window_key(f"login-fail:ip:{counters.address_bucket(ip)}", settings.LOGIN_LIMIT_WINDOW)


def _device_window() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def _device_key(identifier: str, device_id: int) -> str:
    return counters.window_key(f"login-fail:device:{identifier}:{device_id}", _device_window())


def check_login_allowed(identifier: str, ip: str | None, *, device_id: int | None = None) -> None:
    """Raise Throttled when this trusted device failed too often for the NIR, or, for an untrusted client, when
    this address failed too often across NIRs (axes checks the NIR and address pair itself)."""
    if device_id is not None:
        if counters.get(_device_key(identifier, device_id)) >= settings.LOGIN_LIMIT_PER_DEVICE:
            raise Throttled(until=counters.window_end(_device_window()), scope=SCOPE_DEVICE)
        return
    if counters.get(_ip_key(ip)) >= settings.LOGIN_LIMIT_PER_IP:
        raise Throttled(until=counters.window_end(settings.LOGIN_LIMIT_WINDOW), scope=SCOPE_ADDRESS)


def count_login_failure(identifier: str, ip: str | None, *, device_id: int | None = None) -> None:
    """A secret checked and refused, for a known NIR or not: counted the same either way."""
    if device_id is not None:
        counters.incr(_device_key(identifier, device_id), timeout=_device_window() * 2)
        return
    if (
        counters.incr(_nir_key(identifier), timeout=settings.LOGIN_LIMIT_WINDOW * 2)
        >= settings.LOGIN_LIMIT_PER_IDENTIFIER
    ):
        # Under attack: the step-up holds for LOGIN_STEP_UP_HOURS, not only until the window turns, so that a
        # password found during the attack still needs a code an hour later (refreshed while failures go on).
        counters.hold(_attack_key(identifier), timeout=settings.LOGIN_STEP_UP_HOURS * 3600)
    counters.incr(_ip_key(ip), timeout=settings.LOGIN_LIMIT_WINDOW * 2)


def _attack_key(identifier: str) -> str:
    return f"login-attack:{identifier}"


def identifier_ceiling_reached(identifier: str) -> bool:
    """Whether LOGIN_LIMIT_PER_IDENTIFIER failures were counted for this identifier in the current window (the
    agents' admin login refuses past it until the window ends: agents have no step-up)."""
    return counters.get(_nir_key(identifier)) >= settings.LOGIN_LIMIT_PER_IDENTIFIER


def step_up_required(identifier: str) -> bool:
    """Whether untrusted clients failed so often for this NIR, in this window or within LOGIN_STEP_UP_HOURS, that a
    login from an untrusted client also needs a code."""
    values = counters.get_many([_nir_key(identifier), _attack_key(identifier)])
    return values[_attack_key(identifier)] > 0 or values[_nir_key(identifier)] >= settings.LOGIN_LIMIT_PER_IDENTIFIER


def step_up_until() -> datetime:
    return counters.window_end(settings.LOGIN_LIMIT_WINDOW)


def login_failures_clear(identifier: str) -> None:
    """After a successful password reset: the person proved a code sent to their contact, so the failures counted
    against their NIR (across addresses, and axes' per address) start again from zero."""
    from axes.utils import reset

    counters.clear(_nir_key(identifier))
    counters.clear(_attack_key(identifier))
    reset(username=identifier)


def axes_trusted_device(request, credentials: dict | None = None) -> bool:
    """AXES_WHITELIST_CALLABLE: a trusted device is outside axes' NIR and address count (it has its own)."""
    return getattr(request, "login_device", None) is not None


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
    return locked_page(request, Throttled(until=until, scope=SCOPE_NIR_AND_ADDRESS))


def locked_page(request, throttled: Throttled):
    return render(request, "account/locked.html", {"message": throttled.message}, status=429)
