"""What the phone tests share: playing the usual parts of a call, and saying a date as the voice server says it."""

from __future__ import annotations

import datetime

from django.urls import reverse

from moncompte.phone.simulator import CallOver, Provider, Turn
from tests.phone.conftest import keys

#: French month names, written here rather than asked of Django: the tests check what the caller hears.
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
#: What the forgotten-PIN step answers, whatever happened (dialog._renew_birth_date).
RENEWAL_ANSWER = "Si ces informations sont celles de l'allocataire du dossier"
WRONG_PIN = "Le numéro allocataire ou le mot de passe est incorrect."
COOL_OFF = "suspendue jusqu'à"
UNKNOWN_CASE = "9999999"


def spoken_day(day: datetime.date) -> str:
    """« 5 novembre 2026 »."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def other_pin(pin: str) -> str:
    """An 8-digit PIN that is not `pin`."""
    return f"{(int(pin) + 1) % 10**8:08d}"


def identify(call: Provider, household, who: str = "holder", *, pin: str | None = None) -> Turn:
    """Dial, choose 1, type the case number, the PIN (the case's unless `pin`) and `who`'s birth date."""
    call.dial()
    call.press("1")
    call.press(household.case.case_number)
    call.press(household.case.pin if pin is None else pin)
    return call.press(keys(getattr(household, who).birth_date))


def sign_in(call: Provider, case_number: str, pin: str) -> Turn:
    """Dial, choose 1, type a case number and a PIN: what the caller hears after the PIN."""
    call.dial()
    call.press("1")
    call.press(case_number)
    return call.press(pin)


def wrong_pins(phone, case_number: str, count: int, *, caller: str) -> list[Turn]:
    """`count` wrong PINs on `case_number` from `caller`, in as many calls as needed (a call ends after 3)."""
    turns: list[Turn] = []
    while len(turns) < count:
        call = phone(caller=caller)
        call.dial()
        call.press("1")
        for _ in range(min(3, count - len(turns))):
            call.press(case_number)
            turns.append(call.press("00000001" if case_number == UNKNOWN_CASE else "87654321"))
    return turns


def renew(call: Provider, case_number: str, birth_date: datetime.date) -> Turn:
    """« Mot de passe oublié »: welcome → 2, the case number, a birth date."""
    call.dial()
    call.press("2")
    call.press(case_number)
    return call.press(keys(birth_date))


def heard(call: Provider) -> str:
    """Everything the caller heard during the call, as one text."""
    return " ".join(turn.text for _, turn in call.history)


def said(call: Provider) -> list[list[str]]:
    """What the server said at each turn (not what was typed): two calls can be compared with it."""
    return [turn.said for _, turn in call.history]


def press_all(call: Provider, *choices: str) -> None:
    """Type each choice in turn, as far as the call goes."""
    for digits in choices:
        try:
            call.press(digits)
        except CallOver:
            return


def post_step(call: Provider, step: str, token: str, **params: str) -> Turn:
    """A webhook of this call for `step` with `token`, signed as the provider signs, as a forged or faulty provider
    would send it."""
    url = f"{call.base_url}{reverse('phone:step', args=[step])}?t={token}"
    return call.post(url, {"CallSid": call.sid, "From": call.caller or "anonymous", **params})
