"""The agents' screens (issue 13, items 2 and 3): signing in with a second factor, receiving a person, the
supervisors' list of agents.

Signing in: the password (the admin's limits: `accounts.admin_login.AgentLoginForm`), then a TOTP code or a backup
code; the first time, enrolment by QR code. Every other page here, and every admin page, needs a verified session
(`access.agent_required`). Receiving a person: a search by case number or NIR, then « who is asking » and how they
were identified opens the exchange (journaled about the person); the exchange's page shows what the policy lets that
person be told, their help state and the actions. The exchange lives in the agent's session, never in the URL.
"""

from __future__ import annotations

import time

import segno
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from moncompte.accounts import agents, assistance, sessions
from moncompte.accounts.admin_login import AgentLoginForm
from moncompte.accounts.agents import AgentError, SecondFactorRefused, SecondFactorWait
from moncompte.accounts.assistance import AssistanceError
from moncompte.agency import selectors as agency
from moncompte.desk.access import agent_required, signed_in_agent
from moncompte.desk.forms import (
    CodeForm,
    EnrolForm,
    ErrorReportForm,
    OpenForm,
    RenewCodesForm,
    ResetCodeForm,
    ResetSecondFactorForm,
    SearchForm,
)
from moncompte.households import policy
from moncompte.households.selectors import memberships_for_person
from moncompte.identity.models import Person
from moncompte.identity.provisional import provisional_grouped
from moncompte.journal import reads
from moncompte.lib.forms import form_status
from moncompte.lib.links import absolute_url

NEXT_KEY = "desk_next"
FAILURES_KEY = "desk_second_factor_failures"
CANDIDATES_KEY = "desk_candidates"
EXCHANGE_KEY = "desk_exchange"
#: Wrong second-factor codes in a row that sign the session out (django-otp also slows the device down).
MAX_FAILURES = 5
#: Payments, letters and requests shown at once: the newest, as the phone reads them out.
SHOWN = 5


def _next(request: HttpRequest) -> str:
    """Where to go once signed in: a path on this site (never another host), by default the desk, or the admin for an
    agent who has no desk to keep."""
    wanted = request.session.get(NEXT_KEY) or ""
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(wanted, allowed_hosts=None):
        return wanted
    return reverse("desk:home") if request.user.has_perm("accounts.desk_use") else reverse("admin:index")


# --- Signing in ------------------------------------------------------------------------------------------------------


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    agent = signed_in_agent(request)
    if agent is not None and request.method == "GET":
        if agents.is_verified(agent):
            return redirect(_next(request))
        return redirect("desk:second_factor" if agents.has_second_factor(agent) else "desk:enrol")
    form = AgentLoginForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        account = form.get_user()
        wanted = request.GET.get("next") or request.session.get(NEXT_KEY, "")
        sessions.start_session(request, account, via="agent")
        request.session[NEXT_KEY] = wanted[:500]
        if agents.has_second_factor(account):
            return redirect("desk:second_factor")
        agents.enrolment_start(account)  # the secret to scan, made here: the enrolment page's GET writes nothing
        return redirect("desk:enrol")
    if request.method == "GET" and "next" in request.GET:
        request.session[NEXT_KEY] = request.GET["next"][:500]
    return render(request, "desk/login.html", {"form": form}, status=form_status(form))


def _verified(request: HttpRequest, device) -> None:
    """The second factor is proven: the session says so (django-otp), and gets a new key for its new rights."""
    otp_login(request, device)
    sessions.session_reauthenticated(request)
    request.session.pop(FAILURES_KEY, None)


def _wait(form, wait: SecondFactorWait) -> None:
    """The device is slowed down after wrong codes: no code was checked, nothing is counted."""
    form.add_error(
        "code",
        f"Après des codes incorrects, la vérification est suspendue quelques instants : patientez {wait.seconds} "
        f"seconde{'s' if wait.seconds > 1 else ''}, puis saisissez le code affiché à ce moment-là.",
    )


