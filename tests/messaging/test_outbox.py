"""The outbox (issue 2, item 11): every e-mail and SMS is first a row, sent by a Celery task after commit."""

import importlib

import pytest
from django.core import mail
from django.db import transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings
from django.urls import clear_url_caches

import moncompte.urls
import moncompte.web.urls
from moncompte.messaging import services, tasks
from moncompte.messaging.models import Medium, OutboxMessage, Status
from moncompte.messaging.services import MAX_ATTEMPTS, message_queue, message_send, send_pending_messages
from moncompte.verification.models import Purpose
from moncompte.verification.services import code_issue
from moncompte.web.pages.views import dev_outbox_view
from tests.factories import PersonFactory
from tests.helpers import last_code

pytestmark = pytest.mark.django_db

LOCAL = {
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "SMS_BACKEND": "moncompte.messaging.sms.OutboxBackend",
}


def queue_code_sms(to="+33612345678", code="483920"):
    return message_queue(
        medium=Medium.SMS, to=to, template="verification/contact", context={"code": code, "minutes": 10}
    )


@pytest.fixture
def enqueued(monkeypatch):
    """Records the ids handed to the Celery task (and still runs it, eagerly)."""
    calls = []
    delay = tasks.send_message.delay

    def spy(message_id):
        calls.append(message_id)
        return delay(message_id)

    monkeypatch.setattr(tasks.send_message, "delay", spy)
    return calls


def test_a_message_queued_in_a_transaction_that_rolls_back_sends_nothing(django_capture_on_commit_callbacks, enqueued):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue_code_sms()
        raise RuntimeError("the action failed")
    assert callbacks == []
    assert enqueued == []
    assert not OutboxMessage.objects.exists()


def test_the_message_waits_for_the_commit_then_the_task_sends_it(django_capture_on_commit_callbacks, enqueued):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = queue_code_sms()
        assert enqueued == []
        assert OutboxMessage.objects.get().status == Status.PENDING
    assert enqueued == [message.pk]
    message.refresh_from_db()
    assert message.status == Status.KEPT_LOCALLY
    assert message.attempts == 1 and message.sent_at is not None


@override_settings(**LOCAL)
def test_without_smtp_or_gateway_messages_stay_readable_in_the_local_outbox(django_capture_on_commit_callbacks):
    person = PersonFactory()
    with django_capture_on_commit_callbacks(execute=True):
        code_issue(person=person, purpose=Purpose.CONTACT, medium=Medium.EMAIL, destination="a@exemple.fr")
    with django_capture_on_commit_callbacks(execute=True):
        code_issue(person=person, purpose=Purpose.PASSWORD_RESET, medium=Medium.SMS, destination="+33612345678")
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.KEPT_LOCALLY}
    for message in OutboxMessage.objects.all():
        assert last_code(message.to) in message.body  # a newcomer reads the code on the development page


