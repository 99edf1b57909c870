"""One-time codes: issue, check, expire, throttle. Rules (settings): 6 digits, valid OTP_LIFETIME (≤ 10 min),
OTP_MAX_ATTEMPTS tries (≤ 5), single use, stored as an HMAC, a new code voids the previous one, a resend waits
OTP_RESEND_DELAY (60 s), at most OTP_MAX_SENDS_PER_HOUR sends per hour per destination and per person."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from moncompte.identity.models import Person
from moncompte.journal import services as journal
from moncompte.messaging.services import message_queue
from moncompte.verification.models import OneTimeCode


class CodeError(Exception):
    """Carries a message for the person, in the active language (French unless they chose English)."""

    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class CodeThrottled(CodeError):
    pass


class CodeInvalid(CodeError):
    pass


def _hmac(code_id_seed: str, code: str) -> str:
    key = hashlib.sha256(b"moncompte.verification:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{code_id_seed}:{code}".encode(), hashlib.sha256).hexdigest()


def _seed(person: Person, purpose: str, destination: str) -> str:
    return f"{person.pk}:{purpose}:{destination}"


def mask_destination(destination: str) -> str:
    """j•••@exemple.fr, +33 6•• •• •• 78: enough for the person to recognise it, not enough to harvest."""
    if "@" in destination:
        local, _at, domain = destination.partition("@")
        return f"{local[:1]}•••@{domain}"
    return f"{destination[:4]}•• •• •• {destination[-2:]}"


def _minutes(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext("%(minutes)s minute", "%(minutes)s minutes", minutes) % {"minutes": minutes}


def _check_send_limits(person: Person, purpose: str, destination: str) -> None:
    now = timezone.now()
    last = OneTimeCode.objects.filter(person=person, purpose=purpose).order_by("-created_at").first()
    if last is not None:
        wait = settings.OTP_RESEND_DELAY - (now - last.created_at).total_seconds()
        if wait > 0:
            raise CodeThrottled(
                _("Un code vient d'être envoyé. Vous pourrez en demander un nouveau dans %(seconds)s secondes.")
                % {"seconds": math.ceil(wait)},
                retry_after=math.ceil(wait),
            )
    hour_ago = now - timedelta(hours=1)
    for recent in (
        OneTimeCode.objects.filter(destination=destination, created_at__gt=hour_ago),
        OneTimeCode.objects.filter(person=person, created_at__gt=hour_ago),
    ):
        times = list(recent.order_by("created_at").values_list("created_at", flat=True))
        if len(times) >= settings.OTP_MAX_SENDS_PER_HOUR:
            wait = (times[-settings.OTP_MAX_SENDS_PER_HOUR] + timedelta(hours=1) - now).total_seconds()
            raise CodeThrottled(
                _("Trop de codes ont été envoyés en une heure. Vous pourrez en demander un nouveau dans %(delay)s.")
                % {"delay": _minutes(wait)},
                retry_after=math.ceil(wait),
            )


@transaction.atomic
def codes_void_all(*, person_id: int) -> int:
    """Void every code of the person still in flight, whatever its purpose (after "Ce n'était pas moi": one may
    have gone to a contact the person disowns). Returns how many were voided."""
    return OneTimeCode.objects.filter(person_id=person_id, used_at=None, voided_at=None).update(
        voided_at=timezone.now()
    )


@transaction.atomic
def code_issue(*, person: Person, purpose: str, medium: str, destination: str) -> OneTimeCode:
    """Void the person's previous code for this purpose, create a new one and queue its message.

    Raises CodeThrottled when the resend delay or an hourly limit is not respected. The caller checks that the
    destination is one the person may receive codes at."""
    if "@" in destination:
        destination = destination.strip().lower()  # one address, however it is typed, for the hourly limit
    Person.objects.select_for_update().filter(pk=person.pk).first()  # serialise concurrent sends for one person
    _check_send_limits(person, purpose, destination)
    now = timezone.now()
    OneTimeCode.objects.filter(person=person, purpose=purpose, used_at=None, voided_at=None).update(voided_at=now)
    code = f"{secrets.randbelow(10**6):06d}"
    otp = OneTimeCode.objects.create(
        person=person,
        purpose=purpose,
        medium=medium,
        destination=destination,
        code_hmac=_hmac(_seed(person, purpose, destination), code),
        expires_at=now + timedelta(seconds=settings.OTP_LIFETIME),
    )
    message_queue(
        medium=medium,
        to=destination,
        template=f"verification/{purpose}",
        context={"code": code, "minutes": settings.OTP_LIFETIME // 60, "person": person},
        person_id=person.pk,
    )
    journal.record(
        "code.sent",
        person_id=person.pk,
        after={"purpose": purpose, "medium": medium, "destination": mask_destination(destination)},
    )
    return otp


def code_active(*, person: Person, purpose: str) -> OneTimeCode | None:
    return (
        OneTimeCode.objects.filter(person=person, purpose=purpose, used_at=None, voided_at=None)
        .order_by("-created_at")
        .first()
    )


def code_verify(*, person: Person, purpose: str, code: str) -> OneTimeCode:
    """Check a code; on success it is used up. Each wrong try is counted, even though the caller sees an error."""
    error: CodeError | None = None
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(person=person, purpose=purpose, used_at=None, voided_at=None)
            .order_by("-created_at")
            .first()
        )
        now = timezone.now()
        if otp is None:
            error = CodeInvalid(_("Aucun code en cours de validité. Demandez un nouveau code."))
        elif otp.expires_at <= now:
            error = CodeInvalid(_("Ce code a expiré. Demandez un nouveau code."))
        elif otp.attempts >= settings.OTP_MAX_ATTEMPTS:
            error = CodeInvalid(_("Trop d'essais avec ce code. Demandez un nouveau code."))
        else:
            otp.attempts += 1
            candidate = "".join(ch for ch in str(code) if not ch.isspace())[:12]
            if hmac.compare_digest(otp.code_hmac, _hmac(_seed(person, purpose, otp.destination), candidate)):
                otp.used_at = now
                otp.save(update_fields=["attempts", "used_at"])
                journal.record("code.verified", person_id=person.pk, after={"purpose": purpose})
                return otp
            otp.save(update_fields=["attempts"])
            left = settings.OTP_MAX_ATTEMPTS - otp.attempts
            if left <= 0:
                error = CodeInvalid(_("Code incorrect. Vous avez épuisé vos essais : demandez un nouveau code."))
            else:
                error = CodeInvalid(
                    ngettext(
                        "Code incorrect. Il vous reste %(left)s essai.",
                        "Code incorrect. Il vous reste %(left)s essais.",
                        left,
                    )
                    % {"left": left}
                )
            journal.record("code.failed", person_id=person.pk, after={"purpose": purpose, "attempts": otp.attempts})
    raise error
