import email
import email.policy
import os

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from tests.helpers import free_port


def pytest_collection_modifyitems(config, items):
    """`redis` tests start a real Celery worker: they need a Redis broker and a database the worker can share."""
    if os.environ.get("REDIS_URL") and "sqlite" not in settings.DATABASES["default"]["ENGINE"]:
        return
    why = "REDIS_URL is not set" if not os.environ.get("REDIS_URL") else "the test database is SQLite (in memory)"
    selected = [item for item in items if item.get_closest_marker("redis") is None]
    deselected = [item for item in items if item.get_closest_marker("redis") is not None]
    if not deselected:
        return
    items[:] = selected
    config.hook.pytest_deselected(items=deselected)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"deselected {len(deselected)} test(s) marked 'redis' (real Celery worker): {why}")


class Mailbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self):
        self.envelopes = []
        self.host = self.port = None

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port; `smtp_server.envelopes` holds what it got."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.host, mailbox.port = controller.hostname, controller.port
    yield mailbox
    controller.stop()