def test_the_test_mail_backend_receives_the_email_but_the_row_stays_local(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        code_issue(person=PersonFactory(), purpose=Purpose.CONTACT, medium=Medium.EMAIL, destination="a@exemple.fr")
    assert [(m.to, m.subject) for m in mail.outbox] == [(["a@exemple.fr"], "Votre code de validation Mon Compte")]
    assert OutboxMessage.objects.get().status == Status.KEPT_LOCALLY


def test_send_pending_messages_picks_up_pending_and_failed_rows():
    pending = queue_code_sms()  # never committed in this test: the task never ran
    failed = queue_code_sms(to="+33698765432")
    OutboxMessage.objects.filter(pk=failed.pk).update(status=Status.FAILED, attempts=1, last_error="SmsError: 500")
    given_up = queue_code_sms(to="+33611111111")
    OutboxMessage.objects.filter(pk=given_up.pk).update(status=Status.FAILED, attempts=MAX_ATTEMPTS)
    done = queue_code_sms(to="+33622222222")
    message_send(done.pk)

    assert send_pending_messages() == 2

    pending.refresh_from_db()
    failed.refresh_from_db()
    assert (pending.status, pending.attempts) == (Status.KEPT_LOCALLY, 1)
    assert (failed.status, failed.attempts, failed.last_error) == (Status.KEPT_LOCALLY, 2, "")
    assert OutboxMessage.objects.get(pk=given_up.pk).status == Status.FAILED
    assert OutboxMessage.objects.get(pk=done.pk).attempts == 1


def test_sending_is_idempotent():
    message = queue_code_sms()
    message_send(message.pk)
    message_send(message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.KEPT_LOCALLY, 1)


def test_a_broker_outage_leaves_the_row_pending_for_send_pending_messages(
    django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(_message_id):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.send_message, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_code_sms()
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.PENDING
    assert send_pending_messages() == 1
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.KEPT_LOCALLY


def test_texts_are_french_and_rendered_from_the_templates(django_capture_on_commit_callbacks):
    person = PersonFactory(given_names="Jeanne Marie")
    code_issue(person=person, purpose=Purpose.CONTACT, medium=Medium.EMAIL, destination="j@exemple.fr")
    code_issue(person=person, purpose=Purpose.PASSWORD_RESET, medium=Medium.SMS, destination="+33612345678")
    email = OutboxMessage.objects.get(medium=Medium.EMAIL)
    sms = OutboxMessage.objects.get(medium=Medium.SMS)
    context = {"person": person, "minutes": 10, "site_title": "Mon Compte"}

    assert email.template == "verification/contact"
    assert email.subject == "Votre code de validation Mon Compte"
    assert (
        email.body
        == render_to_string("verification/contact.email.txt", {**context, "code": last_code(email.to)}).strip()
    )
    assert email.body.startswith("Bonjour Jeanne,")
    assert "Ce code est valable 10 minutes et ne peut servir qu'une fois." in email.body

    assert sms.template == "verification/reset" and sms.subject == ""
    assert sms.body == render_to_string("verification/reset.sms.txt", {**context, "code": last_code(sms.to)}).strip()
    assert sms.body.startswith(f"Mon Compte : votre code pour créer un nouveau mot de passe est {last_code(sms.to)}.")


def test_the_development_outbox_page_does_not_exist_without_debug(client):
    queue_code_sms()
    assert client.get("/dev/boite-d-envoi/").status_code == 404
    with pytest.raises(Http404):
        dev_outbox_view(RequestFactory().get("/dev/boite-d-envoi/"))


@pytest.fixture
def debug_urls():
    """DEBUG on, with the URLs as `moncompte.web.urls` builds them when the server starts with DEBUG."""
    with override_settings(DEBUG=True):
        importlib.reload(moncompte.web.urls)
        importlib.reload(moncompte.urls)
        clear_url_caches()
        yield
    importlib.reload(moncompte.web.urls)
    importlib.reload(moncompte.urls)
    clear_url_caches()


def test_the_development_outbox_page_lists_the_messages_with_debug(client, debug_urls):
    queue_code_sms(to="+33612345678", code="483920")
    response = client.get("/dev/boite-d-envoi/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Boîte d'envoi locale" in html
    assert "+33612345678" in html and "483920" in html
    assert "À envoyer" in html


def test_the_task_returns_the_new_status():
    message = queue_code_sms()
    assert tasks.send_message.apply(args=[message.pk]).get() == Status.KEPT_LOCALLY
    assert services.message_send(message.pk).status == Status.KEPT_LOCALLY


@pytest.mark.django_db
def test_messages_are_plain_text_names_are_written_as_they_are_not_as_html():
    person = PersonFactory(given_names="N'Golo")
    message = message_queue(
        medium=Medium.EMAIL,
        to="n.golo@exemple.fr",
        template="households/notices/delegation_granted",
        context={"person": person, "as_holder": True, "case_number": "1234567"},
    )
    assert "Bonjour N'Golo," in message.body
    assert "&#x27;" not in message.body + message.subject
