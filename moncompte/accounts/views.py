"""Login, first-login migration, forgotten password and the dashboard. Views stay thin: forms check input, services
change state (and journal it), selectors read."""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.core.signing import BadSignature
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from moncompte.accounts import services
from moncompte.accounts.authentication import AUTH_VIA_PASSWORD
from moncompte.accounts.forms import (
    CodeForm,
    ContactForm,
    LoginForm,
    NewPasswordForm,
    PasswordChangeForm,
    ReauthForm,
    ResetCompleteForm,
    ResetRequestForm,
)
from moncompte.accounts.models import Account
from moncompte.accounts.throttling import (
    Throttled,
    check_login_allowed,
    count_login_failure,
    locked_page,
    lockout_response,
    login_client_ip,
)
from moncompte.households import policy
from moncompte.identity.models import Person
from moncompte.identity.nir import NirError, parse_nir
from moncompte.identity.phones import format_mobile
from moncompte.identity.selectors import person_get_by_nir
from moncompte.journal import context as journal_context
from moncompte.messaging.models import Medium
from moncompte.verification.models import Purpose
from moncompte.verification.services import CodeError, CodeInvalid, code_active, mask_destination
from moncompte.web import (
    SESSION_AUTH_AT,
    SESSION_LAST_SEEN,
    SESSION_STARTED_AT,
    form_status,
    mark_authenticated,
    minimum_duration,
    posted,
    recently_authenticated,
)

REMEMBER_SALT = "moncompte.remember-me"
RESET_SESSION_KEY = "password_reset"
LOGIN_FAILED = gettext_lazy(
    "Numéro de Sécurité sociale ou mot de passe incorrect. Si vous ne vous êtes jamais connecté avec votre numéro "
    "de Sécurité sociale, saisissez le mot de passe à 8 chiffres de votre dossier."
)
#: The role of a household member as the dashboard names it. The same French words as households.models.Role's
#: labels, which stay plain strings while that app is being reworked; tests/test_i18n.py checks that both agree.
#: Pages that say whether a NIR is known must answer in the same time either way.
RESET_MIN_DURATION = 0.35


def _remembered_nir(request: HttpRequest) -> str:
    try:
        value = request.get_signed_cookie(settings.REMEMBER_ME_COOKIE_NAME, default="", salt=REMEMBER_SALT)
    except BadSignature:
        return ""
    try:
        return parse_nir(value).value
    except NirError:
        return ""


def format_nir(nir13: str) -> str:
    """1 84 05 75 123 456: the grouping printed on the carte Vitale, easier to check than 13 digits in a row."""
    return f"{nir13[0]} {nir13[1:3]} {nir13[3:5]} {nir13[5:7]} {nir13[7:10]} {nir13[10:13]}"


