"""Small helpers shared by the views of every app: form handling, response timing and re-authentication.

Not a domain app: it holds no state and sits above the apps, so any app's views may use it."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from moncompte.accounts import sessions
from moncompte.accounts.sessions import SESSION_AUTH_AT
from moncompte.lib.forms import form_status  # noqa: F401 (the web's views import it from here)


def posted(request: HttpRequest):
    """The data of a POST, even an empty one (an empty QueryDict is falsy: `request.POST or None` would show the
    form unbound, without saying that the fields are required)."""
    return request.POST if request.method == "POST" else None


@contextlib.contextmanager
def minimum_duration(seconds: float) -> Iterator[None]:
    """Pages that could tell whether a NIR is known answer in the same time either way."""
    started = time.monotonic()
    yield
    remaining = seconds - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)


def recently_authenticated(request: HttpRequest) -> bool:
    typed_at = request.session.get(SESSION_AUTH_AT)
    return typed_at is not None and time.time() - typed_at <= settings.REAUTH_MAX_AGE


def mark_authenticated(request: HttpRequest) -> None:
    """The person just typed their password again: a new session key, the password's clock restarts
    (accounts.sessions.session_reauthenticated)."""
    sessions.session_reauthenticated(request)


def recent_auth_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """DESIGN §7: changing contacts, password or delegation needs a recent password entry. Older than
    REAUTH_MAX_AGE, the person confirms their password first and comes back here (GET)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and not recently_authenticated(request):
            return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': request.path})}")
        return view(request, *args, **kwargs)

    return wrapper