def _refused(request: HttpRequest, form) -> HttpResponse | None:
    """A wrong code: counted in the session; the fifth in a row signs out (whoever holds it may not be the agent)."""
    failures = request.session.get(FAILURES_KEY, 0) + 1
    request.session[FAILURES_KEY] = failures
    if failures >= MAX_FAILURES:
        sessions.session_end_current(request)
        messages.error(request, "Trop de codes incorrects : par sécurité, vous avez été déconnecté.")
        return redirect("desk:login")
    form.add_error("code", "Code incorrect. Vérifiez l'heure de votre téléphone et saisissez le code affiché.")
    return None


def _code_checked(request: HttpRequest, form, check):
    """Run `check()` on a valid form's code: its result, or None with the form's error (a wait, a wrong code) and,
    after the fifth wrong code in a row, the response that signs out (`form.signed_out`)."""
    form.signed_out = None
    if not form.is_valid():
        return None
    try:
        return check(form.cleaned_data["code"])
    except SecondFactorWait as wait:
        _wait(form, wait)
    except SecondFactorRefused:
        form.signed_out = _refused(request, form)
    return None


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def second_factor_view(request: HttpRequest) -> HttpResponse:
    agent = signed_in_agent(request)
    if agent is None:
        return redirect("desk:login")
    if agents.is_verified(agent):
        return redirect(_next(request))
    if not agents.has_second_factor(agent):
        return redirect("desk:enrol")
    form = CodeForm(request.POST if request.method == "POST" else None)
    device = _code_checked(request, form, lambda code: agents.second_factor_check(account=agent, token=code))
    if form.signed_out is not None:
        return form.signed_out
    if device is not None:
        _verified(request, device)
        if isinstance(device, StaticDevice):
            left = agents.backup_codes_left(agent)
            messages.warning(
                request,
                f"Vous vous êtes connecté avec un code de secours : il ne servira plus. Il vous en reste {left}.",
            )
        return redirect(_next(request))
    return render(request, "desk/second_factor.html", {"form": form}, status=form_status(form))


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def enrol_view(request: HttpRequest) -> HttpResponse:
    agent = signed_in_agent(request)
    if agent is None:
        return redirect("desk:login")
    if agents.has_second_factor(agent):
        return redirect("desk:second_factor")
    if request.method == "POST" and "restart" in request.POST:
        agents.enrolment_start(agent)
        return redirect("desk:enrol")
    device = agents.enrolment_pending(agent)
    if device is None:  # a secret is made by the sign-in's POST, or by the button of this page
        return render(request, "desk/enrol_start.html")
    form = EnrolForm(request.POST if request.method == "POST" else None)
    codes = _code_checked(
        request, form, lambda code: agents.enrolment_confirm(account=agent, device=device, token=code)
    )
    if form.signed_out is not None:
        return form.signed_out
    if codes is not None:
        device.refresh_from_db()
        _verified(request, device)
        return _codes_shown(request, codes)
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4, border=2, dark="#161616")
    context = {"form": form, "qr": qr, "secret": agents.secret_grouped(device), "issuer": settings.OTP_TOTP_ISSUER}
    return render(request, "desk/enrol.html", context, status=form_status(form))


def _codes_shown(request: HttpRequest, codes: list[str]) -> HttpResponse:
    """New backup codes, in this response only: never kept in the session, shown once."""
    return render(request, "desk/backup_codes.html", {"codes": codes, "next": _next(request)})


@sensitive_post_parameters("code")
@agent_required()
@require_http_methods(["GET", "POST"])
def backup_codes_view(request: HttpRequest) -> HttpResponse:
    """How many backup codes are left; new ones against a code of the application (an unattended session alone
    cannot make a lasting second factor)."""
    form = RenewCodesForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            agents.second_factor_check(account=request.user, token=form.cleaned_data["code"], application_only=True)
        except SecondFactorWait as wait:
            _wait(form, wait)
        except SecondFactorRefused:
            form.add_error("code", "Code incorrect. Saisissez le code affiché par votre application.")
        else:
            return _codes_shown(request, agents.backup_codes_renew(account=request.user))
    context = {"form": form, "left": agents.backup_codes_left(request.user)}
    return render(request, "desk/backup_codes.html", context, status=form_status(form))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    sessions.session_end_current(request)
    messages.success(request, "Vous êtes déconnecté.")
    return redirect("desk:login")


