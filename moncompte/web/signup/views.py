"""Pages of the member signup (from the login page), of the holder's invitations and approvals, and of the
invitation link. Views stay thin: forms check input, `accounts.signup` and `households.invitations` change state.

Same answer, same status and the same minimum time on the signup pages whether the details typed match a member
or not (DESIGN §7): the session keeps what the pages need to answer alike, the codes' outcomes are the same for an
unknown person as for a wrong code (`_unmatched_code_error`, as the forgotten-password pages do).
"""

from __future__ import annotations

import datetime
import hmac
import time

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from moncompte.accounts.sessions import start_session
from moncompte.accounts.throttling import login_client_ip
from moncompte.households import invitations
from moncompte.households.models import Invitation, SignupRequest
from moncompte.identity.models import Person
from moncompte.lib import counters
from moncompte.lib.links import absolute_url
from moncompte.signup import services as signup
from moncompte.verification import ceilings
from moncompte.verification.errors import CeilingReached
from moncompte.verification.models import Purpose
from moncompte.verification.services import (
    CodeError,
    CodeInvalid,
    code_active,
    code_attempt_counted,
    code_digits,
    mask_destination,
    resend_wait_message,
)
from moncompte.web.forms import CodeForm, ContactForm
from moncompte.web.helpers import form_status, minimum_duration, posted
from moncompte.web.signup.forms import (
    NO_CONTACT_ON_FILE,
    InvitationAcceptForm,
    InvitationCodeForm,
    SignupCodeForm,
    SignupStartForm,
)

SIGNUP_SESSION_KEY = "member_signup"
INVITATION_SESSION_KEY = "invitation_token"
#: An invitation to a contact the holder typed: what this session proved (the birth date) and the password chosen,
#: kept as its hash (never in clear) while the code travels. Forgotten after INVITATION_PROOF_MAX_AGE seconds.
INVITATION_PROOF_SESSION_KEY = "invitation_proof"
INVITATION_PROOF_MAX_AGE = 30 * 60
#: The link's token leaves the address bar at once (as Django's password reset does): the page that asks for the
#: birth date and the password lives at this placeholder, with the token kept in the session.
INVITATION_URL_TOKEN = "confirmer"  # noqa: S105 (a path segment, not a secret)
#: Where a person types the code of an invitation received by SMS (an SMS carries no link).
#: Wrong invitation codes typed from one network address before a cool-off (the cache is shared by all processes).
INVITATION_CODE_MAX_FAILURES = 10
INVITATION_CODE_COOL_OFF = 3600
#: The signup pages take at least this long, whether the details typed match a member or not.
SIGNUP_MIN_DURATION = 0.35
MODE_ON_FILE = "on_file"
MODE_TYPED = "typed"


# --- Signup from the login page ---------------------------------------------------------------------------------


def _state(request: HttpRequest) -> dict | None:
    return request.session.get(SIGNUP_SESSION_KEY)


def _save(request: HttpRequest, state: dict) -> None:
    request.session[SIGNUP_SESSION_KEY] = state


def _state_person(state: dict) -> Person | None:
    return Person.objects.filter(pk=state["person_id"]).first() if state.get("person_id") else None


