"""E-mail through a real SMTP server (aiosmtpd on 127.0.0.1), and the EMAIL_URL setting (issue 2, item 11)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from moncompte.messaging.models import Medium, OutboxMessage, Status
from moncompte.verification.models import Purpose
from moncompte.verification.services import code_issue
from tests.factories import PersonFactory
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def smtp_settings(smtp_server):
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=smtp_server.host,
        EMAIL_PORT=smtp_server.port,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
    ):
        yield smtp_server


@pytest.mark.django_db
def test_a_queued_email_arrives_at_the_smtp_server_in_french(smtp_settings, django_capture_on_commit_callbacks):
    person = PersonFactory(given_names="Hélène")
    with django_capture_on_commit_callbacks(execute=True):
        code_issue(person=person, purpose=Purpose.PASSWORD_RESET, medium=Medium.EMAIL, destination="h@exemple.fr")

    assert [e.rcpt_tos for e in smtp_settings.envelopes] == [["h@exemple.fr"]]
    assert smtp_settings.envelopes[0].mail_from == "ne-pas-repondre@moncompte.example"
    received = smtp_settings.messages()[0]
    assert received["Subject"] == "Votre code pour créer un nouveau mot de passe"
    assert received["To"] == "h@exemple.fr"
    assert received["From"] == "Mon Compte <ne-pas-repondre@moncompte.example>"
    body = received.get_content()
    assert body.startswith("Bonjour Hélène,")
    assert "Vous avez demandé à créer un nouveau mot de passe" in body
    assert "Ce code est valable 10 minutes" in body
    code = next(line.strip() for line in body.splitlines() if line.strip().isdigit())
    assert len(code) == 8  # a reset code: 8 digits (verification.ceilings)

    message = OutboxMessage.objects.get()
    assert message.status == Status.SENT and message.attempts == 1
    assert code not in message.body  # it has left: the outbox keeps no readable code


@pytest.mark.django_db
def test_an_smtp_server_that_is_down_leaves_the_row_failed(django_capture_on_commit_callbacks):
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=free_port(),
            EMAIL_USE_TLS=False,
            EMAIL_TIMEOUT=5,
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        code_issue(person=PersonFactory(), purpose=Purpose.CONTACT, medium=Medium.EMAIL, destination="a@exemple.fr")
    message = OutboxMessage.objects.get()
    assert message.status == Status.FAILED
    assert "ConnectionRefusedError" in message.last_error


def settings_in_subprocess(**environ) -> dict[str, str]:
    """Import moncompte.settings in a fresh interpreter with these variables, and read the e-mail settings."""
    env = {k: v for k, v in os.environ.items() if k not in {"EMAIL_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(DJANGO_SETTINGS_MODULE="moncompte.settings", **environ)
    script = (
        "from django.conf import settings\n"
        "for name in ('EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_USE_TLS'):\n"
        "    print(f'{name}={getattr(settings, name)}')\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return dict(line.split("=", 1) for line in output.splitlines())


@pytest.mark.slow
def test_email_url_smtp_selects_the_smtp_backend():
    assert settings_in_subprocess(EMAIL_URL="smtp://127.0.0.1:2525") == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": "2525",
        "EMAIL_USE_TLS": "False",
    }


@pytest.mark.slow
def test_without_email_url_e_mails_stay_in_the_local_outbox():
    assert settings_in_subprocess()["EMAIL_BACKEND"] == "django.core.mail.backends.dummy.EmailBackend"
