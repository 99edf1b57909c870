"""The browser session a code belongs to. A code is checked only in the session that asked for it (DESIGN §7): a
person who knows someone's NIR can ask for codes in their own session, but can neither type into nor void the code
that the owner's session holds.

The binding is a random value kept in the session, read lazily: a request that never issues or checks a code does
not create a session for it. Outside a request (a command, a test calling services) the binding is empty, and the
codes issued there are checked only outside a request too."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextvars import ContextVar

SESSION_KEY = "_code_binding"

_binding: ContextVar[Callable[[], str] | None] = ContextVar("code_binding", default=None)


def binding_current() -> str:
    """A fingerprint of this session's binding ("" outside a request): what a code row stores."""
    getter = _binding.get()
    value = getter() if getter is not None else ""
    return hashlib.sha256(value.encode()).hexdigest()[:32] if value else ""


class CodeBindingMiddleware:
    """After SessionMiddleware: lets verification find the binding of the request's session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        def getter() -> str:
            if SESSION_KEY not in request.session:
                request.session[SESSION_KEY] = secrets.token_urlsafe(24)
            return request.session[SESSION_KEY]

        token = _binding.set(getter)
        try:
            return self.get_response(request)
        finally:
            _binding.reset(token)
