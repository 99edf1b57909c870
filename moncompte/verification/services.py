"""One-time codes: issue, check, expire, throttle, and every answer to a code attempt. Rules (settings): OTP_DIGITS
digits (OTP_ANONYMOUS_DIGITS for the codes anyone who knows a NIR can ask for, under verification.ceilings), valid
OTP_LIFETIME (≤ 10 min), OTP_MAX_ATTEMPTS tries (≤ 5), single use, stored as an HMAC.

A code belongs to the browser session that asked for it (verification.context): it is checked, resent and voided
only there, so another session can neither burn it nor replace it. A resend waits OTP_RESEND_DELAY (60 s) in that
session. At most OTP_MAX_SENDS_PER_HOUR codes an hour go to one destination and to one person *per lane* (Lane):
what an anonymous client that knows a NIR asks for never spends the quota of the person's trusted device or of a
login whose password was right."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from moncompte.identity.models import Person
from moncompte.identity.phones import format_mobile_as_written
from moncompte.journal import services as journal
from moncompte.lib import dates
from moncompte.messaging.services import message_queue
from moncompte.verification import ceilings
from moncompte.verification.context import binding_current
from moncompte.verification.errors import CeilingReached, CodeError, CodeInvalid, CodeThrottled
from moncompte.verification.models import ANONYMOUS_PURPOSES, DESK_BINDING, Lane, OneTimeCode, Purpose


def _hmac(code_id_seed: str, code: str) -> str:
    key = hashlib.sha256(b"moncompte.verification:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{code_id_seed}:{code}".encode(), hashlib.sha256).hexdigest()


def _seed(person: Person, purpose: str, destination: str) -> str:
    return f"{person.pk}:{purpose}:{destination}"


def mask_destination(destination: str) -> str:
    """j•••@exemple.fr, 06 •• •• •• 78, 0692 •• •• 56: enough for the person to recognise it, not enough to harvest.
    A mobile reads as the person writes it: the national form in France and overseas, else the international one."""
    if "@" in destination:
        local, _at, domain = destination.partition("@")
        return f"{local[:1]}•••@{domain}"
    written = format_mobile_as_written(destination)
    first, _space, rest = written.partition(" ")
    if not rest:
        return f"•• •• •• {destination[-2:]}"
    return f"{first} {re.sub(r'[0-9]', '•', rest[:-2])}{rest[-2:]}"


def resend_wait_message(seconds: float) -> str:
    return _("Un code vient d'être envoyé. Vous pourrez en demander un nouveau dans %(seconds)s secondes.") % {
        "seconds": math.ceil(seconds)
    }


def _check_resend_delay(person: Person, purpose: str, binding: str) -> None:
    last = OneTimeCode.objects.filter(person=person, purpose=purpose, binding=binding).order_by("-created_at").first()
    if last is not None:
        wait = settings.OTP_RESEND_DELAY - (timezone.now() - last.created_at).total_seconds()
        if wait > 0:
            raise CodeThrottled(resend_wait_message(wait), retry_after=math.ceil(wait))


def _quota_refusal(person: Person, destination: str, lane: str) -> CodeThrottled | None:
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    for recent in (
        OneTimeCode.objects.filter(destination=destination, lane=lane, created_at__gt=hour_ago),
        OneTimeCode.objects.filter(person=person, lane=lane, created_at__gt=hour_ago),
    ):
        times = list(recent.order_by("created_at").values_list("created_at", flat=True))
        if len(times) >= settings.OTP_MAX_SENDS_PER_HOUR:
            return hourly_quota_refusal(times[-settings.OTP_MAX_SENDS_PER_HOUR] + timedelta(hours=1) - now)
    return None


def hourly_quota_refusal(wait: timedelta) -> CodeThrottled:
    """The answer once OTP_MAX_SENDS_PER_HOUR codes went out within the hour: when the next one may leave."""
    seconds = wait.total_seconds()
    return CodeThrottled(
        _("Trop de codes ont été envoyés en une heure. Vous pourrez en demander un nouveau dans %(delay)s.")
        % {"delay": dates.in_minutes(seconds)},
        retry_after=math.ceil(seconds),
    )


def code_digits(purpose: str) -> int:
    """How many digits the codes of a purpose have: OTP_ANONYMOUS_DIGITS for those anyone who knows a NIR can ask for
    (verification.ceilings), OTP_DIGITS for the others (the right password, a signed-in session or a secret link
    came first)."""
    return settings.OTP_ANONYMOUS_DIGITS if purpose in ANONYMOUS_PURPOSES else settings.OTP_DIGITS


def code_new(purpose: str) -> str:
    digits = code_digits(purpose)
    return f"{secrets.randbelow(10**digits):0{digits}d}"


@transaction.atomic
def codes_void_all(*, person_id: int) -> int:
    """Void every code of the person still in flight, whatever its purpose (after "Ce n'était pas moi": one may
    have gone to a contact the person disowns). Returns how many were voided."""
    return OneTimeCode.objects.filter(person_id=person_id, used_at=None, voided_at=None).update(
        voided_at=timezone.now()
    )


#: Codes bound to no session (an agent's): counted by the sessions that try them and by the ceilings, never on the
#: code itself. Anyone may type one with the NIR, so a count on the code would let anyone burn it, and its tries left
#: would tell whether a NIR has one.
UNBOUND_PURPOSES = frozenset({Purpose.DESK_RESET})


def _binding(purpose: str) -> str:
    """What the code is bound to: the session that asked, or for a code an agent sent, no session (DESK_BINDING)."""
    if purpose == Purpose.DESK_RESET:
        return hashlib.sha256(DESK_BINDING.encode()).hexdigest()[:32]
    return binding_current()


def code_issue(
    *, person: Person, purpose: str, medium: str, destination: str, lane: str = Lane.ANONYMOUS
) -> OneTimeCode:
    """Void this session's previous code for this purpose, create a new one and queue its message.

    Raises CodeThrottled when the resend delay of this session or an hourly quota of the lane is not respected; past
    the resend delay the session's previous code is voided even when no new one may leave, so that the session's
    tries start again from zero either way. The caller checks that the destination is one the person may receive
    codes at, and names the lane (who could have asked)."""
    if not destination or not medium:
        raise ValueError("code_issue() needs a medium and a destination")
    if "@" in destination:
        destination = destination.strip().lower()  # one address, however it is typed, for the hourly limit
    binding = _binding(purpose)
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()  # serialise concurrent sends for one person
        _check_resend_delay(person, purpose, binding)
        now = timezone.now()
        OneTimeCode.objects.filter(
            person=person, purpose=purpose, binding=binding, used_at=None, voided_at=None
        ).update(voided_at=now)
        refusal = _quota_refusal(person, destination, lane)
        if refusal is None:
            code = code_new(purpose)
            otp = OneTimeCode.objects.create(
                person=person,
                purpose=purpose,
                medium=medium,
                destination=destination,
                code_hmac=_hmac(_seed(person, purpose, destination), code),
                expires_at=now + timedelta(seconds=settings.OTP_LIFETIME),
                binding=binding,
                lane=lane,
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
    if refusal is not None:
        raise refusal
    return otp


def code_active(*, person: Person, purpose: str) -> OneTimeCode | None:
    """This session's code for the purpose, still in flight (None for a code another session asked for)."""
    return (
        OneTimeCode.objects.filter(
            person=person, purpose=purpose, binding=_binding(purpose), used_at=None, voided_at=None
        )
        .order_by("-created_at")
        .first()
    )