@sensitive_post_parameters("identifier", "birth_date", "given_name")
@require_http_methods(["GET", "POST"])
def start_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        messages.info(request, _("Vous êtes connecté : votre compte existe déjà."))
        return redirect("accounts:dashboard")
    form = SignupStartForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        medium = data["medium"]
        started = time.time()  # when the code's lifetime starts, before the response floor: the same for everyone
        with minimum_duration(SIGNUP_MIN_DURATION):
            person = signup.member_match(
                nir=data["identifier"], birth_date=data["birth_date"], given_name=data["given_name"]
            )
            # A code to a contact on file is one anyone who knows the NIR can ask for: under the NIR's ceilings,
            # counted on the NIR as typed, whether the details matched or not. A typed contact's code is not.
            guard = None
            if medium != NO_CONTACT_ON_FILE:
                guard = ceilings.guard_for(data["identifier"], person_id=person.pk if person else None)
                try:
                    ceilings.request_admit(guard)
                except CeilingReached as refusal:
                    form.add_error(None, refusal.message)
                else:
                    signup.signup_code_send(person=person, medium=medium)
        if form.errors:
            return render(request, "signup/start.html", {"form": form}, status=429)
        _save(
            request,
            {
                "guard": guard.as_state() if guard else None,
                "person_id": person.pk if person else None,
                "mode": MODE_TYPED if medium == NO_CONTACT_ON_FILE else MODE_ON_FILE,
                "medium": "" if medium == NO_CONTACT_ON_FILE else medium,
                "destination": "",
                # For the password rules: the same check whether the details matched or not.
                "identity": {
                    "nir": data["identifier"],
                    "given_name": data["given_name"],
                    "birth_date": data["birth_date"].isoformat(),
                },
                "contact_hmac": None,
                "started": started,
                "attempts": 0,
            },
        )
        return redirect("signup:contact" if medium == NO_CONTACT_ON_FILE else "signup:code")
    return render(request, "signup/start.html", {"form": form}, status=form_status(form))


@require_http_methods(["GET", "POST"])
def contact_view(request: HttpRequest) -> HttpResponse:
    """No contact on file: the visitor types an e-mail or a mobile and proves they receive it."""
    state = _state(request)
    if not state or state["mode"] != MODE_TYPED:
        return redirect("signup:start")
    form = ContactForm(posted(request), initial={"medium": state["medium"] or "email"})
    if request.method == "POST" and form.is_valid():
        medium, destination = form.cleaned_data["medium"], form.cleaned_data["destination"]
        wait = _resend_wait(state)
        if wait > 0:
            form.add_error(None, resend_wait_message(wait))
        else:
            try:
                _send_contact_code(request, state, medium=medium, destination=destination)
            except CodeError as error:
                form.add_error(None, error.message)
            else:
                _save(request, state)
                return redirect("signup:code")
    return render(request, "signup/contact.html", {"form": form}, status=form_status(form))


def _resend_wait(state: dict) -> float:
    """Timed on this session, not on the codes of a person: the same for everyone."""
    if not state.get("destination") and state["mode"] == MODE_TYPED:
        return 0
    return settings.OTP_RESEND_DELAY - (time.time() - state["started"])


def _send_contact_code(request: HttpRequest, state: dict, *, medium: str, destination: str) -> None:
    started = time.time()
    with minimum_duration(SIGNUP_MIN_DURATION):
        contact_hmac = signup.signup_contact_code_send(
            person=_state_person(state), medium=medium, destination=destination
        )
    state.update(medium=medium, destination=destination, contact_hmac=contact_hmac, started=started, attempts=0)


def _unmatched_code_error(request: HttpRequest, state: dict, contact_hmac: str | None = None, code: str = "") -> None:
    """Check a code against what the session holds when no one-time code of a member is behind it: details that did
    not match, an account that exists, a holder. The answers are those of a real code (expiry, tries, wording).
    Raises CodeInvalid, or returns when a code sent to a typed contact is the right one."""
    matches = bool(contact_hmac) and hmac.compare_digest(
        contact_hmac, signup.contact_code_hmac(state["destination"], code)
    )
    try:
        code_attempt_counted(state, matches=matches)
    finally:
        _save(request, state)


def _identity(state: dict):
    identity = state["identity"]
    return signup.identity_for_password_check(
        nir=identity["nir"],
        given_name=identity["given_name"],
        birth_date=datetime.date.fromisoformat(identity["birth_date"]),
    )


