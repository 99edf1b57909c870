"""A telephony provider, played in software: it starts a call on the voice server's webhook, reads each answer's
TwiML (<Say>, <Gather>, <Redirect>, <Dial>, <Hangup>), sends the keys typed to the <Gather>'s action, or its
<Redirect> when nothing was typed, each request signed with PHONE_AUTH_TOKEN as a provider signs it. No call
leaves the machine. `manage.py call` (make call) plays it in a terminal against a running server; the tests play
it through Django's test client.

It sends what it is given, as a forged or faulty provider would (letters, 50 digits): the server must cope."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from twilio.request_validator import RequestValidator

#: POST url, parameters, headers → (status, body).
Transport = Callable[[str, dict[str, str], dict[str, str]], tuple[int, str]]


class CallOver(Exception):
    """The call has ended (hung up, transferred or refused): nothing can be typed any more."""


@dataclass
class Turn:
    """What the caller hears after one request, and what the server waits for."""

    status: int
    said: list[str] = field(default_factory=list)
    gather_action: str = ""
    gather_digits: int | None = None  # None: a number ended by #
    redirect: str = ""
    dialled: str = ""
    hung_up: bool = False
    body: str = ""

    @property
    def text(self) -> str:
        return " ".join(self.said)


def parse(status: int, body: str) -> Turn:
    turn = Turn(status=status, body=body)
    if status != 200:
        turn.said.append(body)
        turn.hung_up = True
        return turn
    root = ET.fromstring(body)  # noqa: S314 (the TwiML of our own server; expat expands no external entity)
    for verb in root:
        if verb.tag == "Say":
            turn.said.append((verb.text or "").strip())
        elif verb.tag == "Gather":
            turn.said.extend((say.text or "").strip() for say in verb.iter("Say"))
            turn.gather_action = verb.get("action", "")
            turn.gather_digits = int(verb.get("numDigits")) if verb.get("numDigits") else None
        elif verb.tag == "Redirect":
            turn.redirect = (verb.text or "").strip()
        elif verb.tag == "Dial":  # the provider would connect the call here: what follows plays only if it fails
            turn.dialled = (verb.text or "").strip()
            turn.hung_up = True
            break
        elif verb.tag == "Hangup":
            turn.hung_up = True
    return turn


class Provider:
    """One call, from `caller` to the voice server at `base_url` (SITE_URL)."""

    def __init__(self, *, base_url: str, token: str, transport: Transport, caller: str = "", sid: str = ""):
        self.base_url = base_url.rstrip("/")
        self.validator = RequestValidator(token)
        self.transport = transport
        self.caller = caller
        self.sid = sid or "CA" + secrets.token_hex(16)
        self.turn: Turn | None = None
        self.history: list[tuple[str, Turn]] = []  # (what was typed, what was heard)
        self.sent: list[tuple[str, dict[str, str], dict[str, str]]] = []  # every request, signature included

    def _params(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.caller or "anonymous",
            "To": "+33900000000",
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "Caller": self.caller or "anonymous",
            **extra,
        }

    def post(self, url: str, params: dict[str, str], *, signature: str | None = None) -> Turn:
        """One signed request (or signed with `signature`, to try a wrong one)."""
        signature = self.validator.compute_signature(url, params) if signature is None else signature
        headers = {"X-Twilio-Signature": signature}
        self.sent.append((url, params, headers))
        status, body = self.transport(url, params, headers)
        return parse(status, body)

    def _go(self, url: str, params: dict[str, str], typed: str) -> Turn:
        turn = self.post(url, params)
        self.history.append((typed, turn))
        while turn.redirect and not turn.gather_action and not turn.hung_up:  # a bare <Redirect>: follow it
            turn = self.post(turn.redirect, self._params())
            self.history.append(("", turn))
        self.turn = turn
        return turn

    def dial(self) -> Turn:
        """The call comes in."""
        return self._go(self.base_url + reverse("phone:incoming"), self._params(), "")

    def press(self, digits: str) -> Turn:
        """Type keys at the current prompt (sent as they are, even beyond numDigits)."""
        if self.turn is None or not self.turn.gather_action:
            raise CallOver
        return self._go(self.turn.gather_action, self._params(Digits=digits), digits)

    def wait(self) -> Turn:
        """Type nothing: the <Gather> times out and the provider follows the <Redirect> after it."""
        if self.turn is None or not self.turn.redirect:
            raise CallOver
        return self._go(self.turn.redirect, self._params(), "(silence)")

    def replay(self, index: int) -> Turn:
        """Send an earlier request again, signature and all, as a replay attack would (the call's state is not
        followed: what it answers is returned only)."""
        url, params, headers = self.sent[index]
        status, body = self.transport(url, params, headers)
        return parse(status, body)


def transcript(history: list[tuple[str, Turn]]) -> str:
    """The call as text: what the server said, what the caller typed."""
    lines = []
    for typed, turn in history:
        if typed:
            lines.append(f"  [touches] {typed}")
        lines.extend(f"  Serveur vocal : {said}" for said in turn.said if said)
        if turn.dialled:
            lines.append(f"  (appel transféré au {turn.dialled})")
        elif turn.hung_up:
            lines.append("  (fin de l'appel)")
    return "\n".join(lines)
