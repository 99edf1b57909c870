"""A real Celery worker, on the Redis broker, sends what the app queues (issue 2, item 11).

Runs only on PostgreSQL + Redis (`.ci/run`'s second pass): tests/messaging/conftest.py deselects it otherwise."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.test import override_settings

from moncompte.messaging.models import Medium, OutboxMessage, Status
from moncompte.messaging.services import message_queue

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30


def worker_database_url() -> str:
    """The URL of the database this test really uses (pytest-django's `test_<name>`), for the worker."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, smtp_server, tmp_path):
    """`celery -A moncompte worker --pool solo` on the test database, sending e-mail to `smtp_server`."""
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="moncompte.settings_test",
        TEST_CELERY_EAGER="false",
        DATABASE_URL=worker_database_url(),
        EMAIL_URL=f"smtp://{smtp_server.host}:{smtp_server.port}",
    )
    log = (tmp_path / "worker.log").open("w")
    command = [sys.executable, "-m", "celery", "-A", "moncompte", "worker", "--pool", "solo", "--loglevel", "INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", f"test-{os.getpid()}@%h"]
    worker = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    worker.log_path = tmp_path / "worker.log"
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)
        log.close()


@pytest.mark.redis
@pytest.mark.slow
@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_a_real_worker_sends_the_queued_message(celery_worker_process, smtp_server):
    with transaction.atomic():
        message = message_queue(
            medium=Medium.EMAIL,
            to="worker@exemple.fr",
            template="verification/contact",
            context={"code": "583041", "minutes": 10},
        )
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.PENDING  # not sent in this process

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and celery_worker_process.poll() is None:
        message.refresh_from_db()
        if message.status != Status.PENDING:
            break
        time.sleep(0.2)

    log = celery_worker_process.log_path.read_text()
    assert celery_worker_process.poll() is None, f"the worker stopped:\n{log}"
    assert message.status == Status.SENT, f"status {message.status} {message.last_error}\n{log}"
    assert message.attempts == 1 and "583041" not in message.body
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [["worker@exemple.fr"]]
    assert "583041" in smtp_server.messages()[0].get_content()