@transaction.atomic
def start_session(request: HttpRequest, account: Account, *, via: str) -> None:
    """Log in with a new session key (Django rotates it), start the session clocks and journal the login.

    One transaction: the new session row, last_login, axes' bookkeeping and the journal entry commit together, in
    one commit instead of four (each commit waits for the disk; see docs/benchmarks.md)."""
    auth_login(request, account, backend="moncompte.accounts.authentication.NirBackend")
    now = time.time()
    request.session[SESSION_STARTED_AT] = now
    request.session[SESSION_AUTH_AT] = now
    request.session[SESSION_LAST_SEEN] = now
    request.session["auth_via"] = via
    # The session as "Mes sessions" lists it; its id in the session lets SessionLifetimeMiddleware find it.
    from moncompte.accounts import profile_services
    from moncompte.journal.middleware import client_ip

    record = profile_services.session_record_open(
        account=account,
        session_key=request.session.session_key,
        via=via,
        user_agent=request.headers.get("User-Agent", ""),
        ip_address=client_ip(request),
    )
    request.session[profile_services.SESSION_RECORD_KEY] = record.pk
    with journal_context.acting(
        actor_account_id=account.pk, session_ref=journal_context.session_ref(request.session.session_key)
    ):
        services.login_succeeded(account=account, via=via)


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    remembered = _remembered_nir(request)
    form = LoginForm(
        posted(request),
        initial={"identifier": format_nir(remembered) if remembered else "", "remember": bool(remembered)},
    )
    if request.method == "POST" and form.is_valid():
        nir, ip = form.cleaned_data["identifier"], login_client_ip(request)
        try:
            check_login_allowed(nir, ip)
        except Throttled as throttled:
            return locked_page(request, throttled.until)
        account = authenticate(request, identifier=nir, password=form.cleaned_data["password"])
        result = getattr(request, "auth_result", None)  # None when axes refused before the secret was checked
        if account is None and result is not None:
            # A secret checked and refused, including the one that triggers the axes lock: count it and journal it.
            count_login_failure(nir, ip)
            services.login_failed(person_id=result.person_id)
        if getattr(request, "axes_locked_out", False):
            return lockout_response(request, None, {"identifier": nir})
        if account is None:
            form.add_error(None, LOGIN_FAILED)
        else:
            start_session(request, account, via=result.via if result else AUTH_VIA_PASSWORD)
            next_url = request.POST.get("next") or request.GET.get("next") or ""
            # A path on this site only; redirect() would take "next=dashboard" for a view name and fail.
            if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
                next_url, {request.get_host()}, request.is_secure()
            ):
                next_url = reverse(settings.LOGIN_REDIRECT_URL)
            response = HttpResponseRedirect(next_url)
            if form.cleaned_data["remember"]:
                response.set_signed_cookie(
                    settings.REMEMBER_ME_COOKIE_NAME,
                    nir,
                    salt=REMEMBER_SALT,
                    max_age=settings.REMEMBER_ME_MAX_AGE,
                    path=reverse("accounts:login"),
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
            else:
                response.delete_cookie(settings.REMEMBER_ME_COOKIE_NAME, path=reverse("accounts:login"))
            return response
    status = 400 if form.is_bound else 200
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    from moncompte.accounts import profile_services

    if request.user.is_authenticated:
        profile_services.session_record_end(
            account=request.user,
            record_id=request.session.get(profile_services.SESSION_RECORD_KEY),
            reason=profile_services.EndReason.LOGOUT,
        )
    auth_logout(request)
    messages.success(request, _("Vous êtes déconnecté. À bientôt !"))
    return redirect("accounts:login")


@require_safe
def provisional_id_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/provisional_id.html")


# --- First login with the case PIN -------------------------------------------------------------------------------


@sensitive_post_parameters("password1", "password2")
@login_required
@require_http_methods(["GET", "POST"])
def migration_password_view(request: HttpRequest) -> HttpResponse:
    if not request.user.needs_password:
        return redirect("accounts:dashboard")
    form = NewPasswordForm(posted(request), account=request.user)
    if request.method == "POST" and form.is_valid():
        services.password_set(account=request.user, password=form.cleaned_data["password1"], reason="migration")
        update_session_auth_hash(request, request.user)
        messages.success(
            request, _("Votre mot de passe est créé. Il remplace le mot de passe à 8 chiffres du dossier.")
        )
        return redirect("accounts:migration_contact")
    return render(request, "accounts/migration_password.html", {"form": form, "step": 1}, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def migration_contact_view(request: HttpRequest) -> HttpResponse:
    if request.user.has_validated_contact:
        # A first contact only: changing a validated one needs re-authentication and a notice to the old contact.
        return redirect("accounts:dashboard")
    person: Person = request.user.person
    initial = {"medium": Medium.SMS if person.mobile_on_file else Medium.EMAIL, "email": person.email_on_file}
    if person.mobile_on_file:
        initial["mobile"] = format_mobile(person.mobile_on_file)
    form = ContactForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_send_code(
                account=request.user, medium=form.cleaned_data["medium"], value=form.cleaned_data["destination"]
            )
        except CodeError as error:
            form.add_error(None, error.message)
        else:
            return redirect("accounts:migration_contact_code")
    return render(request, "accounts/migration_contact.html", {"form": form, "step": 2}, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def migration_contact_code_view(request: HttpRequest) -> HttpResponse:
    if request.user.has_validated_contact:
        return redirect("accounts:dashboard")
    pending = code_active(person=request.user.person, purpose="contact")
    if pending is None and request.method == "GET":
        return redirect("accounts:migration_contact")
    form = CodeForm(request.POST if request.method == "POST" and "resend" not in request.POST else None)
    if request.method == "POST" and "resend" in request.POST:
        if pending is None:
            return redirect("accounts:migration_contact")
        try:
            services.contact_send_code(account=request.user, medium=pending.medium, value=pending.destination)
            messages.success(
                request, _("Un nouveau code vient de vous être envoyé. L'ancien code ne fonctionne plus.")
            )
        except CodeError as error:
            # The code form is unbound here (add_error would fail on it): say why on the page we come back to.
            messages.error(request, error.message)
        return redirect("accounts:migration_contact_code")
    elif form.is_bound and form.is_valid():
        try:
            services.contact_confirm_code(account=request.user, code=form.cleaned_data["code"])
        except CodeInvalid as error:
            form.add_error("code", error.message)
        else:
            messages.success(request, _("Vos coordonnées sont validées."))
            return redirect("accounts:onboarding")
    context = {
        "form": form,
        "step": 2,
        "destination": mask_destination(pending.destination) if pending else "",
        "medium": pending.medium if pending else "",
        "minutes": settings.OTP_LIFETIME // 60,
    }
    return render(request, "accounts/migration_contact_code.html", context, status=form_status(form))


ONBOARDING_STEPS = 3


@login_required
@require_http_methods(["GET", "POST"])
def onboarding_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.onboarding_complete(account=request.user)
        return redirect("accounts:dashboard")
    try:
        step = min(max(int(request.GET.get("etape", "1")), 1), ONBOARDING_STEPS)
    except ValueError:
        step = 1
    context = {
        "step": step,
        "steps": ONBOARDING_STEPS,
        "next_step": step + 1 if step < ONBOARDING_STEPS else None,
        "previous_step": step - 1 if step > 1 else None,
        "phone_sunset": getattr(settings, "PHONE_PIN_SUNSET", None),
    }
    return render(request, f"accounts/onboarding_{step}.html", context)


@login_required
@require_safe
def dashboard_view(request: HttpRequest) -> HttpResponse:
    person = request.user.person
    if person is None:  # an agent's account
        return redirect("admin:index")
    households = [
        {
            "membership": membership,
            "role": membership.get_role_display(),
            "members": [
                {"person": member.person, "role": member.get_role_display()}
                for member in policy.members_visible(person, membership.case)
            ],
            "limits": policy.limits(person, membership.case),
            "sees_case": policy.can(person, policy.Capability.VIEW_CASE, membership.case),
        }
        for membership in policy.memberships_of(person)
    ]
    return render(request, "accounts/dashboard.html", {"person": person, "households": households})


@sensitive_post_parameters("current_password", "password1", "password2")
@login_required
@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    """Change the personal password; every other session of the account ends (Django's session hash)."""
    form = PasswordChangeForm(posted(request), account=request.user)
    if request.method == "POST" and form.is_valid():
        services.password_set(account=request.user, password=form.cleaned_data["password1"], reason="change")
        update_session_auth_hash(request, request.user)
        messages.success(
            request, _("Votre mot de passe est modifié. Vos autres sessions ouvertes ont été fermées par sécurité.")
        )
        return redirect("accounts:dashboard")
    return render(request, "accounts/password_change.html", {"form": form}, status=form_status(form))


# --- Forgotten password ------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def password_reset_request_view(request: HttpRequest) -> HttpResponse:
    form = ResetRequestForm(posted(request))
    if request.method == "POST" and form.is_valid():
        with minimum_duration(RESET_MIN_DURATION):
            person = person_get_by_nir(form.cleaned_data["identifier"])
            services.password_reset_request(person=person, medium=form.cleaned_data["medium"])
        request.session[RESET_SESSION_KEY] = {
            "person_id": person.pk if person else None,
            "medium": form.cleaned_data["medium"],
            "started": time.time(),
            "attempts": 0,
        }
        return redirect("accounts:password_reset_complete")
    return render(request, "accounts/password_reset_request.html", {"form": form}, status=form_status(form))


@sensitive_post_parameters("password1", "password2", "code")
@require_http_methods(["GET", "POST"])
def password_reset_complete_view(request: HttpRequest) -> HttpResponse:
    state = request.session.get(RESET_SESSION_KEY)
    if not state:
        return redirect("accounts:password_reset")
    person = Person.objects.filter(pk=state["person_id"]).first() if state["person_id"] else None
    account = Account.objects.filter(person=person).first() if person else None
    if person is not None and account is None:
        # Not migrated yet: the new password is checked against this person's data, as the service will do.
        account = Account(person=person, login_id=person.nir or person.provisional_id or "")
    resend = request.method == "POST" and "resend" in request.POST
    form = ResetCompleteForm(request.POST if request.method == "POST" and not resend else None, account=account)
    if resend:
        # Timed on this session, not on the codes of the person: the answer is the same whether the NIR is known.
        wait = settings.OTP_RESEND_DELAY - (time.time() - state["started"])
        if wait > 0:
            messages.warning(
                request,
                _("Un code vient d'être envoyé. Vous pourrez en demander un nouveau dans %(seconds)s secondes.")
                % {"seconds": math.ceil(wait)},
            )
            return redirect("accounts:password_reset_complete")
        with minimum_duration(RESET_MIN_DURATION):
            services.password_reset_request(person=person, medium=state["medium"])
        state.update(started=time.time(), attempts=0)
        request.session[RESET_SESSION_KEY] = state
        messages.info(
            request, _("Si un compte correspond, un nouveau code vient d'être envoyé. L'ancien ne fonctionne plus.")
        )
        return redirect("accounts:password_reset_complete")
    if form.is_bound and form.is_valid():
        with minimum_duration(RESET_MIN_DURATION):
            try:
                if person is None or not _reset_code_pending(person):
                    # Unknown NIR, a member who may not reset, or no code sent (no contact of that kind on file):
                    # the same answers as for a wrong code, so the page never tells which.
                    raise _unknown_person_code_error(request, state)
                account = services.password_reset_complete(
                    person=person, code=form.cleaned_data["code"], password=form.cleaned_data["password1"]
                )
            except CodeInvalid as error:
                form.add_error("code", error.message)
        if not form.errors:
            del request.session[RESET_SESSION_KEY]
            start_session(request, account, via="password_reset")
            messages.success(request, _("Votre nouveau mot de passe est enregistré. Vous êtes connecté."))
            return redirect("accounts:dashboard")
    context = {"form": form, "medium": state["medium"], "minutes": settings.OTP_LIFETIME // 60}
    return render(request, "accounts/password_reset_complete.html", context, status=form_status(form))


REAUTH_MAX_FAILURES = 5


@sensitive_post_parameters("password")
@login_required
@require_http_methods(["GET", "POST"])
def reauth_view(request: HttpRequest) -> HttpResponse:
    """Confirm the password before a security change, then go back to the page that asked (a path on this site).
    Five wrong passwords in a row end the session: whoever holds it does not know the password."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = reverse("accounts:dashboard")
    if request.method == "GET" and recently_authenticated(request):
        return redirect(next_url)
    form = ReauthForm(posted(request), account=request.user)
    if request.method == "POST":
        if form.is_valid():
            request.session.pop("_reauth_failures", None)
            mark_authenticated(request)
            return redirect(next_url)
        failures = request.session.get("_reauth_failures", 0) + 1
        request.session["_reauth_failures"] = failures
        services.reauth_failed(account=request.user)
        if failures >= REAUTH_MAX_FAILURES:
            auth_logout(request)
            messages.error(request, _("Trop d'essais de mot de passe : par sécurité, vous avez été déconnecté."))
            return redirect("accounts:login")
    return render(request, "accounts/reauth.html", {"form": form, "next": next_url}, status=form_status(form))


def _reset_code_pending(person: Person) -> bool:
    if not services.password_reset_allowed(person):
        return False
    return code_active(person=person, purpose=Purpose.PASSWORD_RESET) is not None


def _unknown_person_code_error(request: HttpRequest, state: dict) -> CodeInvalid:
    """For a NIR we do not know, answer exactly as for a wrong code, try counting included."""
    state["attempts"] = state.get("attempts", 0) + 1
    request.session[RESET_SESSION_KEY] = state
    if time.time() - state["started"] > settings.OTP_LIFETIME:
        return CodeInvalid(_("Ce code a expiré. Demandez un nouveau code."))
    left = settings.OTP_MAX_ATTEMPTS - state["attempts"]
    if left < 0:
        return CodeInvalid(_("Trop d'essais avec ce code. Demandez un nouveau code."))
    if left == 0:
        return CodeInvalid(_("Code incorrect. Vous avez épuisé vos essais : demandez un nouveau code."))
    return CodeInvalid(
        ngettext(
            "Code incorrect. Il vous reste %(left)s essai.", "Code incorrect. Il vous reste %(left)s essais.", left
        )
        % {"left": left}
    )
