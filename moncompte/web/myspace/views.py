"""Pages of "Mes informations" (issue 3, items 5, 6 and 8): own data, error reports, the download, contact changes,
the security history with "Ce n'était pas moi", and the session list. Views stay thin: forms check input, services
change state, selectors read, always for the signed-in account (or the account a signed link names)."""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from moncompte.accounts import security, selectors, services, sessions
from moncompte.accounts.models import SecurityReport, SessionRecord
from moncompte.accounts.security import NotMeLinkError
from moncompte.accounts.sessions import SESSION_RECORD_KEY
from moncompte.franceconnect import services as franceconnect
from moncompte.households import policy
from moncompte.identity import services as identity_services
from moncompte.journal import kinds
from moncompte.journal.models import Channel, Entry
from moncompte.lib.links import absolute_url
from moncompte.messaging.models import Medium
from moncompte.verification.models import Purpose
from moncompte.verification.services import CodeError, CodeInvalid, code_active, mask_destination, no_code_refusal
from moncompte.web.forms import CodeForm
from moncompte.web.helpers import form_status, posted, recent_auth_required, recently_authenticated
from moncompte.web.myspace.forms import ContactChangeForm, CorrectionForm, ReportForm

#: The medium in the address (`/mon-espace/coordonnees/mobile/`) → the medium of the code and the account field.
CONTACT_MEDIA = {"email": Medium.EMAIL, "mobile": Medium.SMS}
CONTACT_CHANGE_SESSION_KEY = "contact_change"
DOWNLOAD_FORMATS = ("json", "document")


