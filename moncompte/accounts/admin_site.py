"""The Django admin, for agents only and with a verified second factor (issue 13, item 2).

Signing in happens at the desk's login (password, then the TOTP code or a backup code): the admin's own login page
sends there. A session that proved only the password reaches no admin page."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse

from moncompte.accounts import sessions
from moncompte.accounts.agents import is_verified


class AgentAdminSite(admin.AdminSite):
    site_header = "Mon Compte — administration"
    site_title = "Mon Compte"

    def has_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff and is_verified(request.user)

    def login(self, request, extra_context=None):
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(target, reverse("desk:login"))

    def logout(self, request, extra_context=None):
        """Sign out as the desk does: the session and its record end (a POST, as Django's own logout asks)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        sessions.session_end_current(request)
        return redirect("desk:login")
