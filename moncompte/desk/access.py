"""Who reaches the agents' screens: an agent's account (never a citizen's), signed in with a verified second factor,
and for each screen its permission (a role's: accounts.agents.ROLES)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from moncompte.accounts import agents
from moncompte.accounts.models import Account


def signed_in_agent(request: HttpRequest) -> Account | None:
    """The agent signed in to this session (second factor proven or not), or None for anyone else."""
    user = request.user
    if user.is_authenticated and user.is_staff and user.person_id is None and user.is_active:
        return user
    return None


def agent_required(permission: str | None = None) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            agent = signed_in_agent(request)
            if agent is None:
                return redirect_to_login(request.get_full_path(), reverse("desk:login"))
            if not agents.is_verified(agent):
                return redirect("desk:second_factor" if agents.has_second_factor(agent) else "desk:enrol")
            if permission is not None and not agent.has_perm(permission):
                return render(request, "desk/forbidden.html", status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