# --- Receiving a person -------------------------------------------------------------------------------------------


def _identifier_shown(person: Person) -> str:
    """The NIR with its middle masked (the agent confirms it with the person, who reads it from their card), or the
    provisional identifier."""
    if person.nir:
        return person.nir_masked
    return provisional_grouped(person.provisional_id) if person.provisional_id else ""


@sensitive_post_parameters("query")
@agent_required("accounts.desk_use")
@require_http_methods(["GET", "POST"])
def home_view(request: HttpRequest) -> HttpResponse:
    """Search by case number or NIR (by POST: a NIR never goes in a URL)."""
    form = SearchForm(request.POST if request.method == "POST" else None)
    found = None
    if form.is_valid():
        try:
            found = assistance.search(form.cleaned_data["query"], agent_id=request.user.pk)
        except AssistanceError as error:
            form.add_error("query", str(error))
        else:
            request.session[CANDIDATES_KEY] = [p.pk for p in found.people if p is not None]
    context = {
        "form": form,
        "found": found,
        "identified_by": list(assistance.IDENTIFIED_BY.items()),
        "exchange": _exchange_person(request),
    }
    return render(request, "desk/home.html", context, status=form_status(form))


@agent_required("accounts.desk_use")
@require_POST
def exchange_open_view(request: HttpRequest) -> HttpResponse:
    form = OpenForm(request.POST)
    candidates = request.session.get(CANDIDATES_KEY, [])
    if not form.is_valid() or form.cleaned_data["person"] not in candidates:
        messages.error(request, form.errors.get("identified_by", ["Cherchez de nouveau la personne."])[0])
        return redirect("desk:home")
    person = Person.objects.get(pk=form.cleaned_data["person"])
    assistance.exchange_open(person=person, identified_by=form.cleaned_data["identified_by"])
    request.session[EXCHANGE_KEY] = {
        "person_id": person.pk,
        "identified_by": form.cleaned_data["identified_by"],
        "opened_at": time.time(),
    }
    request.session.pop(CANDIDATES_KEY, None)
    return redirect("desk:exchange")


def _exchange_person(request: HttpRequest) -> Person | None:
    """The person of the exchange in progress; none after DESK_EXCHANGE_MINUTES (the agent searches again)."""
    exchange = request.session.get(EXCHANGE_KEY)
    if not exchange:
        return None
    if time.time() - exchange["opened_at"] > settings.DESK_EXCHANGE_MINUTES * 60:
        request.session.pop(EXCHANGE_KEY, None)
        messages.info(request, "L'échange précédent a pris fin : cherchez de nouveau la personne.")
        return None
    return Person.objects.filter(pk=exchange["person_id"]).first()


def _case_view(person: Person, membership) -> dict:
    """One case of the person, as an agent may tell it to them."""
    case = membership.case
    tell = policy.can(person, policy.Capability.DESK_INFO, case)
    view = {
        "case": case,
        "role": membership.get_role_display(),
        "tell": tell,
        "limits": policy.desk_limits(person, case),
    }
    if tell:
        view["members"] = list(policy.members_visible(person, case).select_related("person"))
        view["payments"] = agency.payments_for(person, case)
        view["letters"] = agency.letters_for(person, case)
        requests = agency.requests_for(person, case)
        view["requests"] = requests
        view["waiting"] = [item for item in requests.data if not item.answered][:SHOWN] if requests.ok else []
    return view


