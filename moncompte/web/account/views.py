"""Login, first-login migration, forgotten password and the dashboard. Views stay thin: forms check input, services
change state (and journal it), selectors read."""

from __future__ import annotations

import contextlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.core.signing import BadSignature
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from moncompte.accounts import devices, services, sessions
from moncompte.accounts.authentication import AUTH_VIA_PASSWORD
from moncompte.accounts.models import Account
from moncompte.accounts.onboarding import onboarding_context
from moncompte.accounts.sessions import start_session
from moncompte.accounts.throttling import (
    Throttled,
    check_login_allowed,
    count_login_failure,
    locked_page,
    lockout_response,
    login_client_ip,
    login_failures_clear,
    step_up_required,
)
from moncompte.franceconnect import provider as franceconnect_provider
from moncompte.franceconnect import services as franceconnect
from moncompte.households import policy
from moncompte.identity.models import Person
from moncompte.identity.nir import NirError, nir_grouped, parse_nir
from moncompte.identity.phones import format_mobile
from moncompte.identity.provisional import ProvisionalIdError, parse_provisional_id, provisional_grouped
from moncompte.identity.selectors import person_get_by_login_id
from moncompte.messaging.models import Medium
from moncompte.verification import ceilings
from moncompte.verification.errors import CeilingReached
from moncompte.verification.models import Lane, Purpose
from moncompte.verification.services import (
    CodeError,
    CodeInvalid,
    code_active,
    code_attempt_counted,
    code_digits,
    mask_destination,
    resend_wait_message,
    session_refusal,
)
from moncompte.web.account.forms import (
    DeskResetForm,
    LoginForm,
    PasswordChangeForm,
    ProvisionalLoginForm,
    ResetCompleteForm,
    ResetRequestForm,
)
from moncompte.web.forms import CodeForm, ContactForm, NewPasswordForm, ReauthForm
from moncompte.web.helpers import (
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
#: The same for an unknown identifier, a wrong secret and a provisional identifier retired by a NIR: the page never
#: tells whether an identifier exists, so it reminds everyone that a linked NIR replaces it.
PROVISIONAL_LOGIN_FAILED = gettext_lazy(
    "Identifiant provisoire ou mot de passe incorrect. Si la Caf vous a fait savoir que votre numéro de Sécurité "
    "sociale est rattaché à votre compte, votre identifiant provisoire ne fonctionne plus : connectez-vous avec votre "
    "numéro de Sécurité sociale. Si vous ne vous êtes jamais connecté, saisissez le mot de passe à 8 chiffres de "
    "votre dossier."
)
#: The role of a household member as the dashboard names it. The same French words as households.models.Role's
#: labels, which stay plain strings while that app is being reworked; tests/test_i18n.py checks that both agree.
#: Pages that say whether a NIR is known must answer in the same time either way.
RESET_MIN_DURATION = 0.35


def _nir_shown(login_id: str) -> str:
    try:
        return nir_grouped(parse_nir(login_id).value)
    except NirError:
        return ""


def _provisional_id_shown(login_id: str) -> str:
    try:
        return provisional_grouped(parse_provisional_id(login_id))
    except ProvisionalIdError:
        return ""


@dataclass(frozen=True)
class LoginPage:
    """One of the two login pages. They differ only in the identifier they take (a NIR, or a provisional identifier
    for someone who has no NIR yet), their wording and the path the "Se souvenir de moi" cookie is scoped to; every
    check, limit and step in between is the same code (`_login`)."""

    url_name: str
    form_class: type[LoginForm]
    template: str
    failed: Promise
    #: The remembered account's login id as the identifier field shows it, or "" (not this page's kind of id).
    shown: Callable[[str], str]


NIR_LOGIN = LoginPage("accounts:login", LoginForm, "account/login.html", LOGIN_FAILED, _nir_shown)
PROVISIONAL_LOGIN = LoginPage(
    "accounts:provisional_id",
    ProvisionalLoginForm,
    "account/provisional_id.html",
    PROVISIONAL_LOGIN_FAILED,
    _provisional_id_shown,
)
LOGIN_PAGES = {page.url_name: page for page in (NIR_LOGIN, PROVISIONAL_LOGIN)}


def _remembered_login_id(request: HttpRequest) -> str:
    """The login id of the account this browser remembers on this page. The cookie holds the account's id, signed,
    never the NIR: the login page shows it, the cookie does not carry it."""
    try:
        value = request.get_signed_cookie(settings.REMEMBER_ME_COOKIE_NAME, default="", salt=REMEMBER_SALT)
    except BadSignature:
        return ""
    if not value.isdigit():
        return ""  # a cookie of the earlier format, which held the NIR itself: forgotten
    login_id = Account.objects.filter(pk=int(value), is_active=True).values_list("login_id", flat=True).first()
    return login_id or ""


def _safe_next(request: HttpRequest, next_url: str) -> str:
    """A path on this site only; redirect() would take "next=dashboard" for a view name and fail."""
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
        next_url, {request.get_host()}, request.is_secure()
    ):
        return reverse(settings.LOGIN_REDIRECT_URL)
    return next_url