def _refusal(*, attempts: int, expired: bool) -> CodeInvalid:
    """The answer to a code refused at its `attempts`-th try (this one included): the one wording for every code,
    whether a real code is behind it or not, so the answers never tell a known NIR from an unknown one."""
    if expired:
        return CodeInvalid(_("Ce code a expiré. Demandez un nouveau code."))
    if attempts > settings.OTP_MAX_ATTEMPTS:
        return CodeInvalid(_("Trop d'essais avec ce code. Demandez un nouveau code."))
    left = settings.OTP_MAX_ATTEMPTS - attempts
    if left <= 0:
        return CodeInvalid(_("Code incorrect. Vous avez épuisé vos essais : demandez un nouveau code."))
    return CodeInvalid(
        ngettext(
            "Code incorrect. Il vous reste %(left)s essai.", "Code incorrect. Il vous reste %(left)s essais.", left
        )
        % {"left": left}
    )


def no_code_refusal() -> CodeInvalid:
    """The answer when no code of this session is in flight for the purpose (or none may be, for this person)."""
    return CodeInvalid(_("Aucun code en cours de validité. Demandez un nouveau code."))


def code_attempt_counted(state: dict, *, matches: bool = False) -> None:
    """Count a try in a flow's session state (`started`, `attempts`), as a code row counts its own. Raises the answer
    a real code would give, unless `matches` (a code the caller checked itself, such as one sent to a typed contact)
    and the code is still valid. Flows call it for every try, so the count is the same whether a code of a person is
    behind it (an unknown NIR, a child, no contact on file, a quota spent: all answer alike).

    A state with a `guard` (verification.ceilings: an anonymous client's flow) has each try that could still be right
    admitted and counted by the ceilings first, per NIR, address and service; a try they refuse is not counted in the
    session. A try at an expired or exhausted code guesses nothing: it gets its answer without being counted there."""
    expired = time.time() - state["started"] > settings.OTP_LIFETIME
    guard = ceilings.Guard.from_state(state.get("guard"))
    if guard is not None and not expired and state.get("attempts", 0) < settings.OTP_MAX_ATTEMPTS:
        try:
            ceilings.try_admit(guard)
        except CeilingReached as error:
            raise CodeInvalid(error.message, retry_after=error.retry_after) from None
    state["attempts"] = state.get("attempts", 0) + 1
    if expired or state["attempts"] > settings.OTP_MAX_ATTEMPTS or not matches:
        raise _refusal(attempts=state["attempts"], expired=expired)


