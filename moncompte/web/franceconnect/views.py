"""The FranceConnect pages: the button's start, the provider's callback, proving an existing account once before
linking it, opening an account from a FranceConnect identity, and the page the provider's logout returns to.

What the callback leads to is the franceconnect app's (`services.arrival`); these views keep the flow's state in the
session: the `state` and `nonce` of one authorization request (single use, FLOW_MAX_AGE), then, for a link or a new
account, the checked identity waiting for the person's confirmation (PENDING_MAX_AGE).
"""

from __future__ import annotations

import hmac
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from moncompte.accounts.models import Account
from moncompte.franceconnect import provider, services
from moncompte.franceconnect.services import Arrival
from moncompte.identity.models import Person
from moncompte.verification.errors import CodeError, CodeInvalid
from moncompte.verification.services import mask_destination
from moncompte.web.forms import CodeForm, ReauthForm
from moncompte.web.helpers import recent_auth_required

FLOW_KEY = "franceconnect_flow"
PENDING_KEY = "franceconnect_pending"
#: The time between the button and the provider's callback: the person logs in and consents at FranceConnect.
FLOW_MAX_AGE = 15 * 60
#: The time to type the password (or the code) that proves an account, or to confirm a new account.
PENDING_MAX_AGE = 15 * 60
#: Wrong passwords before the link must start again from FranceConnect.
LINK_MAX_FAILURES = 5

#: Answers to the provider's `error` parameter (OpenID Connect Core §3.1.2.6); any other reads as the last one.
PROVIDER_ERRORS = {
    "access_denied": (
        gettext_lazy("Connexion avec FranceConnect annulée"),
        gettext_lazy("Vous avez annulé la connexion avec FranceConnect : vous n'êtes pas connecté."),
    ),
    "server_error": (
        gettext_lazy("FranceConnect a rencontré une erreur"),
        gettext_lazy("FranceConnect n'a pas pu vous identifier. Réessayez dans quelques minutes."),
    ),
    "temporarily_unavailable": (
        gettext_lazy("FranceConnect est momentanément indisponible"),
        gettext_lazy("FranceConnect ne peut pas vous identifier pour le moment. Réessayez dans quelques minutes."),
    ),
}
OTHER_PROVIDER_ERROR = (
    gettext_lazy("La connexion avec FranceConnect n'a pas abouti"),
    gettext_lazy("FranceConnect n'a pas pu vous identifier : vous n'êtes pas connecté."),
)
NO_MATCH = {
    Arrival.NO_MATCH: (
        gettext_lazy("Nous ne vous avons pas trouvé"),
        gettext_lazy(
            "L'identité transmise par FranceConnect ne correspond à aucune personne connue de la Caf (nom de "
            "naissance, prénom, date et lieu de naissance, sexe). Si vous êtes allocataire ou membre d'un foyer "
            "allocataire, connectez-vous avec votre numéro de Sécurité sociale, ou créez votre compte."
        ),
    ),
    Arrival.SEVERAL: (
        gettext_lazy("Nous ne pouvons pas vous reconnaître avec certitude"),
        gettext_lazy(
            "L'identité transmise par FranceConnect correspond à plusieurs personnes connues de la Caf. Pour "
            "protéger leurs données, nous ne relions votre connexion à aucune d'elles : connectez-vous avec votre "
            "numéro de Sécurité sociale."
        ),
    ),
    Arrival.NOT_ELIGIBLE: (
        gettext_lazy("Vous ne pouvez pas encore avoir de compte"),
        gettext_lazy(
            "Un compte personnel s'ouvre aux membres d'un foyer allocataire à partir de 15 ans. Si vous pensez "
            "que c'est une erreur, appelez-nous."
        ),
    ),
    Arrival.INACTIVE: (
        gettext_lazy("Ce compte est fermé"),
        gettext_lazy("Le compte relié à cette identité a été fermé par la Caf. Appelez-nous pour en savoir plus."),
    ),
}


def _problem(request: HttpRequest, title, message, *, status: int) -> HttpResponse:
    """A dead end of the flow, with the other ways in (the NIR login, "Créer mon compte", the help line)."""
    context = {"title": title, "message": message}
    return render(request, "franceconnect/problem.html", context, status=status)


def _refused(request: HttpRequest, reason: str) -> HttpResponse:
    services.refused(reason=reason)
    title = _("La connexion avec FranceConnect a échoué")
    return _problem(request, title, provider.REFUSED, status=400)


