"""SMS sending, shaped like django.core.mail: a backend chosen by settings.SMS_BACKEND, `get_connection()`.

No maintained library fits an agency's own HTTP gateway, so the interface is ours and small:
`send_messages(messages) -> int`, each message having `.to` (E.164) and `.text`.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str


class SmsError(Exception):
    pass


class BaseSmsBackend:
    #: True when the backend really hands the message to someone else (its text can then be masked in the outbox).
    delivers = False

    def __init__(self, fail_silently: bool = False, **kwargs):
        self.fail_silently = fail_silently

    def send_messages(self, messages: list[SmsMessage]) -> int:
        raise NotImplementedError


class OutboxBackend(BaseSmsBackend):
    """No gateway configured: the message stays in the outbox, readable on the development page."""

    def send_messages(self, messages: list[SmsMessage]) -> int:
        return len(messages)


class HttpGatewayBackend(BaseSmsBackend):
    """POST {"to": "+33612345678", "text": "…"} as JSON to SMS_GATEWAY_URL, with a bearer token when set."""

    delivers = True

    def __init__(self, fail_silently: bool = False, *, url: str | None = None, token: str | None = None, **kwargs):
        super().__init__(fail_silently=fail_silently)
        self.url = url or settings.SMS_GATEWAY_URL
        self.token = token if token is not None else settings.SMS_GATEWAY_TOKEN

    def send_messages(self, messages: list[SmsMessage]) -> int:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        sent = 0
        with httpx.Client(timeout=settings.SMS_GATEWAY_TIMEOUT, headers=headers) as client:
            for message in messages:
                try:
                    response = client.post(self.url, json={"to": message.to, "text": message.text})
                    response.raise_for_status()
                except httpx.HTTPError as exc:
                    if not self.fail_silently:
                        raise SmsError(
                            f"passerelle SMS : {type(exc).__name__} {getattr(exc, 'response', '')}"
                        ) from exc
                    continue
                sent += 1
        return sent


def get_connection(backend: str | None = None, fail_silently: bool = False, **kwargs) -> BaseSmsBackend:
    return import_string(backend or settings.SMS_BACKEND)(fail_silently=fail_silently, **kwargs)
