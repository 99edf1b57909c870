import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.messages.storage import default_storage
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _

from moncompte.accounts import devices, sessions
from moncompte.accounts.models import SessionRecord
from moncompte.accounts.sessions import SESSION_AUTH_AT, SESSION_LAST_SEEN, SESSION_STARTED_AT
from moncompte.journal.middleware import client_ip


class NoStoreMiddleware:
    """Nothing a person sees may be kept by a browser or a shared cache (DESIGN §7, the cause of 10 October 2021).

    Static files are served by WhiteNoise before this middleware and keep their long-lived caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        patch_cache_control(response, private=True, no_store=True)
        patch_vary_headers(response, ["Cookie"])
        return response


class SessionLifetimeMiddleware:
    """Idle timeout (SESSION_IDLE_TIMEOUT) and absolute lifetime (SESSION_ABSOLUTE_LIFETIME), checked server-side;
    and the session's record in "Mes sessions": a session whose record was ended elsewhere ("sign out this
    session", "Ce n'était pas moi") is signed out at its next request, whatever the session store."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            started = request.session.get(SESSION_STARTED_AT, now)
            last_seen = request.session.get(SESSION_LAST_SEEN, now)
            record_id = request.session.get(sessions.SESSION_RECORD_KEY)
            if now - last_seen > settings.SESSION_IDLE_TIMEOUT or now - started > settings.SESSION_ABSOLUTE_LIFETIME:
                sessions.session_record_end(
                    account=request.user, record_id=record_id, reason=sessions.EndReason.EXPIRED
                )
                logout(request)
                return self.expired(request)
            if not self.record_is_open(request, record_id):
                logout(request)
                return self.expired(request, _("Cette session a été fermée. Connectez-vous à nouveau."))
            request.session[SESSION_LAST_SEEN] = now
            request.session.setdefault(SESSION_STARTED_AT, now)
            request.session.setdefault(SESSION_AUTH_AT, now)
        return self.get_response(request)

    @staticmethod
    def record_is_open(request, record_id) -> bool:
        if record_id is None:
            # A session opened without `start_session` (the admin's login, a test's force_login, a session from
            # before the records existed): it gets its record now, so it can be listed and signed out.
            record = sessions.session_record_open(
                account=request.user,
                session_key=request.session.session_key,
                via=request.session.get("auth_via", ""),
                user_agent=request.headers.get("User-Agent", ""),
                ip_address=client_ip(request),
            )
            request.session[sessions.SESSION_RECORD_KEY] = record.pk
            return True
        record = SessionRecord.objects.filter(pk=record_id, account=request.user).first()
        if record is None or record.ended_at is not None:
            return False
        sessions.session_record_touch(record=record, session_key=request.session.session_key)
        return True

    @staticmethod
    def expired(request, message=None):
        # This middleware runs before MessageMiddleware, whose storage does not exist yet and whose response phase
        # will not run for this early return: create the storage here and store the message on the response.
        own_storage = not hasattr(request, "_messages")
        if own_storage:
            request._messages = default_storage(request)
        messages.info(request, message or _("Votre session a expiré. Connectez-vous à nouveau."))
        agents_pages = ("/" + settings.DESK_URL.lstrip("/"), "/" + settings.ADMIN_URL.lstrip("/"))
        response = redirect("desk:login" if request.path.startswith(agents_pages) else settings.LOGIN_URL)
        if own_storage:
            request._messages.update(response)
        return response


class MigrationGateMiddleware:
    """A person who signed in with the case PIN must create a password, then validate a contact, then see the
    onboarding screens, in that order; no other page opens until then."""

    # The language switch works on every page, and the footer's fixed pages (accessibility, legal notice, personal
    # data, cookies) are readable at every step.
    ALWAYS_OPEN = (
        "accounts:logout",
        "set_language",
        "pages:accessibility",
        "pages:legal_notice",
        "pages:personal_data",
        "pages:cookies",
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_staff and not user.migration_done:
            step = self.next_step(user)
            allowed = {reverse(name) for name in (*self.ALWAYS_OPEN, *step)}
            if request.path not in allowed and not request.path.startswith((settings.STATIC_URL, "/dev/")):
                return redirect(step[0])
        return self.get_response(request)

    @staticmethod
    def next_step(user) -> tuple[str, ...]:
        if user.needs_password:
            return ("accounts:migration_password",)
        if not user.has_validated_contact:
            return ("accounts:migration_contact", "accounts:migration_contact_code")
        return ("accounts:onboarding",)


class DeviceCookieMiddleware:
    """Writes the trusted-device cookie that a sign-in asked for (accounts.devices.device_remember), whatever view
    signed the person in: login, login code, password reset, signup, invitation."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        devices.write_cookie(request, response)
        return response