@agent_required("accounts.desk_use")
@require_http_methods(["GET"])
def exchange_view(request: HttpRequest) -> HttpResponse:
    person = _exchange_person(request)
    if person is None:
        return redirect("desk:home")
    reads.seen(person_id=person.pk)
    exchange = request.session[EXCHANGE_KEY]
    cases = [_case_view(person, m) for m in memberships_for_person(person).select_related("case")]
    state = assistance.help_state(person)
    context = {
        "person": person,
        "identifier": _identifier_shown(person),
        "identified_by": assistance.IDENTIFIED_BY.get(exchange["identified_by"], ""),
        "cases": cases,
        "state": state,
        "reset_mediums": assistance.reset_mediums(person),
        "reset_form": ResetCodeForm(),
        "report_form": ErrorReportForm(),
        "shown": SHOWN,
        "now": timezone.now(),
    }
    return render(request, "desk/exchange.html", context)


def _action(request: HttpRequest, form_class, act) -> HttpResponse:
    """An action of the exchange: its form checked, the service run, the answer said on the exchange's page."""
    person = _exchange_person(request)
    if person is None:
        return redirect("desk:home")
    form = form_class(request.POST) if form_class is not None else None
    if form is not None and not form.is_valid():
        messages.error(request, next(iter(form.errors.values()))[0])
        return redirect("desk:exchange")
    try:
        done = act(person, form.cleaned_data if form is not None else {})
    except AssistanceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("desk:exchange")


@agent_required("accounts.desk_use")
@require_POST
def reset_code_view(request: HttpRequest) -> HttpResponse:
    def act(person, data):
        masked = assistance.reset_code_send(person=person, medium=data["medium"])
        return (
            f"Code envoyé à {masked}. Dites à la personne d'aller sur « Mot de passe oublié », puis « J'ai reçu un "
            "code d'un conseiller ». Ne lui demandez pas le code."
        )

    return _action(request, ResetCodeForm, act)


def _invitation_link(token: str) -> str:
    return absolute_url(reverse("signup:invitation", args=[token]))


@agent_required("accounts.desk_use")
@require_POST
def invitation_view(request: HttpRequest) -> HttpResponse:
    def act(person, data):
        sent = assistance.invitation_resend(person=person, link=_invitation_link)
        return (
            f"Invitation renvoyée ({'par SMS' if sent.medium == 'sms' else 'par e-mail'}) ; l'ancienne ne sert plus."
        )

    return _action(request, None, act)


@agent_required("accounts.desk_use")
@require_POST
def error_report_view(request: HttpRequest) -> HttpResponse:
    def act(person, data):
        assistance.error_report_record(person=person, topic=data["topic"], message=data["message"])
        return "Signalement enregistré : il sera traité par un agent habilité à corriger les données."

    return _action(request, ErrorReportForm, act)


@agent_required("accounts.desk_use")
@require_POST
def exchange_end_view(request: HttpRequest) -> HttpResponse:
    request.session.pop(EXCHANGE_KEY, None)
    messages.success(request, "Échange terminé.")
    return redirect("desk:home")


# --- Supervisors -----------------------------------------------------------------------------------------------------


@agent_required("accounts.second_factor_reset")
@require_http_methods(["GET", "POST"])
def team_view(request: HttpRequest) -> HttpResponse:
    form = ResetSecondFactorForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        agent = agents.agents().filter(pk=form.cleaned_data["agent"]).first()
        try:
            if agent is None:
                raise AgentError("Agent introuvable.")
            agents.second_factor_reset(agent=agent, by=request.user, reason=form.cleaned_data["reason"])
        except AgentError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                f"Double authentification de {agent.login_id} réinitialisée : ses sessions sont fermées ; à sa "
                "prochaine connexion, il activera une nouvelle application.",
            )
            return redirect("desk:team")
    elif form.is_bound:
        messages.error(request, next(iter(form.errors.values()))[0])
    rows = [
        {
            "agent": agent,
            "roles": [agents.ROLES[key].group for key in agents.roles_of(agent)],
            "enrolled": agents.has_second_factor(agent),
            "myself": agent.pk == request.user.pk,
            "may_reset": agents.may_reset(request.user, agent),
        }
        for agent in agents.agents().prefetch_related("groups")
    ]
    return render(request, "desk/team.html", {"rows": rows, "reason_field": ResetSecondFactorForm().fields["reason"]})