@require_POST
def start_view(request: HttpRequest) -> HttpResponse:
    """The FranceConnect button: a new authorization request, its `state` and `nonce` kept for the callback."""
    if not provider.enabled():
        raise Http404
    if request.user.is_authenticated:
        return redirect("accounts:dashboard")
    state, nonce = provider.new_secret(), provider.new_secret()
    try:
        url = provider.authorization_url(state=state, nonce=nonce)
    except provider.Refused as error:
        return _problem(request, _("FranceConnect est momentanément indisponible"), error.message, status=503)
    request.session.pop(PENDING_KEY, None)
    request.session[FLOW_KEY] = {"state": state, "nonce": nonce, "started": time.time()}
    return redirect(url)


@require_safe
def callback_view(request: HttpRequest) -> HttpResponse:
    """The provider sends the browser back here, with a code or an error, and the state of the request."""
    if not provider.enabled():
        raise Http404
    flow = request.session.pop(FLOW_KEY, None)  # single use: a replayed callback finds nothing
    if not isinstance(flow, dict) or not {"state", "nonce", "started"} <= flow.keys():
        return _refused(request, "no_flow")
    if not hmac.compare_digest(str(flow["state"]), request.GET.get("state", "")):
        return _refused(request, "state_mismatch")
    if "iss" in request.GET and request.GET["iss"] != settings.FRANCECONNECT_ISSUER:
        return _refused(request, "iss_mismatch")  # RFC 9207: the answer of another provider (mix-up)
    if time.time() - flow["started"] > FLOW_MAX_AGE:
        return _problem(
            request,
            _("La connexion avec FranceConnect a expiré"),
            _("Trop de temps s'est écoulé depuis votre clic sur le bouton FranceConnect. Recommencez."),
            status=400,
        )
    if "error" in request.GET:
        title, message = PROVIDER_ERRORS.get(request.GET["error"], OTHER_PROVIDER_ERROR)
        return _problem(request, title, message, status=200 if request.GET["error"] == "access_denied" else 502)
    try:
        tokens = provider.exchange_code(code=request.GET.get("code", ""), nonce=flow["nonce"])
        claims = provider.userinfo(tokens)
    except provider.Unavailable as error:
        return _problem(request, _("FranceConnect est momentanément indisponible"), error.message, status=503)
    except provider.Refused as error:
        return _refused(request, error.reason)

    outcome = services.arrival(sub=tokens.claims["sub"], claims=claims)
    if outcome.arrival == Arrival.LOGIN:
        services.sign_in(request, outcome.account, id_token=tokens.id_token)
        return redirect("accounts:dashboard")
    if outcome.arrival in (Arrival.LINK, Arrival.CREATE):
        request.session[PENDING_KEY] = {
            "arrival": str(outcome.arrival),
            "sub": tokens.claims["sub"],
            "id_token": tokens.id_token,
            "account_id": outcome.account.pk if outcome.account else None,
            "person_id": outcome.person.pk,
            "started": time.time(),
            "failures": 0,
        }
        return redirect("franceconnect:link" if outcome.arrival == Arrival.LINK else "franceconnect:create")
    title, message = NO_MATCH[outcome.arrival]
    return _problem(request, title, message, status=200)


def _pending(request: HttpRequest, arrival: Arrival) -> dict | None:
    pending = request.session.get(PENDING_KEY)
    if (
        not isinstance(pending, dict)
        or pending.get("arrival") != arrival
        or time.time() - pending.get("started", 0) > PENDING_MAX_AGE
        or request.user.is_authenticated
    ):
        return None
    return pending


def _expired(request: HttpRequest) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    messages.warning(request, _("Votre connexion avec FranceConnect a expiré : recommencez depuis cette page."))
    return redirect("accounts:login")


