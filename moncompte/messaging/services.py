"""Queueing and sending messages. Other apps call `message_queue` inside their own transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from moncompte.logging import redact
from moncompte.messaging import sms
from moncompte.messaging.models import Medium, OutboxMessage, Status

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
TEXT_TEMPLATES = "text"  # the template engine without HTML escaping (settings.TEMPLATES)

#: Where a person can be told things: {medium: address}. The accounts app knows the validated contacts and
#: registers the resolver (messaging knows no other app).
ContactResolver = Callable[[int], Mapping[str, str]]
_contact_resolver: ContactResolver = lambda person_id: {}  # noqa: E731


def register_contact_resolver(resolver: ContactResolver) -> ContactResolver:
    global _contact_resolver
    _contact_resolver = resolver
    return resolver


def validated_contacts(person_id: int) -> Mapping[str, str]:
    """The contacts a person proved by a one-time code, by medium (`{"email": …, "sms": …}`); empty for none."""
    return _contact_resolver(person_id)


def person_notify(*, person_id: int, template: str, context: dict[str, Any] | None = None) -> list[OutboxMessage]:
    """Tell a person something on every contact they validated (e-mail and SMS), inside the caller's transaction.
    A person with no validated contact gets nothing: a contact on file proves nothing, and may be stale."""
    return [
        message_queue(medium=medium, to=to, template=template, context=context, person_id=person_id)
        for medium, to in validated_contacts(person_id).items()
    ]


def message_queue(
    *, medium: str, to: str, template: str, context: dict[str, Any] | None = None, person_id: int | None = None
) -> OutboxMessage:
    """Render `<template>.<medium>.txt` (and `<template>.subject.txt` for e-mail), write an outbox row and send it
    after the surrounding transaction commits. Templates live in the calling app's `templates/` folder.

    Messages are written in French whatever language the page was shown in (dates and anything translatable in
    the context included): the agency writes to people in French."""
    context = dict(context or {}, site_title=settings.SITE_TITLE)
    with translation.override(settings.LANGUAGE_CODE):
        body = render_to_string(f"{template}.{medium}.txt", context, using=TEXT_TEMPLATES).strip()
        subject = ""
        if medium == Medium.EMAIL:
            subject = " ".join(render_to_string(f"{template}.subject.txt", context, using=TEXT_TEMPLATES).split())
    message = OutboxMessage.objects.create(
        medium=medium, to=to, subject=subject, body=body, template=template, person_id=person_id
    )
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _enqueue(message_id: int) -> None:
    from moncompte.messaging.tasks import send_message

    try:
        send_message.delay(message_id)
    except Exception:  # the broker is down: the row stays pending and `send_pending_messages` picks it up
        logger.exception("Could not enqueue outbox message %s", message_id)


def message_send(message_id: int) -> OutboxMessage:
    """Send one pending message. Idempotent: a message already sent is left alone. Raises on failure (after
    recording it) so the Celery task retries with back-off."""
    error: Exception | None = None
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message_id)
        if message.status not in (Status.PENDING, Status.FAILED) or message.attempts >= MAX_ATTEMPTS:
            return message
        message.attempts += 1
        try:
            delivered = _deliver(message)
        except Exception as exc:
            error = exc
            message.status = Status.FAILED
            message.last_error = redact(f"{type(exc).__name__}: {exc}")[:500]
        else:
            message.status = Status.SENT if delivered else Status.KEPT_LOCALLY
            message.sent_at = timezone.now()
            message.last_error = ""
            if delivered:
                message.body = redact(message.body)  # it has left: keep no readable code or PIN
        message.save(update_fields=["status", "attempts", "last_error", "sent_at", "body"])
    if error is not None:
        raise error
    return message


def _deliver(message: OutboxMessage) -> bool:
    """Hand the message to SMTP or the SMS gateway. Returns False when it only stays in the local outbox."""
    if message.medium == Medium.SMS:
        connection = sms.get_connection()
        connection.send_messages([sms.SmsMessage(to=message.to, text=message.body)])
        return connection.delivers
    connection = get_connection()
    EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        connection=connection,
    ).send()
    return not settings.EMAIL_BACKEND.endswith(("dummy.EmailBackend", "locmem.EmailBackend"))


def send_pending_messages(limit: int = 1000) -> int:
    """Send what the queue lost (worker down, broker restarted). Run periodically or by hand."""
    count = 0
    ids = OutboxMessage.objects.filter(status__in=[Status.PENDING, Status.FAILED], attempts__lt=MAX_ATTEMPTS)
    for message_id in ids.order_by("id").values_list("id", flat=True)[:limit]:
        try:
            message_send(message_id)
            count += 1
        except Exception:
            logger.exception("Outbox message %s failed", message_id)
    return count
