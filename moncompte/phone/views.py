"""The provider's webhooks. Each request must carry a valid signature of its URL (as SITE_URL gives it) and
parameters by PHONE_AUTH_TOKEN, else 403; then the closing switch is asked (incidents.switch); then the call's state
is locked and the answer given (dialog). Everything the call does is journaled with the phone channel, the call's
fingerprint and the calling number; what it reads out of someone's data is recorded as a look (journal.reads)."""

from __future__ import annotations

import functools
import re

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from moncompte.incidents import switch
from moncompte.journal import context, reads
from moncompte.journal.models import Channel
from moncompte.phone import dialog
from moncompte.phone.models import Call

CALL_SID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_DIGITS = 64


def _signed(request: HttpRequest) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.PHONE_AUTH_TOKEN:
        return False
    url = settings.SITE_URL + request.get_full_path()
    return RequestValidator(settings.PHONE_AUTH_TOKEN).validate(url, request.POST.dict(), signature)


def _caller(raw: str) -> str:
    """The calling number in E.164, or "" (anonymous, withheld or unreadable)."""
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _twiml(response) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8")


def _account_id(call: Call) -> int | None:
    """The account of the person the call identified, if they have one."""
    return getattr(getattr(call.person, "account", None), "pk", None) if call.person_id else None


def _answered(call: Call, respond) -> HttpResponse:
    """Run one answer in the call's journal context, save the call, and record the looks after the response (by the
    account of whoever the call identified: looks are kept by account)."""
    ref = context.session_ref(call.sid)
    with (
        context.acting(
            channel=Channel.PHONE,
            actor_account_id=_account_id(call),
            session_ref=ref,
            ip_address=None,
            user_agent="",
            caller=call.caller,
        ),
        reads.collecting() as looks,
    ):
        response = _twiml(respond())
        call.save()
    viewer = _account_id(call)
    if looks and viewer is not None:
        seen = set(looks)
        response._resource_closers.append(
            lambda: reads.write(seen, viewer_account_id=viewer, session_ref=ref, channel=Channel.PHONE)
        )
    return response


def webhook(view):
    """A provider's webhook: no CSRF token (the signature stands for it), POST only, spoken in French. A request
    without a valid signature gets a 403; while the service is closed, the spoken notice; without a call id, a 400.
    The view gets the call id."""

    @csrf_exempt
    @require_POST
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            if not _signed(request):
                return HttpResponseForbidden(
                    "Signature absente ou invalide.", content_type="text/plain; charset=utf-8"
                )
            if switch.closed() is not None:
                return _twiml(dialog.closed_notice())
            sid = request.POST.get("CallSid", "")
            if not CALL_SID.fullmatch(sid):
                return HttpResponse("CallSid manquant.", status=400, content_type="text/plain; charset=utf-8")
            return view(request, sid, *args, **kwargs)

    return wrapper


@webhook
def incoming(request: HttpRequest, sid: str) -> HttpResponse:
    """A new call: the welcome, or the sunset notice. The same call sent again is answered where it stands."""
    with transaction.atomic():
        call, created = Call.objects.select_for_update().get_or_create(
            sid=sid, defaults={"caller": _caller(request.POST.get("From", "")), "step": "welcome"}
        )
        if created:
            return _answered(call, lambda: dialog.start(call))
        return _answered(call, lambda: _where_it_stands(call))


def _where_it_stands(call: Call):
    if call.ended_at is not None:
        return dialog.goodbye(call)
    return dialog.render(call)


@webhook
def step(request: HttpRequest, sid: str, name: str) -> HttpResponse:
    """An answer to a step's prompt (or its silence). One that does not carry the call's current step and token
    (replayed, repeated, or from a call that ended) is answered with where the call stands, and changes nothing."""
    digits = request.POST.get("Digits", "")[:MAX_DIGITS].strip()
    with transaction.atomic():
        call = (
            Call.objects.select_for_update(of=("self",))  # the call only: PostgreSQL locks no outer join's side
            .select_related("case", "person", "person__account")
            .filter(sid=sid)
            .first()
        )
        if call is None:
            return _twiml(dialog.goodbye(Call(sid=sid), _("Cet appel n'est pas reconnu.")))
        current = call.ended_at is None and name == call.step and request.GET.get("t") == call.token
        if not current:
            return _answered(call, lambda: _where_it_stands(call))
        if request.GET.get("silence"):
            return _answered(call, lambda: dialog.silence(call))
        return _answered(call, lambda: dialog.answer(call, digits))
