"""The SMS HTTP gateway backend against a real HTTP server on 127.0.0.1 (issue 2, item 11)."""

import contextlib
import socket

import pytest
from celery.exceptions import Retry
from django.test import override_settings

from moncompte.messaging import tasks
from moncompte.messaging.models import Medium, OutboxMessage, Status
from moncompte.messaging.services import send_pending_messages
from moncompte.verification.models import Purpose
from moncompte.verification.services import code_issue
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

MOBILE = "+33612345678"
GATEWAY = "moncompte.messaging.sms.HttpGatewayBackend"


@pytest.fixture
def gateway(sms_gateway):
    return sms_gateway


@pytest.fixture
def gateway_settings(gateway):
    with override_settings(SMS_BACKEND=GATEWAY, SMS_GATEWAY_URL=gateway.url, SMS_GATEWAY_TOKEN="t0ken"):
        yield gateway


def send_code(captured=None):
    """Issue a code by SMS; with `captured` (pytest-django's on-commit capture) the commit hooks run, so it is sent."""
    with captured(execute=True) if captured else contextlib.nullcontext():
        code_issue(person=PersonFactory(), purpose=Purpose.CONTACT, medium=Medium.SMS, destination=MOBILE)
    return OutboxMessage.objects.order_by("-id").first()


def test_a_queued_sms_is_posted_as_json_with_the_bearer_token(gateway_settings, django_capture_on_commit_callbacks):
    gateway = gateway_settings
    message = send_code(django_capture_on_commit_callbacks)

    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert request["path"] == "/sms"
    assert request["headers"]["Authorization"] == "Bearer t0ken"
    assert request["headers"]["Content-Type"] == "application/json"
    payload = gateway.json()
    assert set(payload) == {"to", "text"}
    assert payload["to"] == MOBILE
    assert payload["text"].startswith("Mon Compte : votre code de validation est ")
    code = payload["text"].split("est ")[1][:6]
    assert code.isdigit()

    assert message.status == Status.SENT and message.sent_at is not None and message.attempts == 1
    assert code not in message.body  # delivered: the outbox keeps no readable code
    assert "[masqué]" in message.body


def test_a_gateway_error_marks_the_row_failed_and_send_pending_messages_retries_it(
    gateway_settings, django_capture_on_commit_callbacks
):
    gateway = gateway_settings
    gateway.status = 500
    message = send_code(django_capture_on_commit_callbacks)

    assert message.status == Status.FAILED
    assert "500" in message.last_error and "passerelle SMS" in message.last_error
    assert message.attempts == 1  # no burst of immediate retries: the next try is send_pending_messages'
    assert len(gateway.requests) == 1
    code = gateway.json()["text"].split("est ")[1][:6]
    assert code in message.body  # not delivered yet: the text is still needed

    gateway.status = 200
    assert send_pending_messages() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (Status.SENT, 2, "")
    assert code not in message.body
    assert gateway.json() == gateway.json(0)


def test_on_a_worker_a_failure_is_retried_later_with_back_off(gateway_settings, monkeypatch):
    gateway_settings.status = 503
    message = send_code()  # not committed: the row is pending, as a worker finds it
    scheduled = []
    monkeypatch.setattr(tasks.send_message, "apply_async", lambda *args, **options: scheduled.append(options))
    tasks.send_message.push_request(is_eager=False, retries=0, id="task-1", called_directly=False)
    try:
        with pytest.raises(Retry):
            tasks.send_message(message.pk)
    finally:
        tasks.send_message.pop_request()
    assert len(scheduled) == 1 and 0 <= scheduled[0]["countdown"] <= 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, 1)


def test_an_unreachable_gateway_marks_the_row_failed(django_capture_on_commit_callbacks):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with override_settings(SMS_BACKEND=GATEWAY, SMS_GATEWAY_URL=f"http://127.0.0.1:{closed_port}/sms"):
        message = send_code(django_capture_on_commit_callbacks)
    assert message.status == Status.FAILED
    assert "ConnectError" in message.last_error


def test_without_a_token_no_authorization_header_is_sent(gateway, django_capture_on_commit_callbacks):
    with override_settings(SMS_BACKEND=GATEWAY, SMS_GATEWAY_URL=gateway.url, SMS_GATEWAY_TOKEN=""):
        message = send_code(django_capture_on_commit_callbacks)
    assert message.status == Status.SENT
    assert "Authorization" not in gateway.requests[0]["headers"]
    assert gateway.json()["to"] == MOBILE