@sensitive_post_parameters("code", "password1", "password2")
@require_http_methods(["GET", "POST"])
def code_view(request: HttpRequest) -> HttpResponse:
    state = _state(request)
    if not state or "guard" not in state:  # none, or begun before the ceilings: start again
        return redirect("signup:start")
    if state["mode"] == MODE_TYPED and not state.get("destination"):
        return redirect("signup:contact")
    person = _state_person(state)
    resend = request.method == "POST" and "resend" in request.POST
    data = request.POST if request.method == "POST" and not resend else None
    typed = state["mode"] == MODE_TYPED
    form = CodeForm(data) if typed else SignupCodeForm(data, account=_identity(state))
    if resend:
        wait = _resend_wait(state)
        if wait > 0:
            messages.warning(request, resend_wait_message(wait))
            return redirect("signup:code")
        if typed:
            try:
                _send_contact_code(request, state, medium=state["medium"], destination=state["destination"])
            except CodeError as error:
                messages.error(request, error.message)
                return redirect("signup:code")
        else:
            with minimum_duration(SIGNUP_MIN_DURATION):
                try:
                    ceilings.request_admit(ceilings.Guard.from_state(state["guard"]))
                except CeilingReached as refusal:
                    messages.error(request, refusal.message)
                    return redirect("signup:code")
                started = time.time()
                signup.signup_code_send(person=person, medium=state["medium"])
            state.update(started=started, attempts=0)
        _save(request, state)
        messages.info(
            request,
            _("Si un code peut vous être envoyé, un nouveau code vient de partir. L'ancien ne fonctionne plus."),
        )
        return redirect("signup:code")
    if form.is_bound and form.is_valid():
        code = form.cleaned_data["code"]
        if typed:
            return _typed_code(request, state, person, form, code)
        return _on_file_code(request, state, person, form, code)
    return _code_page(request, state, form)


def _code_page(request: HttpRequest, state: dict, form) -> HttpResponse:
    context = {
        "form": form,
        "typed": state["mode"] == MODE_TYPED,
        "medium": state["medium"],
        # The contact the visitor typed themselves, masked: it says nothing about the details they typed.
        "destination": mask_destination(state["destination"]) if state.get("destination") else "",
        "minutes": settings.OTP_LIFETIME // 60,
        "digits": code_digits(Purpose.SIGNUP),
    }
    return render(request, "signup/code.html", context, status=form_status(form))


def _on_file_code(request: HttpRequest, state: dict, person: Person | None, form, code: str) -> HttpResponse:
    account = None
    with minimum_duration(SIGNUP_MIN_DURATION):
        try:
            if not signup.signup_code_pending(person):
                _unmatched_code_error(request, state)
            # A code of the member is behind it: the try is counted in the session as well, as for everyone.
            code_attempt_counted(state, matches=True)
            _save(request, state)
            account = signup.signup_complete(person=person, code=code, password=form.cleaned_data["password1"])
        except CodeInvalid as error:
            form.add_error("code", error.message)
        except ValidationError as error:
            form.add_error("password1", error)
    if account is None:
        return _code_page(request, state, form)
    del request.session[SIGNUP_SESSION_KEY]
    start_session(request, account, via="signup")
    messages.success(request, _("Votre compte est créé et vos coordonnées sont validées. Vous êtes connecté."))
    return redirect("accounts:onboarding")


def _typed_code(request: HttpRequest, state: dict, person: Person | None, form, code: str) -> HttpResponse:
    with minimum_duration(SIGNUP_MIN_DURATION):
        try:
            if state.get("contact_hmac") is None and code_active(person=person, purpose=Purpose.SIGNUP_CONTACT):
                code_attempt_counted(state, matches=True)
                _save(request, state)
                signup.signup_request_submit(
                    person=person, code=code, decide_link=lambda item: absolute_url(_decide_url(item))
                )
            else:
                _unmatched_code_error(request, state, state.get("contact_hmac"), code)
                signup.signup_contact_proven_without_request(
                    person=person, medium=state["medium"], destination=state["destination"]
                )
        except CodeInvalid as error:
            form.add_error("code", error.message)
            return _code_page(request, state, form)
    del request.session[SIGNUP_SESSION_KEY]
    request.session["signup_pending"] = True
    return redirect("signup:pending")


@require_safe
def pending_view(request: HttpRequest) -> HttpResponse:
    return render(request, "signup/pending.html", {"lifetime_hours": settings.INVITATION_LIFETIME_HOURS})


def _decide_url(signup_request: SignupRequest) -> str:
    """Where the holder approves or refuses the request (a page of the household area)."""
    return reverse("signup:request_decide", args=[signup_request.case.case_number, signup_request.pk])