def _signed_in(
    request: HttpRequest, account: Account, *, via: str, remember: bool, next_url: str, page: LoginPage = NIR_LOGIN
) -> HttpResponse:
    start_session(request, account, via=via)
    response = HttpResponseRedirect(_safe_next(request, next_url))
    # Scoped to the page the person signed in on: it pre-fills that page only.
    path = reverse(page.url_name)
    if remember:
        response.set_signed_cookie(
            settings.REMEMBER_ME_COOKIE_NAME,
            str(account.pk),
            salt=REMEMBER_SALT,
            max_age=settings.REMEMBER_ME_MAX_AGE,
            path=path,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    else:
        response.delete_cookie(settings.REMEMBER_ME_COOKIE_NAME, path=path)
    return response


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """The login with a NIR (a NIA included) and a password, or the case PIN the first time."""
    return _login(request, NIR_LOGIN)


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def provisional_id_view(request: HttpRequest) -> HttpResponse:
    """« J'ai un identifiant provisoire »: the same login, with the provisional identifier of someone who has no NIR
    yet. Once their NIR is linked the identifier is retired, and this page fails for it as for any wrong one."""
    return _login(request, PROVISIONAL_LOGIN)


def _login(request: HttpRequest, page: LoginPage) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    remembered = _remembered_login_id(request)
    shown = page.shown(remembered) if remembered else ""
    form = page.form_class(posted(request), initial={"identifier": shown, "remember": bool(shown)})
    if request.method == "POST" and form.is_valid():
        identifier, ip = form.cleaned_data["identifier"], login_client_ip(request)
        device = devices.device_for_login_id(request, identifier)
        device_id = device.pk if device is not None else None
        request.login_device = device  # axes leaves a trusted device out of its count (AXES_WHITELIST_CALLABLE)
        try:
            check_login_allowed(identifier, ip, device_id=device_id)
        except Throttled as throttled:
            return locked_page(request, throttled)
        account = authenticate(request, identifier=identifier, password=form.cleaned_data["password"])
        result = getattr(request, "auth_result", None)  # None when axes refused before the secret was checked
        if account is None and result is not None:
            # A secret checked and refused, including the one that triggers the axes lock: count it and journal it.
            count_login_failure(identifier, ip, device_id=device_id)
            services.login_failed(person_id=result.person_id)
        next_url = request.POST.get("next") or request.GET.get("next") or ""
        remember = form.cleaned_data["remember"]
        if account is None and result is not None and device is None and step_up_required(identifier):
            # Under attack, a wrong password leads to the same code page as the right one: no guess is confirmed,
            # not even by the try that makes axes lock this address. Its lock stands (the next try from here is
            # refused before any check, whatever the password), but this answer is the code page: AxesMiddleware
            # replaces a response with its lock page only while this flag is set.
            request.axes_locked_out = False
            return _step_up(request, None, via="", remember=remember, next_url=next_url, page=page)
        if getattr(request, "axes_locked_out", False):
            return lockout_response(request, None, {"identifier": identifier})
        if account is None:
            form.add_error(None, page.failed)
        else:
            via = result.via if result else AUTH_VIA_PASSWORD
            if device is None and step_up_required(identifier):
                # Counted as a wrong one would be (axes, per address, per NIR), so that the state the next try
                # meets does not tell either: only the code, sent to the person, tells them apart.
                user_login_failed.send(sender=__name__, credentials={"identifier": identifier}, request=request)
                count_login_failure(identifier, ip)
                request.axes_locked_out = False
                return _step_up(request, account, via=via, remember=remember, next_url=next_url, page=page)
            return _signed_in(request, account, via=via, remember=remember, next_url=next_url, page=page)
    status = 400 if form.is_bound else 200
    context = {
        "form": form,
        "next": request.GET.get("next", ""),
        # This browser remembers an account whose provisional identifier a NIR has replaced since (only a browser
        # that signed in to it, with « Se souvenir de moi », holds that cookie).
        "remembered_now_uses_nir": page is PROVISIONAL_LOGIN and bool(remembered) and bool(_nir_shown(remembered)),
    }
    return render(request, page.template, context, status=status)


# --- Step-up: a login from an untrusted client while the NIR is under attack ------------------------------------

STEP_UP_SESSION_KEY = "login_step_up"
#: How long the right password typed before the code step counts (then the login starts again).
STEP_UP_MAX_AGE = 15 * 60
#: The code page answers in the same time whether a code left (right password) or not.
STEP_UP_MIN_DURATION = 0.35
STEP_UP_KEYS = {"account_id", "auth_hash", "via", "remember", "next", "started", "proven_at", "attempts"}


def _step_up(
    request: HttpRequest, account: Account | None, *, via: str, remember: bool, next_url: str, page: LoginPage
):
    """Many wrong passwords were tried for this NIR lately, and this browser is not a trusted device: whatever the
    password, the code page follows, so that the answer never confirms a right guess. With the right password a code
    goes to the person's contact and completes the login; with a wrong one (or an unknown NIR) nothing is sent and no
    code can be right. Only someone who knows the password ever triggers a send."""
    with minimum_duration(STEP_UP_MIN_DURATION):
        now = time.time()
        previous = request.session.get(STEP_UP_SESSION_KEY)
        if (
            account is not None
            and previous
            and previous["account_id"] == account.pk
            and now - previous["started"] < settings.OTP_LIFETIME
        ):
            # The same person again, with a code of this session still valid: back to it rather than a second send.
            previous.update(remember=remember, next=next_url, login_page=page.url_name)
            request.session[STEP_UP_SESSION_KEY] = previous
            return redirect("accounts:login_code")
        state = {
            "account_id": account.pk if account is not None else None,
            # The password proves who is there only while it is the account's password (W5 of the review).
            "auth_hash": account.get_session_auth_hash() if account is not None else "",
            "via": via,
            "remember": remember,
            "next": next_url,
            "login_page": page.url_name,
            "started": now,
            "proven_at": now,
            "attempts": 0,
        }
        if account is not None:
            _login_code_send(account)
        request.session[STEP_UP_SESSION_KEY] = state
    return redirect("accounts:login_code")


def _login_code_send(account: Account) -> None:
    """Send the login code if the account has a contact and its quota allows; say nothing either way (the page
    reads the same for a wrong password)."""
    medium, destination = services.login_code_destination(account)
    if destination:
        with contextlib.suppress(CodeError):
            services.login_code_send(account=account, medium=medium, destination=destination)


def _step_up_account(state: dict) -> Account | None:
    """The account whose password was typed, while that password is still its password and it is still active."""
    if not state.get("account_id"):
        return None
    account = Account.objects.select_related("person").filter(pk=state["account_id"], is_active=True).first()
    if account is None or not hmac.compare_digest(state.get("auth_hash", ""), account.get_session_auth_hash()):
        return None
    return account


def _step_up_page(state) -> LoginPage:
    """The login page the stepped-up login began on (the NIR's, or the provisional identifier's)."""
    name = state.get("login_page") if isinstance(state, dict) else None
    return LOGIN_PAGES.get(name, NIR_LOGIN) if isinstance(name, str) else NIR_LOGIN


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def login_code_view(request: HttpRequest) -> HttpResponse:
    state = request.session.get(STEP_UP_SESSION_KEY)
    if (
        not isinstance(state, dict)
        or not state.keys() >= STEP_UP_KEYS
        or request.user.is_authenticated
        or time.time() - state["proven_at"] > STEP_UP_MAX_AGE
    ):
        # The password typed counts for a while only: past it, the login starts again, on the page it began on.
        request.session.pop(STEP_UP_SESSION_KEY, None)
        return redirect(_step_up_page(state).url_name)
    account = _step_up_account(state)
    resend = request.method == "POST" and "resend" in request.POST
    form = CodeForm(request.POST if request.method == "POST" and not resend else None)
    if resend:
        wait = settings.OTP_RESEND_DELAY - (time.time() - state["started"])
        if wait > 0:
            messages.warning(request, resend_wait_message(wait))
            return redirect("accounts:login_code")
        with minimum_duration(STEP_UP_MIN_DURATION):
            if account is not None:
                _login_code_send(account)
        state.update(started=time.time(), attempts=0)
        request.session[STEP_UP_SESSION_KEY] = state
        messages.info(request, _("Si le mot de passe saisi est le bon, un nouveau code vient de partir."))
        return redirect("accounts:login_code")
    if form.is_bound and form.is_valid():
        pending = account is not None and code_active(person=account.person, purpose=Purpose.LOGIN) is not None
        try:
            code_attempt_counted(state, matches=pending)
            services.login_code_check(account=account, code=form.cleaned_data["code"])
        except CodeInvalid as error:
            request.session[STEP_UP_SESSION_KEY] = state
            form.add_error("code", error.message)
        else:
            del request.session[STEP_UP_SESSION_KEY]
            return _signed_in(
                request,
                account,
                via=state["via"],
                remember=state["remember"],
                next_url=state["next"],
                page=_step_up_page(state),
            )
    context = {"form": form, "minutes": settings.OTP_LIFETIME // 60}
    return render(request, "account/login_code.html", context, status=form_status(form))


def sign_out(request: HttpRequest) -> None:
    """End the session, and its record in "Mes sessions"."""
    sessions.session_end_current(request)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out here; a session opened with FranceConnect also signs out at FranceConnect, which sends the browser
    back to the signed-out page (franceconnect:logged_out)."""
    id_token = request.session.get(franceconnect.ID_TOKEN_KEY)
    sign_out(request)
    if id_token:
        state = franceconnect_provider.new_secret()
        url = franceconnect_provider.end_session_url(id_token=id_token, state=state)
        if url is not None:
            request.session[franceconnect.LOGOUT_STATE_KEY] = state
            return redirect(url)
    messages.success(request, _("Vous êtes déconnecté. À bientôt !"))
    return redirect("accounts:login")


# --- First login with the case PIN -------------------------------------------------------------------------------


@sensitive_post_parameters("password1", "password2")
@login_required
@require_http_methods(["GET", "POST"])
def migration_password_view(request: HttpRequest) -> HttpResponse:
    if not request.user.needs_password:
        return redirect("accounts:dashboard")
    form = NewPasswordForm(posted(request), account=request.user)
    # An account FranceConnect opened arrives here too: its owner never typed the case PIN.
    via_franceconnect = request.session.get("auth_via") == franceconnect.VIA
    if request.method == "POST" and form.is_valid():
        services.password_set(account=request.user, password=form.cleaned_data["password1"], reason="migration")
        update_session_auth_hash(request, request.user)
        if via_franceconnect:
            messages.success(request, _("Votre mot de passe est créé."))
        else:
            messages.success(
                request, _("Votre mot de passe est créé. Il remplace le mot de passe à 8 chiffres du dossier.")
            )
        return redirect("accounts:migration_contact")
    context = {"form": form, "step": 1, "via_franceconnect": via_franceconnect}
    return render(request, "account/migration_password.html", context, status=form_status(form))


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
    return render(request, "account/migration_contact.html", {"form": form, "step": 2}, status=form_status(form))


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
    return render(request, "account/migration_contact_code.html", context, status=form_status(form))


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
        # Someone without a NIR yet signs in with their provisional identifier: the first screen says so.
        "provisional_id": provisional_grouped(request.user.person.provisional_id or "") if request.user.person else "",
        **onboarding_context(request.user, auth_via=request.session.get("auth_via", "")),
    }
    return render(request, f"account/onboarding_{step}.html", context)


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
    return render(request, "account/dashboard.html", {"person": person, "households": households})


@sensitive_post_parameters("current_password", "password1", "password2")
@login_required
@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    """Change the personal password; every other session of the account ends (Django's session hash)."""
    form = PasswordChangeForm(posted(request), account=request.user)
    if request.method == "POST" and not form.is_valid() and "current_password" in form.errors:
        signed_out = password_guess_failed(request)  # counted like the re-authentication page
        if signed_out is not None:
            return signed_out
    if request.method == "POST" and form.is_valid():
        request.session.pop(REAUTH_FAILURES_KEY, None)
        device = devices.device_for_account(request, request.user.pk)
        services.password_set(
            account=request.user,
            password=form.cleaned_data["password1"],
            reason="change",
            keep_device_id=device.pk if device is not None else None,
        )
        update_session_auth_hash(request, request.user)
        messages.success(
            request, _("Votre mot de passe est modifié. Vos autres sessions ouvertes ont été fermées par sécurité.")
        )
        return redirect("accounts:dashboard")
    return render(request, "account/password_change.html", {"form": form}, status=form_status(form))


# --- Forgotten password ------------------------------------------------------------------------------------------


def _reset_lane(request: HttpRequest, person: Person | None) -> tuple[str, bool]:
    """The quota a reset request counts in, and whether this browser is a trusted device of the person (then the
    page may say plainly whether a code left: this browser already signed in to that account)."""
    device = devices.device_for_person(request, person)
    return (f"{Lane.DEVICE}:{device.pk}", True) if device is not None else (Lane.ANONYMOUS, False)


def _reset_send(request: HttpRequest, person: Person | None, state: dict) -> None:
    """Ask for a code, for a known NIR or not. From an untrusted client the request first passes the ceilings of
    verification.ceilings (per NIR over a day, per address, for the service), which raise CeilingReached and change
    nothing; the session's tries are then counted there too (`guard`)."""
    lane, trusted = _reset_lane(request, person)
    guard = None if trusted else state["nir_guard"]
    with minimum_duration(RESET_MIN_DURATION):
        if guard is not None:
            ceilings.request_admit(ceilings.Guard.from_state(guard))
        started = time.time()  # when the code's lifetime starts, before the response floor: the same for everyone
        sent = services.password_reset_request(person=person, medium=state["medium"], lane=lane)
    state.update(started=started, attempts=0, trusted=trusted, sent=sent, guard=guard)
    request.session[RESET_SESSION_KEY] = state


@require_http_methods(["GET", "POST"])
def password_reset_request_view(request: HttpRequest) -> HttpResponse:
    form = ResetRequestForm(posted(request))
    status = form_status(form)
    if request.method == "POST" and form.is_valid():
        nir = form.cleaned_data["identifier"]  # or a provisional identifier (retired: nobody, as an unknown NIR)
        person = person_get_by_login_id(nir)
        state = {
            "person_id": person.pk if person else None,
            "medium": form.cleaned_data["medium"],
            # The NIR's ceilings count on the NIR as typed, known or not (no NIR is kept in the session).
            "nir_guard": ceilings.guard_for(nir, person_id=person.pk if person else None, device_hint=True).as_state(),
        }
        try:
            _reset_send(request, person, state)
        except CeilingReached as refusal:
            form.add_error(None, refusal.message)
            status = 429
        else:
            return redirect("accounts:password_reset_complete")
    return render(request, "account/password_reset_request.html", {"form": form}, status=status)


@sensitive_post_parameters("password1", "password2", "code")
@require_http_methods(["GET", "POST"])
def password_reset_complete_view(request: HttpRequest) -> HttpResponse:
    state = request.session.get(RESET_SESSION_KEY)
    if not state or "nir_guard" not in state:  # none, or begun before the ceilings: start again
        return redirect("accounts:password_reset")
    person = Person.objects.filter(pk=state["person_id"]).first() if state["person_id"] else None
    resend = request.method == "POST" and "resend" in request.POST
    # The form applies the rules that say nothing about anyone; the person's own data (name, birth date, NIR) is
    # checked by the service once the code is proven, so the page never tells a known NIR from an unknown one.
    form = ResetCompleteForm(request.POST if request.method == "POST" and not resend else None, account=None)
    if resend:
        # Timed on this session, not on the codes of the person: the answer is the same whether the NIR is known.
        wait = settings.OTP_RESEND_DELAY - (time.time() - state["started"])
        if wait > 0:
            messages.warning(request, resend_wait_message(wait))
            return redirect("accounts:password_reset_complete")
        try:
            _reset_send(request, person, state)
        except CeilingReached as refusal:
            messages.error(request, refusal.message)
            return redirect("accounts:password_reset_complete")
        if state.get("trusted") and not state["sent"]:
            messages.error(request, _reset_not_sent_message(state["medium"]))
        elif state.get("trusted"):
            messages.info(request, _("Un nouveau code vient de vous être envoyé. L'ancien ne fonctionne plus."))
        else:
            messages.info(request, _("Si un code peut vous être envoyé, un nouveau code vient de partir."))
        return redirect("accounts:password_reset_complete")
    if form.is_bound and form.is_valid():
        with minimum_duration(RESET_MIN_DURATION):
            try:
                pending = (
                    person is not None and services.password_reset_allowed(person) and _reset_code_pending(person)
                )
                # Every try is counted in the session too, code or not: the answers never tell a known NIR (or a
                # spent quota, or a missing contact) from an unknown one.
                code_attempt_counted(state, matches=pending)
                account = services.password_reset_complete(
                    person=person, code=form.cleaned_data["code"], password=form.cleaned_data["password1"]
                )
            except CodeInvalid as error:
                request.session[RESET_SESSION_KEY] = state
                form.add_error("code", error.message)
            except ValidationError as error:
                # The right code, a password built from the person's own data: the code stays unused and the try
                # is not counted, in the session either.
                state["attempts"] -= 1
                request.session[RESET_SESSION_KEY] = state
                form.add_error("password1", error)
        if not form.errors:
            del request.session[RESET_SESSION_KEY]
            return _reset_done(request, account)
    context = {
        "form": form,
        "medium": state["medium"],
        "minutes": settings.OTP_LIFETIME // 60,
        "digits": code_digits(Purpose.PASSWORD_RESET),
        "trusted": state.get("trusted", False),
        "sent": state.get("sent", False),
        "not_sent_message": _reset_not_sent_message(state["medium"]),
    }
    return render(request, "account/password_reset_complete.html", context, status=form_status(form))


def _reset_done(request: HttpRequest, account: Account) -> HttpResponse:
    """The person proved a code sent to their contact: the failures counted against their NIR start again, and they
    are signed in."""
    login_failures_clear(account.login_id)
    start_session(request, account, via="password_reset")
    messages.success(request, _("Votre nouveau mot de passe est enregistré. Vous êtes connecté."))
    return redirect("accounts:dashboard")


DESK_RESET_SESSION_KEY = "password_reset_desk"


@sensitive_post_parameters("password1", "password2", "code")
@require_http_methods(["GET", "POST"])
def password_reset_desk_view(request: HttpRequest) -> HttpResponse:
    """« J'ai reçu un code d'un conseiller »: an agent sent a reset code to the person's validated contact (the desk);
    the person types their NIR, that code and a new password. Anyone may type any NIR here, so every try is counted
    in the session and, per NIR, address and service, by the ceilings; the answers are the same whether a code, or a
    person, is behind the NIR."""
    if request.method == "POST" and "restart" in request.POST:  # « J'ai reçu un nouveau code »: tries start again
        request.session.pop(DESK_RESET_SESSION_KEY, None)
        return redirect("accounts:password_reset_desk")
    form = DeskResetForm(posted(request), account=None)
    if form.is_valid():
        nir = form.cleaned_data["identifier"]
        person = person_get_by_login_id(nir)
        # A trusted device of the person is outside the ceilings, as for « Mot de passe oublié » (its own lane).
        nir_guard = ceilings.guard_for(nir, person_id=person.pk if person else None, device_hint=True)
        state = request.session.get(DESK_RESET_SESSION_KEY)
        if not state or state.get("nir") != nir_guard.subject:  # another NIR: a count of its own
            state = {"started": time.time(), "attempts": 0, "nir": nir_guard.subject}
        trusted = devices.device_for_person(request, person) is not None
        state["guard"] = None if trusted else nir_guard.as_state()
        active = (
            code_active(person=person, purpose=Purpose.DESK_RESET)
            if person is not None and services.password_reset_allowed(person)
            else None
        )
        with minimum_duration(RESET_MIN_DURATION):
            try:
                # Counted in this session and by the ceilings, never on the code (anyone may type it): the answer
                # is the session's, whether a code, or a person, is behind the NIR.
                code_attempt_counted(state, matches=active is not None and active.expires_at > timezone.now())
                try:
                    account = services.password_reset_complete(
                        person=person,
                        code=form.cleaned_data["code"],
                        password=form.cleaned_data["password1"],
                        purpose=Purpose.DESK_RESET,
                    )
                except CodeInvalid:
                    raise session_refusal(state) from None
            except CodeInvalid as error:
                request.session[DESK_RESET_SESSION_KEY] = state
                form.add_error("code", error.message)
            except ValidationError as error:
                state["attempts"] -= 1  # the right code, a password refused: neither used up nor counted
                request.session[DESK_RESET_SESSION_KEY] = state
                form.add_error("password1", error)
        if not form.errors:
            request.session.pop(DESK_RESET_SESSION_KEY, None)
            return _reset_done(request, account)
    context = {"form": form, "minutes": settings.OTP_LIFETIME // 60, "reset_url": reverse("accounts:password_reset")}
    return render(request, "account/password_reset_desk.html", context, status=form_status(form))


def _reset_not_sent_message(medium: str) -> str:
    if medium == Medium.SMS:
        return _(
            "Aucun code n'a pu vous être envoyé par SMS : la Caf ne connaît pas votre mobile, ou trop de codes ont "
            "été demandés dans l'heure. Essayez par e-mail, ou réessayez plus tard."
        )
    return _(
        "Aucun code n'a pu vous être envoyé par e-mail : la Caf ne connaît pas votre adresse e-mail, ou trop de "
        "codes ont été demandés dans l'heure. Essayez par SMS, ou réessayez plus tard."
    )


REAUTH_MAX_FAILURES = 5
REAUTH_FAILURES_KEY = "_reauth_failures"


def password_guess_failed(request: HttpRequest) -> HttpResponse | None:
    """A wrong current password typed in a signed-in session (re-authentication, password change): journaled and
    counted in the session; the fifth in a row ends the session, since whoever holds it does not know the password.
    Returns the response that signs out, or None."""
    failures = request.session.get(REAUTH_FAILURES_KEY, 0) + 1
    request.session[REAUTH_FAILURES_KEY] = failures
    services.reauth_failed(account=request.user)
    if failures < REAUTH_MAX_FAILURES:
        return None
    sign_out(request)
    messages.error(request, _("Trop d'essais de mot de passe : par sécurité, vous avez été déconnecté."))
    return redirect("accounts:login")


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
            request.session.pop(REAUTH_FAILURES_KEY, None)
            mark_authenticated(request)
            return redirect(next_url)
        signed_out = password_guess_failed(request)
        if signed_out is not None:
            return signed_out
    return render(request, "account/reauth.html", {"form": form, "next": next_url}, status=form_status(form))


def _reset_code_pending(person: Person | None) -> bool:
    """Whether this session holds a reset code of the person (an unknown NIR, a member who may not reset, or no code
    sent: no)."""
    if person is None or not services.password_reset_allowed(person):
        return False
    return code_active(person=person, purpose=Purpose.PASSWORD_RESET) is not None