@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def link_view(request: HttpRequest) -> HttpResponse:
    """The person FranceConnect identified has an account: its password (or a code to its validated contact),
    once, proves it is theirs before FranceConnect opens it."""
    pending = _pending(request, Arrival.LINK)
    account = None
    if pending is not None:
        account = Account.objects.select_related("person").filter(pk=pending["account_id"], is_active=True).first()
    if account is None:
        return _expired(request)
    medium, destination = services.link_code_destination(account)
    action = request.POST.get("action") if request.method == "POST" else None
    password_form = ReauthForm(request.POST if action == "password" else None, account=account)
    code_form = CodeForm(request.POST if action == "code" else None)

    if action == "send_code":
        if not destination:
            messages.warning(request, _("Votre compte n'a pas de coordonnée validée : aucun code ne peut partir."))
            return redirect("franceconnect:link")
        try:
            services.link_code_send(account=account, medium=medium, destination=destination)
        except CodeError as error:
            messages.warning(request, error.message)
        else:
            pending["code_sent"] = True
            request.session[PENDING_KEY] = pending
            messages.info(request, _("Un code vient de partir vers %(to)s.") % {"to": mask_destination(destination)})
        return redirect("franceconnect:link")
    if action == "password" and not services.link_password_allowed(account):
        messages.error(
            request,
            _(
                "Trop de mots de passe incorrects aujourd'hui pour relier ce compte : recevez plutôt un code, ou "
                "utilisez « Mot de passe oublié ? »."
            ),
        )
        return redirect("franceconnect:link")
    if action == "password":
        if password_form.is_valid():
            return _linked(request, account, pending)
        services.link_failed(account=account)
        pending["failures"] += 1
        if pending["failures"] >= LINK_MAX_FAILURES:
            request.session.pop(PENDING_KEY, None)
            messages.error(
                request,
                _(
                    "Trop de mots de passe incorrects : votre compte n'a pas été relié à FranceConnect. Si vous "
                    "avez oublié votre mot de passe, utilisez « Mot de passe oublié ? »."
                ),
            )
            return redirect("accounts:login")
        request.session[PENDING_KEY] = pending
    if action == "code" and code_form.is_valid():
        try:
            services.link_code_check(account=account, code=code_form.cleaned_data["code"])
        except CodeInvalid as error:
            code_form.add_error("code", error.message)
        else:
            return _linked(request, account, pending)
    status = (
        400 if (password_form.is_bound and password_form.errors) or (code_form.is_bound and code_form.errors) else 200
    )
    context = {
        "account": account,
        "password_form": password_form,
        "code_form": code_form,
        "can_use_password": account.has_usable_password() and services.link_password_allowed(account),
        "destination": mask_destination(destination) if destination else "",
        "code_sent": pending.get("code_sent", False),
    }
    return render(request, "franceconnect/link.html", context, status=status)


def _linked(request: HttpRequest, account: Account, pending: dict) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    services.link_and_sign_in(request, account, sub=pending["sub"], id_token=pending["id_token"])
    messages.success(request, _("Votre compte est relié à FranceConnect : la prochaine fois, le bouton suffira."))
    return redirect("accounts:dashboard")


@require_http_methods(["GET", "POST"])
def create_view(request: HttpRequest) -> HttpResponse:
    """A member of 15 or more without an account: FranceConnect proved who they are; they confirm, the account
    opens (with the link), and the first-login steps follow (a password, a contact, the presentation)."""
    pending = _pending(request, Arrival.CREATE)
    person = Person.objects.filter(pk=pending["person_id"]).first() if pending else None
    if person is None:
        return _expired(request)
    if request.method == "POST":
        request.session.pop(PENDING_KEY, None)
        account = services.account_open_and_sign_in(request, person, sub=pending["sub"], id_token=pending["id_token"])
        if account is None:  # opened meanwhile (another tab, the signup page): link it like any other account
            return _expired(request)
        return redirect("accounts:dashboard")
    return render(request, "franceconnect/create.html", {"person": person})


@require_safe
def logged_out_view(request: HttpRequest) -> HttpResponse:
    """FranceConnect's logout sends the browser back here (the registered post_logout_redirect_uri)."""
    expected = request.session.pop(services.LOGOUT_STATE_KEY, "")
    both = bool(expected) and hmac.compare_digest(expected, request.GET.get("state", ""))
    return render(request, "franceconnect/logged_out.html", {"both": both})


@login_required
@require_http_methods(["GET", "POST"])
@recent_auth_required
def unlink_view(request: HttpRequest) -> HttpResponse:
    """« Détacher de FranceConnect », from "Mes informations", after a recent password entry (DESIGN §7)."""
    link = services.link_of(request.user)
    if link is None:
        return redirect("profile:info")
    if request.method == "POST":
        services.link_remove(account=request.user)
        messages.success(request, _("Votre compte n'est plus relié à FranceConnect. Un message vous le confirme."))
        return redirect("profile:info")
    return render(request, "franceconnect/unlink.html", {"link": link})