# --- The invitation link ----------------------------------------------------------------------------------------


def _invalid(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, "signup/invitation_invalid.html", {"reason": reason}, status=status)


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def invitation_code_view(request: HttpRequest) -> HttpResponse:
    """The code of an SMS invitation, typed: it leads to the same page as an e-mail's link (birth date, password).
    Wrong codes are counted per address, shared by every process."""
    form = InvitationCodeForm(posted(request))
    failures_key = f"invitation-code-failures:{counters.address_bucket(login_client_ip(request))}"
    if request.method == "POST" and form.is_valid():
        if counters.get(failures_key) >= INVITATION_CODE_MAX_FAILURES:
            form.add_error(
                None,
                _(
                    "Trop de codes d'invitation incorrects ont été saisis depuis cette connexion. Réessayez dans une "
                    "heure, ou demandez à l'allocataire de vous envoyer une nouvelle invitation."
                ),
            )
        else:
            invitation = invitations.invitation_find_by_code(form.cleaned_data["code"])
            if invitation is not None:
                request.session[INVITATION_SESSION_KEY] = invitations.invitation_code_normalise(
                    form.cleaned_data["code"]
                )
                return redirect("signup:invitation", token=INVITATION_URL_TOKEN)
            counters.incr(failures_key, timeout=INVITATION_CODE_COOL_OFF)
            form.add_error(
                "code",
                _(
                    "Ce code d'invitation n'est pas valable. Vérifiez-le dans le SMS reçu : il comporte 10 lettres "
                    "et chiffres."
                ),
            )
    return render(request, "signup/invitation_code.html", {"form": form}, status=form_status(form))


@sensitive_post_parameters("birth_date", "password1", "password2", "code")
@require_http_methods(["GET", "POST"])
def invitation_view(request: HttpRequest, token: str) -> HttpResponse:
    if token != INVITATION_URL_TOKEN:
        # The link as received: keep the token in the session and take it out of the address bar (and of any
        # Referer) before the page shows.
        invitation = invitations.invitation_find(token)
        if invitation is None:
            return _invalid(request, "unknown", 404)
        request.session[INVITATION_SESSION_KEY] = token
        return redirect("signup:invitation", token=INVITATION_URL_TOKEN)
    invitation = invitations.invitation_find(request.session.get(INVITATION_SESSION_KEY, ""))
    if invitation is None:
        return _invalid(request, "unknown", 404)
    if request.user.is_authenticated and request.user.person_id != invitation.person_id:
        return _invalid(request, "not_for_you", 403)
    state = invitations.invitation_state(invitation)
    if state == invitations.InvitationState.VALID and not signup.may_open_account(invitation.person):
        state = invitations.InvitationState.USED
    if state != invitations.InvitationState.VALID:
        return _invalid(request, state, 410)
    invitee = invitation.person
    needs_code = signup.invitation_needs_code(invitation)
    proof = _proof(request, invitation) if needs_code else None
    if proof is not None:
        return _invitation_contact_code(request, invitation, proof)
    form = InvitationAcceptForm(posted(request), first_name=invitee.first_name)
    if request.method == "POST" and form.is_valid():
        left = signup.invitation_birth_date_check(invitation=invitation, birth_date=form.cleaned_data["birth_date"])
        if left == 0:
            return _invalid(request, "birth_date_failures", 410)
        if left is not None:
            form.add_error(
                "birth_date",
                ngettext(
                    "Cette date de naissance n'est pas celle de la personne invitée. Il vous reste %(left)s essai.",
                    "Cette date de naissance n'est pas celle de la personne invitée. Il vous reste %(left)s essais.",
                    left,
                )
                % {"left": left},
            )
        elif needs_code:
            response = _invitation_code_start(request, invitation, form)
            if response is not None:
                return response
        else:
            try:
                account = signup.invitation_accept(invitation=invitation, password=form.cleaned_data["password1"])
            except Invitation.DoesNotExist:
                return _invalid(request, "used", 410)
            except ValidationError as error:
                form.add_error("password1", error)
            else:
                request.session.pop(INVITATION_SESSION_KEY, None)
                start_session(request, account, via="invitation")
                messages.success(
                    request, _("Votre compte est créé et vos coordonnées sont validées. Vous êtes connecté.")
                )
                return redirect("accounts:onboarding")
    context = {
        "form": form,
        "invitee": invitee,
        "holder": invitation.created_by,
        "approval": invitation.origin == Invitation.Origin.APPROVAL,
        "destination": mask_destination(invitation.destination),
        "medium": invitation.medium,
        "needs_code": needs_code,
        "expires_at": invitation.expires_at,
    }
    return render(request, "signup/invitation.html", context, status=form_status(form))


