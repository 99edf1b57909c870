"""How many wrong case PINs the voice server takes: the one home of these rules (issue 13, DESIGN §7).

A case number is printed on every letter of the Caf: it is no secret, the 8-digit PIN is. Wrong PINs are counted
- on the case, for callers who are not a validated mobile of one of its members: PHONE_PIN_TRIES_PER_CASE per
  window of PHONE_PIN_COOLOFF, and PIN_DAY_FACTOR times that per day;
- on the case and the calling number, for a validated mobile of a member, with the same limits but a count of its
  own: what someone else spends on the case never keeps the household's own phones out (a trusted device, as on the
  web). Caller ids can be forged; forging a member's number only gives that number's own count;
- on the calling number across cases: PHONE_PIN_TRIES_PER_NUMBER per window (an anonymous call has no number).
Past a limit, identification is refused until its window ends, a finite cool-off and never a lock, and the caller
is told until when; reaching a limit is an alert for the security team (`phone.pin_ceiling`), once per window.
Counts are kept on the case number as typed (a keyed hash), known or not, so that answers and counters never tell a
known case number from an unknown one.

With the defaults, at most 20 wrong PINs a day reach one case: a chance of 20 x 366 / 10^8 = 7.3e-5 a year of
guessing it, for each of its counts (`yearly_guess_probability`)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from moncompte.journal import services as journal
from moncompte.lib import counters

DAY = 24 * 3600
PIN_DAY_FACTOR = 4


@dataclass(frozen=True)
class Bucket:
    """Where one identification's wrong PINs are counted."""

    case: str  # keyed hash of the case number as typed, with the calling number when it is a member's mobile
    caller: str  # the calling number, "" for an anonymous call


def _keyed(value: str) -> str:
    key = hashlib.sha256(b"moncompte.phone.limits:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def bucket(case_number: str, caller: str, *, trusted: bool) -> Bucket:
    return Bucket(_keyed(f"{case_number}:{caller}" if trusted else case_number), caller)


def _windows(b: Bucket) -> list[tuple[str, int, int]]:
    """(key, window in seconds, limit) of each count the bucket is under."""
    window, tries = settings.PHONE_PIN_COOLOFF, settings.PHONE_PIN_TRIES_PER_CASE
    counts = [
        (counters.window_key(f"phone-pin:case:{b.case}", window), window, tries),
        (counters.window_key(f"phone-pin:case-day:{b.case}", DAY), DAY, PIN_DAY_FACTOR * tries),
    ]
    if b.caller:
        number_key = counters.window_key(f"phone-pin:number:{b.caller}", window)
        counts.append((number_key, window, settings.PHONE_PIN_TRIES_PER_NUMBER))
    return counts


def refused_until(b: Bucket) -> datetime | None:
    """The end of the cool-off when a limit of the bucket is reached (no PIN may be tried before), else None."""
    counts = _windows(b)
    values = counters.get_many([key for key, _, _ in counts])
    ends = [counters.window_end(window) for key, window, limit in counts if values[key] >= limit]
    return max(ends) if ends else None


def count_wrong_pin(b: Bucket, *, case_number: str = "") -> None:
    """Count a wrong PIN; the one that reaches a limit is journaled as an alert (`case_number`: a known case's)."""
    for key, window, limit in _windows(b):
        if counters.incr(key, timeout=window) == limit:
            journal.record("phone.pin_ceiling", case_number=case_number, after={"limit": limit, "window": window})


def yearly_guess_probability() -> float:
    return PIN_DAY_FACTOR * settings.PHONE_PIN_TRIES_PER_CASE * 366 / 10**8
