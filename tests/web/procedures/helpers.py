"""Posting the procedure pages as a browser does, and reading what they say."""

from __future__ import annotations

import html
import re

from django.test import Client

from moncompte.procedures import services
from moncompte.procedures.models import Draft
from tests.factories import AccountFactory

INDEX = "/demarches/"


def start_url(kind: str = "aide-au-logement") -> str:
    return f"/demarches/commencer/{kind}/"


def step_url(draft: Draft | str, step: str) -> str:
    return f"/demarches/en-cours/{getattr(draft, 'token', draft)}/etape/{step}/"


def resume_url(draft: Draft | str) -> str:
    return f"/demarches/en-cours/{getattr(draft, 'token', draft)}/"


def delete_url(draft: Draft | str) -> str:
    return f"/demarches/en-cours/{getattr(draft, 'token', draft)}/supprimer/"


def receipt_url(reference: str) -> str:
    return f"/demarches/recus/{reference}/"


def receipt_pdf_url(reference: str) -> str:
    return f"/demarches/recus/{reference}/pdf/"


def as_(account, client: Client | None = None) -> Client:
    """A test client signed in as `account` (force_login: these pages are not about the login page)."""
    client = client or Client(HTTP_HOST="localhost")
    client.force_login(account)
    return client


def account_of(person):
    """The person's account (made if they have none: a child of `family()` has none)."""
    return getattr(person, "account", None) or AccountFactory(person=person)


def post_step(client: Client, draft: Draft, step: str, data: dict | None = None, action: str = "continue", **files):
    """POST a step as its form does: the draft's current version, the action, the fields and the files
    (`document_bail=upload`)."""
    draft.refresh_from_db()
    return client.post(step_url(draft, step), {"version": services.version(draft), "action": action, **(data or {}),
                                               **files})  # fmt: skip


def messages_shown(response) -> list[str]:
    """The alerts of a page (the messages framework's and the forms'), as read."""
    content = response.content.decode()
    alerts = re.findall(r'<div class="fr-alert[^"]*"[^>]*>\s*(.*?)</div>', content, flags=re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", alert)).split()) for alert in alerts]


def followed_messages(client: Client, response) -> list[str]:
    """The messages of the page a redirect leads to."""
    assert response.status_code == 302, response.status_code
    return messages_shown(client.get(response["Location"]))