def session_refusal(state: dict) -> CodeInvalid:
    """The answer a flow's session state gives for its latest try (counted by `code_attempt_counted`): for a code
    bound to no session, whatever the code's row would say is not told."""
    expired = time.time() - state["started"] > settings.OTP_LIFETIME
    return _refusal(attempts=state.get("attempts", 0), expired=expired)


def code_verify(
    *, person: Person, purpose: str, code: str, before_use: Callable[[], None] | None = None
) -> OneTimeCode:
    """Check this session's code; on success it is used up. Each wrong try is counted, even though the caller sees
    an error.

    `before_use` runs once the code is known to be right and before it is used up: whatever it raises (a password
    refused for the person's own data, say) leaves the code unused, so a check that could reveal something about the
    person is only ever made for whoever holds the right code."""
    error: CodeError | None = None
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(person=person, purpose=purpose, binding=_binding(purpose), used_at=None, voided_at=None)
            .order_by("-created_at")
            .first()
        )
        now = timezone.now()
        if otp is None:
            error = no_code_refusal()
        elif otp.expires_at <= now or (purpose not in UNBOUND_PURPOSES and otp.attempts >= settings.OTP_MAX_ATTEMPTS):
            error = _refusal(attempts=otp.attempts + 1, expired=otp.expires_at <= now)
        else:
            otp.attempts += 1
            candidate = "".join(ch for ch in str(code) if not ch.isspace())[:12]
            if hmac.compare_digest(otp.code_hmac, _hmac(_seed(person, purpose, otp.destination), candidate)):
                if before_use is not None:
                    before_use()
                otp.used_at = now
                otp.save(update_fields=["attempts", "used_at"])
                journal.record("code.verified", person_id=person.pk, after={"purpose": purpose})
                return otp
            otp.save(update_fields=["attempts"])
            error = _refusal(attempts=otp.attempts, expired=False)
            journal.record("code.failed", person_id=person.pk, after={"purpose": purpose, "attempts": otp.attempts})
    raise error
