"""Ceilings on what anonymous clients can do with one-time codes (ASVS 6.3.1, 6.6.3): the one home of these rules.

A NIR is not a secret, so anyone can ask for a reset or signup code of anyone and try to guess it. Per session a code
allows OTP_MAX_ATTEMPTS tries (verification.services); across sessions and addresses, these ceilings hold:

- **per NIR, over a day**: OTP_ANONYMOUS_TRIES_PER_DAY tries, with a back-off past the first code's tries (1 minute,
  then 2, 4, 8…), and OTP_ANONYMOUS_SENDS_PER_DAY codes. Counted on the NIR as typed (a keyed hash of it), known or
  not, so that the answers never tell a known NIR from an unknown one;
- **per client address** (an IPv6 /64 counts as one) and **for the whole service**, per clock hour, on requests and
  on tries.
Reaching any ceiling is an alert: a journal entry (ALERT_NIR, about the person when one is behind the NIR, or
ALERT_CEILING), listed in the admin under "Alertes de sécurité", and a warning in the log, once per ceiling, subject
and window.

With OTP_ANONYMOUS_DIGITS digits, the yearly chance of guessing one NIR's code is at most
OTP_ANONYMOUS_TRIES_PER_DAY x 366 / 10**OTP_ANONYMOUS_DIGITS (3.7e-5 by default); `checks.code_strength` refuses
settings above 1e-4. A trusted device of the person (accounts.devices) and a signed-in person are outside every
ceiling here: what an attacker spends never keeps the owner from their own device. See decision record 010.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from moncompte.journal import context
from moncompte.journal import services as journal
from moncompte.lib import counters
from moncompte.verification.errors import CeilingReached

logger = logging.getLogger("moncompte.security")

DAY = 24 * 3600
HOUR = 3600
#: The most an attacker may reach, per NIR and year, with the settings allowed (checks.code_strength).
MAX_YEARLY_GUESS_PROBABILITY = 1e-4

#: The journal kinds of the alerts (journal.admin lists them under "Alertes de sécurité").
ALERT_NIR = "security.code_budget_spent"
ALERT_CEILING = "alert.code_ceiling"

REQUEST = "request"
TRY = "try"


@dataclass(frozen=True)
class Guard:
    """What a flow's session state keeps to have its code requests and tries counted (`as_state()` / `from_state`).
    `device_hint`: the reader may have a trusted device (a reset; not a signup, where no account exists yet)."""

    subject: str
    person_id: int | None = None
    device_hint: bool = False

    def as_state(self) -> dict:
        return {"subject": self.subject, "person_id": self.person_id, "device_hint": self.device_hint}

    @classmethod
    def from_state(cls, state: dict | None) -> Guard | None:
        return cls(**state) if state else None


def guard_for(nir: str, *, person_id: int | None = None, device_hint: bool = False) -> Guard:
    """The guard of a NIR as typed (already normalised), whether a person is behind it or not."""
    key = hashlib.sha256(b"moncompte.verification.ceilings:" + settings.SECRET_KEY.encode()).digest()
    return Guard(hmac.new(key, nir.encode(), hashlib.sha256).hexdigest()[:32], person_id, device_hint)


def yearly_guess_probability(*, tries_per_day: int, digits: int) -> float:
    """The chance of guessing one NIR's code within a year: each try picks one code among 10**digits, and at most
    `tries_per_day` tries land in each day window (366 of them in a leap year)."""
    return tries_per_day * 366 / 10**digits


# --- Keys and limits -----------------------------------------------------------------------------------------------


def _subject_key(kind: str, subject: str) -> str:
    return counters.window_key(f"code-ceiling:{kind}:nir:{subject}", DAY)


def last_try_key(subject: str) -> str:
    return f"code-ceiling:last-try:{subject}"


def _address_key(kind: str, bucket: str) -> str:
    return counters.window_key(f"code-ceiling:{kind}:address:{bucket}", HOUR)


def _global_key(kind: str) -> str:
    return counters.window_key(f"code-ceiling:{kind}:all", HOUR)


def _address_limit(kind: str) -> int:
    return settings.OTP_REQUESTS_PER_ADDRESS_PER_HOUR if kind == REQUEST else settings.OTP_TRIES_PER_ADDRESS_PER_HOUR


def _global_limit(kind: str) -> int:
    return settings.OTP_REQUESTS_PER_HOUR if kind == REQUEST else settings.OTP_TRIES_PER_HOUR


def _subject_limit(kind: str) -> int:
    return settings.OTP_ANONYMOUS_SENDS_PER_DAY if kind == REQUEST else settings.OTP_ANONYMOUS_TRIES_PER_DAY


def backoff_seconds(tries: int) -> int:
    """The wait before the next try of a NIR after `tries` tries today: none within the first code's tries, then one
    minute, doubling with each further try."""
    over = tries - settings.OTP_MAX_ATTEMPTS
    return 0 if over < 0 else 60 * 2**over


# --- Messages ------------------------------------------------------------------------------------------------------


def _delay(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext("%(minutes)s minute", "%(minutes)s minutes", minutes) % {"minutes": minutes}


def _at(until: datetime) -> str:
    local = timezone.localtime(until)
    # Translators: a date and time in the ceiling messages ("3 décembre à 1 h 00").
    return _("%(date)s à %(time)s") % {
        "date": formats.date_format(local, "j F"),
        "time": formats.time_format(local, _("H \\h i")),
    }


def _message(kind: str, scope: str, until: datetime, guard: Guard | None) -> str:
    wait = (until - timezone.now()).total_seconds()
    if scope == "nir":
        if kind == REQUEST:
            text = _(
                "Trop de codes ont été demandés aujourd'hui pour ce numéro. Par sécurité, vous pourrez en demander un "
                "nouveau à partir du %(at)s."
            )
        else:
            text = _(
                "Trop de codes incorrects ont été saisis aujourd'hui pour ce numéro. Par sécurité, les essais sont "
                "suspendus jusqu'au %(at)s."
            )
        text %= {"at": _at(until)}
    elif scope == "backoff":
        text = _(
            "Plusieurs codes incorrects ont été saisis pour ce numéro. Par sécurité, vous pourrez faire un nouvel "
            "essai dans %(delay)s."
        ) % {"delay": _delay(wait)}
    elif scope == "address":
        if kind == REQUEST:
            text = _(
                "Trop de codes ont été demandés depuis votre connexion internet. Vous pourrez en demander un nouveau "
                "dans %(delay)s."
            )
        else:
            text = _(
                "Trop de codes incorrects ont été saisis depuis votre connexion internet. Vous pourrez réessayer "
                "dans %(delay)s."
            )
        text %= {"delay": _delay(wait)}
    else:
        text = _(
            "La Caf reçoit en ce moment un nombre inhabituel de demandes de code. Par sécurité, elles sont suspendues "
            "pendant %(delay)s."
        ) % {"delay": _delay(wait)}
    if guard is not None and guard.device_hint:
        text += " " + _("Sur un appareil où vous vous êtes déjà connecté à votre compte, vous n'êtes pas concerné.")
    return text


# --- Alerts --------------------------------------------------------------------------------------------------------


def _alert(*, kind: str, scope: str, limit: int, window: int, bucket: str = "", person_id: int | None = None) -> None:
    """Journal and log a ceiling reached, once per ceiling, subject and window."""
    flag = counters.window_key(f"code-ceiling:alerted:{kind}:{scope}:{bucket or person_id or '-'}", window)
    if not cache.add(flag, 1, timeout=window):
        return
    after = {"ceiling": f"{scope}.{kind}", "limit": limit, "window_minutes": window // 60}
    if bucket:
        after["address"] = bucket
    with transaction.atomic():
        if scope == "nir":  # in the person's security history too, when a person is behind the NIR
            journal.record(ALERT_NIR, person_id=person_id, after=after)
        else:
            journal.record(ALERT_CEILING, after=after)
    logger.warning("One-time code ceiling reached: %s (limit %s per %s min)", after["ceiling"], limit, window // 60)


# --- Admission -----------------------------------------------------------------------------------------------------


def _admit(kind: str, guard: Guard | None) -> None:
    """Check every ceiling of `kind` for this request's address and the guard's NIR (None: no NIR, the address and
    the service only), then count it. Raises CeilingReached, counting nothing, when one is reached."""
    bucket = counters.address_bucket(context.current().ip_address)
    subject_key = _subject_key(kind, guard.subject) if guard else ""
    keys = [_address_key(kind, bucket), _global_key(kind)] + ([subject_key] if guard else [])
    counts = counters.get_many(keys)
    if guard is not None:
        spent = counts[subject_key]
        if spent >= _subject_limit(kind):
            raise _refused(kind, "nir", counters.window_end(DAY), guard)
        if kind == TRY:
            last = cache.get(last_try_key(guard.subject))
            wait = backoff_seconds(spent) - (time.time() - last) if last and spent else 0
            if wait > 0:
                raise _refused(kind, "backoff", timezone.now() + timedelta(seconds=wait), guard)
    if counts[keys[0]] >= _address_limit(kind):
        raise _refused(kind, "address", counters.window_end(HOUR), guard)
    if counts[keys[1]] >= _global_limit(kind):
        raise _refused(kind, "global", counters.window_end(HOUR), guard)
    if guard is not None:
        # Counted, then compared: concurrent tries never take a NIR past its daily budget.
        spent = counters.incr(subject_key, timeout=DAY * 2)
        if kind == TRY:
            cache.set(last_try_key(guard.subject), time.time(), timeout=DAY)
        if spent > _subject_limit(kind):
            raise _refused(kind, "nir", counters.window_end(DAY), guard)
        if spent == _subject_limit(kind):
            _alert(kind=kind, scope="nir", limit=spent, window=DAY, person_id=guard.person_id)
    if counters.incr(keys[0], timeout=HOUR * 2) == _address_limit(kind):
        _alert(kind=kind, scope="address", limit=_address_limit(kind), window=HOUR, bucket=bucket)
    if counters.incr(keys[1], timeout=HOUR * 2) == _global_limit(kind):
        _alert(kind=kind, scope="global", limit=_global_limit(kind), window=HOUR)


def _refused(kind: str, scope: str, until: datetime, guard: Guard | None) -> CeilingReached:
    wait = max(1, math.ceil((until - timezone.now()).total_seconds()))
    return CeilingReached(_message(kind, scope, until, guard), retry_after=wait)


def request_admit(guard: Guard | None) -> None:
    """Before an anonymous client's code request (a code to a contact on file, or to a contact it typed: `guard`
    None), whether a person is behind it or not. Raises CeilingReached; otherwise the request is counted."""
    _admit(REQUEST, guard)


def try_admit(guard: Guard) -> None:
    """Before an anonymous client's code try, whether a code is behind it or not. Raises CeilingReached; otherwise
    the try is counted against the NIR, the address and the service."""
    _admit(TRY, guard)
