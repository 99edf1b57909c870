"""« Faire une demande » without an account (new applicants, signup.applicants): the civil status (checked against
the national identity registry when a NIR is given), a contact proven by a code, the password, then « Mes
démarches ». The state of the flow is in the session (never the password: the account opens on the last page)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from moncompte.accounts.sessions import start_session
from moncompte.accounts.throttling import login_client_ip
from moncompte.identity.provisional import provisional_grouped
from moncompte.lib import counters
from moncompte.signup import applicants
from moncompte.signup import services as signup
from moncompte.signup.applicants import ApplicantIdentity, IdentityNotConfirmed, RegistryUnavailable
from moncompte.verification.services import CodeError, CodeInvalid, code_attempt_counted, mask_destination
from moncompte.web.forms import ContactForm
from moncompte.web.helpers import form_status, minimum_duration, posted
from moncompte.web.signup.forms import ApplicantCodeForm, ApplicantIdentityForm
from moncompte.web.signup.views import _resend_wait, _send_contact_code

SESSION_KEY = "applicant"
#: The identity page answers in at least this time, whether the registry confirms, refuses or knows no such NIR.
APPLICANT_MIN_DURATION = 0.8
#: Identity checks from one address per hour, and for one NIR per day: the registry is not an oracle to query.
CHECKS_PER_ADDRESS_PER_HOUR = 20
CHECKS_PER_NIR_PER_DAY = 5


def _state(request: HttpRequest) -> dict | None:
    return request.session.get(SESSION_KEY)


def _save(request: HttpRequest, state: dict) -> None:
    request.session[SESSION_KEY] = state


def _admit(request: HttpRequest, nir: str) -> bool:
    """Count one identity check; False when this address or this NIR had too many."""
    keys = [
        (counters.window_key(f"applicant-checks:{counters.address_bucket(login_client_ip(request))}", 3600), 3600,
         CHECKS_PER_ADDRESS_PER_HOUR),
    ]  # fmt: skip
    if nir:
        digest = signup.contact_code_hmac("applicant-nir", nir)[:32]  # no NIR in cache keys
        keys.append((counters.window_key(f"applicant-nir:{digest}", 86400), 86400, CHECKS_PER_NIR_PER_DAY))
    return all(counters.incr(key, timeout=timeout) <= limit for key, timeout, limit in keys)


@sensitive_post_parameters("nir", "birth_name", "usage_name", "given_names", "birth_date")
@require_http_methods(["GET", "HEAD", "POST"])
def start_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("procedures:index")
    form = ApplicantIdentityForm(posted(request))
    hints: list[str] = []
    status = form_status(form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        identity = ApplicantIdentity(
            nir=data["nir"],
            birth_name=data["birth_name"],
            usage_name=data["usage_name"],
            given_names=data["given_names"],
            birth_date=data["birth_date"],
            sex=data["sex"],
            birthplace=data["birthplace"],
            birth_country=data["birth_country"],
        )
        with minimum_duration(APPLICANT_MIN_DURATION):
            if not _admit(request, identity.nir):
                form.add_error(None, _("Trop de vérifications d'identité depuis votre connexion : réessayez demain."))
                status = 429
            else:
                try:
                    applicants.identity_check(identity)
                except IdentityNotConfirmed as refused:
                    hints = refused.hints
                    status = 400
                except RegistryUnavailable:
                    form.add_error(
                        None,
                        _(
                            "Votre identité ne peut pas être vérifiée pour le moment (le service du répertoire "
                            "national ne répond pas) : réessayez dans quelques minutes. Rien n'a été enregistré."
                        ),
                    )
                    status = 503
        if status == 200:
            _save(request, {"identity": identity.as_state(), "medium": "", "destination": "", "contact_hmac": None,
                            "started": 0, "attempts": 0, "guard": None})  # fmt: skip
            return redirect("signup:applicant_contact")
    return render(
        request,
        "signup/applicant_start.html",
        {"form": form, "hints": hints, "commune_choices": form.commune_choices},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def contact_view(request: HttpRequest) -> HttpResponse:
    state = _state(request)
    if not state:
        return redirect("signup:applicant_start")
    form = ContactForm(posted(request), initial={"medium": state["medium"] or "email"})
    if request.method == "POST" and form.is_valid():
        wait = _resend_wait({**state, "mode": ""}) if state.get("destination") else 0
        if wait > 0:
            form.add_error(None, _("Attendez un peu avant de demander un nouveau code."))
        else:
            try:
                _send_contact_code(
                    request, state, medium=form.cleaned_data["medium"], destination=form.cleaned_data["destination"]
                )
            except CodeError as error:
                form.add_error(None, error.message)
            else:
                _save(request, state)
                return redirect("signup:applicant_code")
    return render(request, "signup/applicant_contact.html", {"form": form}, status=form_status(form))


def _identity(state: dict) -> ApplicantIdentity:
    return ApplicantIdentity.from_state(state["identity"])


@sensitive_post_parameters("code", "password1", "password2")
@require_http_methods(["GET", "HEAD", "POST"])
def code_view(request: HttpRequest) -> HttpResponse:
    state = _state(request)
    if not state or not state.get("destination"):
        return redirect("signup:applicant_start" if not state else "signup:applicant_contact")
    identity = _identity(state)
    form = ApplicantCodeForm(
        posted(request),
        account=signup.identity_for_password_check(
            nir=identity.nir, given_name=identity.given_names, birth_date=identity.birth_date
        ),
    )
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        matches = hmac.compare_digest(
            state["contact_hmac"] or "", signup.contact_code_hmac(state["destination"], code)
        )
        try:
            code_attempt_counted(state, matches=matches)
        except CodeInvalid as error:
            form.add_error("code", error.message)
        else:
            try:
                account = applicants.applicant_open(
                    identity=identity,
                    medium=state["medium"],
                    destination=state["destination"],
                    password=form.cleaned_data["password1"],
                )
            except ValidationError as error:
                form.add_error("password1", error)
            else:
                del request.session[SESSION_KEY]
                if account is None:
                    return render(request, "signup/applicant_known.html")
                start_session(request, account, via="applicant")
                return redirect("signup:applicant_welcome")
        finally:
            if SESSION_KEY in request.session:
                _save(request, state)
    context = {
        "form": form,
        "medium": state["medium"],
        "destination": mask_destination(state["destination"]),
        "minutes": settings.OTP_LIFETIME // 60,
    }
    return render(request, "signup/applicant_code.html", context, status=form_status(form))


@login_required
@require_safe
def welcome_view(request: HttpRequest) -> HttpResponse:
    person = request.user.person
    return render(
        request,
        "signup/applicant_welcome.html",
        {
            "person": person,
            "provisional_id": provisional_grouped(person.provisional_id) if person.provisional_id else "",
        },
    )