# --- The invitation link, when the holder typed its destination (issue 8, item 2) ---------------------------------


def _proof(request: HttpRequest, invitation: Invitation) -> dict | None:
    """What this session proved for this invitation (the birth date; the password chosen, kept as its hash), or
    None: nothing yet, another invitation, or too long ago."""
    proof = request.session.get(INVITATION_PROOF_SESSION_KEY)
    if not isinstance(proof, dict) or proof.get("invitation") != invitation.pk:
        return None
    if time.time() - proof.get("at", 0) > INVITATION_PROOF_MAX_AGE:
        request.session.pop(INVITATION_PROOF_SESSION_KEY, None)
        return None
    return proof


def _invitation_code_start(request: HttpRequest, invitation: Invitation, form) -> HttpResponse | None:
    """The birth date is right: check the password, then send the code to the destination the holder typed and move
    to the code step. None (errors added to the form) when the password or the send is refused."""
    try:
        password_hash = signup.invitation_password_prepare(
            invitation=invitation, password=form.cleaned_data["password1"]
        )
    except ValidationError as error:
        form.add_error("password1", error)
        return None
    try:
        signup.invitation_code_send(invitation=invitation)
    except CodeError as error:
        form.add_error(None, error.message)
        return None
    request.session[INVITATION_PROOF_SESSION_KEY] = {
        "invitation": invitation.pk,
        "password_hash": password_hash,
        "at": time.time(),
    }
    return redirect("signup:invitation", token=INVITATION_URL_TOKEN)


def _invitation_contact_code(request: HttpRequest, invitation: Invitation, proof: dict) -> HttpResponse:
    """The code step: the invitee types the code sent to the destination the holder typed, or asks for a new one, or
    starts again (a new password)."""
    if request.method == "POST" and "restart" in request.POST:
        request.session.pop(INVITATION_PROOF_SESSION_KEY, None)
        return redirect("signup:invitation", token=INVITATION_URL_TOKEN)
    if request.method == "POST" and "resend" in request.POST:
        try:
            signup.invitation_code_send(invitation=invitation)
        except CodeError as error:
            messages.error(request, error.message)
        else:
            messages.info(request, _("Un nouveau code vient de partir. L'ancien ne fonctionne plus."))
        return redirect("signup:invitation", token=INVITATION_URL_TOKEN)
    form = CodeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            account = signup.invitation_accept_with_code(
                invitation=invitation, code=form.cleaned_data["code"], password_hash=proof["password_hash"]
            )
        except Invitation.DoesNotExist:
            request.session.pop(INVITATION_PROOF_SESSION_KEY, None)
            return _invalid(request, "used", 410)
        except CodeInvalid as error:
            form.add_error("code", error.message)
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            request.session.pop(INVITATION_PROOF_SESSION_KEY, None)
            start_session(request, account, via="invitation")
            messages.success(
                request,
                _(
                    "Votre compte est créé. La coordonnée indiquée par l'allocataire n'est pas enregistrée comme la "
                    "vôtre : validez maintenant une adresse e-mail ou un mobile personnels. C'est là que vous "
                    "recevrez un code si vous oubliez votre mot de passe."
                ),
            )
            return redirect("accounts:migration_contact")
    context = {
        "form": form,
        "invitee": invitation.person,
        "destination": mask_destination(invitation.destination),
        "medium": invitation.medium,
        "minutes": settings.OTP_LIFETIME // 60,
    }
    return render(request, "signup/invitation_contact_code.html", context, status=form_status(form))