def citizen_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, as a person (an agent's account has no personal data here: to the admin)."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.person_id is None:
            return redirect("admin:index")
        return view(request, *args, **kwargs)

    return wrapper


def _site_url() -> str:
    """The site's own address (SITE_URL, never the request's Host: the client chooses it), for links in messages."""
    return absolute_url("/")


# --- Mes informations ----------------------------------------------------------------------------------------------


@citizen_required
@require_safe
def info_view(request: HttpRequest) -> HttpResponse:
    account = request.user
    person = account.person
    context = {
        "person": person,
        "birth_country": selectors.birth_country_label(person.birth_country),
        "contacts": selectors.contacts_of(account),
        "memberships": [
            {"case_number": m.case.case_number, "role": m.get_role_display()} for m in policy.memberships_of(person)
        ],
        "corrections": person.correction_requests.order_by("-created_at")[:5],
        "franceconnect_link": franceconnect.link_of(account),
    }
    return render(request, "myspace/info.html", context)


@citizen_required
@require_http_methods(["GET", "POST"])
def correction_view(request: HttpRequest) -> HttpResponse:
    form = CorrectionForm(posted(request))
    if request.method == "POST" and form.is_valid():
        identity_services.correction_request_file(
            person=request.user.person, topic=form.cleaned_data["topic"], message=form.cleaned_data["message"]
        )
        messages.success(
            request,
            _(
                "Votre signalement est enregistré. Un agent de la Caf va vérifier vos informations et les corriger "
                "si nécessaire. Vous suivrez l'état de votre signalement dans « Mes informations »."
            ),
        )
        return redirect("profile:info")
    return render(request, "myspace/correction.html", {"form": form}, status=form_status(form))


@citizen_required
@require_safe
def download_view(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in DOWNLOAD_FORMATS:
        raise Http404
    return _download(request, fmt)


@recent_auth_required  # the export holds the full NIR: whoever holds the session must also know the password
def _download(request: HttpRequest, fmt: str) -> HttpResponse:
    data = selectors.personal_data(request.user) | {"franceconnect": franceconnect.link_data(request.user)}
    stamp = timezone.localdate().isoformat()
    if fmt == "json":
        body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        extension = "json"
    else:
        context = {"data": _readable_dates(data), "site_title": settings.SITE_TITLE}
        body = render_to_string("myspace/data_document.html", context)
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
        extension = "html"
    response["Content-Disposition"] = f'attachment; filename="mes-donnees-mon-compte-{stamp}.{extension}"'
    return response


def _readable_dates(value, key: str = ""):
    """The same data with its ISO dates written as people read them (12/03/2026 14:05), for the document."""
    if isinstance(value, dict):
        return {k: _readable_dates(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable_dates(item, key) for item in value]
    if isinstance(value, str) and (key.endswith("_at") or key in ("date", "birth_date")):
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        return parsed.strftime("%d/%m/%Y") if len(value) == 10 else parsed.strftime("%d/%m/%Y %H:%M")
    return value


# --- Contact changes -----------------------------------------------------------------------------------------------


@citizen_required
@require_http_methods(["GET", "POST"])
def contact_change_view(request: HttpRequest, medium: str) -> HttpResponse:
    if medium not in CONTACT_MEDIA:
        raise Http404
    return _contact_change(request, medium)


@recent_auth_required
def _contact_change(request: HttpRequest, medium_slug: str) -> HttpResponse:
    account, medium = request.user, CONTACT_MEDIA[medium_slug]
    form = ContactChangeForm(posted(request), account=account, medium=medium)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_send_code(account=account, medium=medium, value=form.cleaned_data["value"])
        except CodeError as error:
            form.add_error(None, error.message)
        else:
            request.session[CONTACT_CHANGE_SESSION_KEY] = {"medium": medium}
            return redirect("profile:contact_code")
    context = {
        "form": form,
        "medium": medium,
        "current": selectors.contacts_of(account)["email" if medium == Medium.EMAIL else "mobile_display"],
    }
    return render(request, "myspace/contact_change.html", context, status=form_status(form))


@sensitive_post_parameters("code")
@citizen_required
@require_http_methods(["GET", "POST"])
def contact_code_view(request: HttpRequest) -> HttpResponse:
    """The code sent to the new contact. Only for a change started (after re-authentication) in this session."""
    account = request.user
    started = request.session.get(CONTACT_CHANGE_SESSION_KEY)
    pending = code_active(person=account.person, purpose=Purpose.CONTACT)
    if not started or pending is None or pending.medium != started.get("medium"):
        if request.method == "POST" and started and pending is None:
            messages.error(request, no_code_refusal().message)
        return redirect("profile:info")
    resend = request.method == "POST" and "resend" in request.POST
    form = CodeForm(request.POST if request.method == "POST" and not resend else None)
    if resend:
        try:
            services.contact_send_code(account=account, medium=pending.medium, value=pending.destination)
            messages.success(
                request, _("Un nouveau code vient de vous être envoyé. L'ancien code ne fonctionne plus.")
            )
        except CodeError as error:
            messages.error(request, error.message)
        return redirect("profile:contact_code")
    if form.is_bound and form.is_valid():
        try:
            security.contact_change_confirm(account=account, code=form.cleaned_data["code"], site_url=_site_url())
        except CodeInvalid as error:
            form.add_error("code", error.message)
        else:
            request.session.pop(CONTACT_CHANGE_SESSION_KEY, None)
            messages.success(
                request,
                _("Votre adresse e-mail est modifiée.")
                if pending.medium == Medium.EMAIL
                else _("Votre numéro de mobile est modifié."),
            )
            return redirect("profile:info")
    context = {
        "form": form,
        "medium": pending.medium,
        "destination": mask_destination(pending.destination),
        "minutes": settings.OTP_LIFETIME // 60,
        "change_url_medium": "email" if pending.medium == Medium.EMAIL else "mobile",
    }
    return render(request, "myspace/contact_code.html", context, status=form_status(form))


# --- "Ce n'était pas moi" ------------------------------------------------------------------------------------------


#: The link's token leaves the address bar at once (as the invitation link's does): the confirmation page lives at
#: this placeholder, with the token kept in the session.
NOT_ME_URL_TOKEN = "confirmer"  # noqa: S105 (a path segment, not a secret)
NOT_ME_SESSION_KEY = "not_me_token"


@require_http_methods(["GET", "POST"])
def not_me_view(request: HttpRequest, token: str) -> HttpResponse:
    """The link of a notice (works signed out): GET asks for confirmation, POST acts. The link as received moves its
    token into the session and comes back here without it, so it stays out of the history and of any Referer."""
    placeholder = token == NOT_ME_URL_TOKEN
    if placeholder:
        token = request.session.get(NOT_ME_SESSION_KEY, "")
    try:
        account, entry = security.not_me_check(token)
    except NotMeLinkError as error:
        return render(request, "myspace/not_me_invalid.html", {"reason": error.reason}, status=400)
    if request.method == "GET" and not placeholder:
        request.session[NOT_ME_SESSION_KEY] = token
        return redirect("profile:not_me", token=NOT_ME_URL_TOKEN)
    report = SecurityReport.objects.filter(account=account, entry_id=entry.pk).first()
    if request.method == "GET" or report is not None:
        context = {"entry": entry, "label": kinds.label(entry), "report": report}
        return render(request, "myspace/not_me.html", context)
    outcome = security.security_report(account=account, entry=entry, source="notice", site_url=_site_url())
    request.session.pop(NOT_ME_SESSION_KEY, None)
    if request.user.is_authenticated and request.user.pk == account.pk:
        auth_logout(request)
    return render(request, "myspace/not_me_done.html", {"outcome": outcome})


# --- Security history ----------------------------------------------------------------------------------------------


@citizen_required
@require_safe
def security_view(request: HttpRequest) -> HttpResponse:
    account = request.user
    page = Paginator(selectors.security_history(account), selectors.HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "entry": entry,
            "label": kinds.label(entry),
            "device": selectors.entry_device(entry) if selectors.shows_device(account, entry) else "",
            "ip": selectors.ip_masked(entry.ip_address) if selectors.shows_device(account, entry) else "",
            "by_other": not selectors.shows_device(account, entry),
            "by_desk": entry.channel == Channel.DESK,
            "reportable": selectors.is_reportable(account, entry),
            "reported": False,
        }
        for entry in page.object_list
    ]
    reported = set(
        SecurityReport.objects.filter(account=account, entry_id__in=[row["entry"].pk for row in rows]).values_list(
            "entry_id", flat=True
        )
    )
    for row in rows:
        row["reported"] = row["entry"].pk in reported
    return render(request, "myspace/security.html", {"page": page, "rows": rows})


@citizen_required
@require_POST
def security_report_view(request: HttpRequest) -> HttpResponse:
    """« Ce n'était pas moi » on an entry of the history: the same as the notice's link, then this session ends."""
    account = request.user
    form = ReportForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        entry = selectors.history_entry_get(account, form.cleaned_data["entry"])
    except Entry.DoesNotExist:
        raise Http404 from None
    if not selectors.is_reportable(account, entry):
        messages.error(request, _("Cet évènement ne peut pas être signalé."))
        return redirect("profile:security")
    outcome = security.security_report(account=account, entry=entry, source="history", site_url=_site_url())
    auth_logout(request)
    return render(request, "myspace/not_me_done.html", {"outcome": outcome})


# --- Sessions ------------------------------------------------------------------------------------------------------


@citizen_required
@require_safe
def sessions_view(request: HttpRequest) -> HttpResponse:
    current = request.session.get(SESSION_RECORD_KEY)
    rows = [
        {
            "record": record,
            "device": selectors.device_label(record.user_agent),
            "ip": selectors.ip_masked(record.ip_address),
            "current": record.pk == current,
        }
        for record in selectors.sessions_active(request.user)
    ]
    rows.sort(key=lambda row: not row["current"])  # this session first
    others = sum(1 for row in rows if not row["current"])
    return render(
        request,
        "myspace/sessions.html",
        {
            "rows": rows,
            "others": others,
            "recent_auth": recently_authenticated(request),
            "confirm": _closing_to_confirm(request, rows, others),
        },
    )


SESSION_SCOPES = ("one", "others", "all")


def _closing_to_confirm(request: HttpRequest, rows: list[dict], others: int) -> dict | None:
    """Back from the password that `sessions_end_view` asked for (`?end=<scope>&record=<id>`): the closing the person
    chose, for them to confirm with one click (a GET ends nothing). Only while the password entry is recent, and
    only for sessions still open; anything else shows the plain list."""
    scope = request.GET.get("end")
    if scope not in SESSION_SCOPES or not recently_authenticated(request):
        return None
    if scope == "one":
        wanted = request.GET.get("record", "")
        row = next((row for row in rows if not row["current"] and str(row["record"].pk) == wanted), None)
        return {"scope": scope, "row": row} if row is not None else None
    if scope == "others" and not others:
        return None
    return {"scope": scope, "row": None}


@citizen_required
@require_POST
def sessions_end_view(request: HttpRequest) -> HttpResponse:
    """Sign out one session (scoped to the account's own: another id is a 404 and changes nothing), every other
    session, or all of them including this one.

    Ending any session but this one takes a recent password entry (ASVS 7.5.2): whoever holds a stolen session must
    not be able to sign the person out of theirs. Without one nothing ends: the person confirms their password and
    comes back to the list, which offers the same closing again. Signing out of this session alone never asks."""
    account = request.user
    scope = request.POST.get("scope", "")
    if scope not in SESSION_SCOPES:
        raise Http404
    current = request.session.get(SESSION_RECORD_KEY)
    open_records = SessionRecord.objects.filter(account=account, ended_at__isnull=True)
    pending = {"end": scope}
    if scope == "one":
        try:
            record = selectors.session_get(account, request.POST.get("record"))
        except SessionRecord.DoesNotExist:
            raise Http404 from None
        records = open_records.filter(pk=record.pk)
        ends_this_one = record.pk == current
        pending["record"] = record.pk
    elif scope == "others":
        records = open_records.exclude(pk=current) if current else open_records.none()
        ends_this_one = False
    else:
        records = open_records
        ends_this_one = True
    if not recently_authenticated(request) and records.exclude(pk=current).exists():
        messages.info(
            request,
            _(
                "Pour fermer une autre session que celle-ci, confirmez d'abord votre mot de passe. Vous reviendrez "
                "ensuite à vos sessions."
            ),
        )
        back = f"{reverse('profile:sessions')}?{urlencode(pending)}"
        return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': back})}")
    count = sessions.sessions_end(account=account, records=records, scope=scope)
    if ends_this_one:
        auth_logout(request)
        messages.success(
            request,
            _("Vous êtes déconnecté de toutes vos sessions.") if scope == "all" else _("Vous êtes déconnecté."),
        )
        return redirect("accounts:login")
    if count:
        messages.success(
            request,
            ngettext("%(count)s session a été fermée.", "%(count)s sessions ont été fermées.", count)
            % {"count": count},
        )
    else:
        messages.info(request, _("Aucune autre session n'était ouverte."))
    return redirect("profile:sessions")
