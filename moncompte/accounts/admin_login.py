"""The admin's login form: the citizens' limits on failed logins, for agents (issue 8, item 3).

django-axes already counts the admin's failures per identifier AND address. An attacker with many addresses gets
around that, so failures are also counted per identifier across addresses (and per address across identifiers), on
the very counters of the citizens' login (`throttling.count_login_failure`). Agents have no trusted device and no
code step-up: past LOGIN_LIMIT_PER_IDENTIFIER failures in a window, the login of that identifier is refused from
every address until the window ends, with a French message saying when to try again.

Nothing here locks an agent out for good: the refusal ends with its window (at most LOGIN_LIMIT_WINDOW), and a
refused try checks no password and counts for nothing, so hammering a refused identifier does not make it last.
"""

from __future__ import annotations

import math

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from moncompte.accounts.throttling import (
    SCOPE_ADDRESS,
    Throttled,
    axes_username,
    check_login_allowed,
    count_login_failure,
    identifier_ceiling_reached,
    login_client_ip,
    step_up_until,
)

#: What a refusal is about: this identifier, from any address.
SCOPE_IDENTIFIER = "identifier"


def admin_login_refusal(identifier: str, ip: str | None) -> Throttled | None:
    """Why the admin refuses this try before checking the password, if it does: too many failures from this address
    across identifiers, or for this identifier across addresses (the citizens' step-up threshold, which for an agent
    is a refusal)."""
    try:
        check_login_allowed(identifier, ip)
    except Throttled as throttled:
        return throttled
    if identifier_ceiling_reached(identifier):
        return Throttled(until=step_up_until(), scope=SCOPE_IDENTIFIER)
    return None


def admin_retry_message(throttled: Throttled) -> str:
    minutes = max(1, math.ceil((throttled.until - timezone.now()).total_seconds() / 60))
    at = formats.time_format(timezone.localtime(throttled.until), _("H \\h i"))
    delay = ngettext("%(minutes)s minute", "%(minutes)s minutes", minutes) % {"minutes": minutes}
    if throttled.scope == SCOPE_ADDRESS:
        reason = _(
            "Trop de tentatives de connexion ont échoué depuis votre connexion internet. Par sécurité, la connexion "
            "à l'administration est suspendue depuis cette connexion."
        )
    else:
        reason = _(
            "Trop de mots de passe incorrects ont été saisis pour cet identifiant. Par sécurité, la connexion à ce "
            "compte d'agent est suspendue, quelle que soit la connexion internet utilisée."
        )
    retry = _(
        "Vous pourrez réessayer à %(at)s (dans %(delay)s). Si ces tentatives ne viennent pas de vous, prévenez "
        "l'équipe sécurité."
    ) % {"at": at, "delay": delay}
    return f"{reason} {retry}"


def _axes_allows(request, username: str) -> bool:
    """Whether axes will let the password be checked: a try it refuses (identifier and address locked) checks no
    password, and must not count against the identifier (one locked address could then refuse it everywhere)."""
    if not settings.AXES_ENABLED:
        return True
    return AxesProxyHandler.is_allowed(request, {"username": username})


class AgentLoginForm(AdminAuthenticationForm):
    """`admin.site.login_form` (set in accounts/admin.py): the admin's form, with the limits above."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()  # the "required" errors
        identifier = axes_username(None, {"username": username})
        ip = login_client_ip(self.request)
        refusal = admin_login_refusal(identifier, ip)
        if refusal is not None:
            raise ValidationError(admin_retry_message(refusal), code="throttled")
        checked = _axes_allows(self.request, username)
        try:
            return super().clean()
        except ValidationError as error:
            if checked and error.code in ("invalid_login", "inactive"):
                # A password checked and refused, for a known identifier or not: counted the same either way.
                count_login_failure(identifier, ip)
            raise
