"""What the page tests of several areas share (helpers every folder uses are in `tests/helpers.py`): the holder's
invitation and its link, and the devices of "Mes sessions"."""

import re

from django.test import Client

from moncompte.accounts.models import SessionRecord
from moncompte.accounts.sessions import SESSION_RECORD_KEY
from moncompte.messaging.models import OutboxMessage

LOGIN = "/connexion/"
DASHBOARD = "/mon-espace/"


# --- The holder's invitation ("Mon foyer") and its link ("Créer mon compte") ----------------------------------------

CONFIRM = "/invitation/confirmer/"
LINK = re.compile(r"http://localhost(/invitation/[\w-]+/)")


def invite_url(h, person=None, case_number=None):
    return f"/mon-foyer/{case_number or h.case.case_number}/inviter/{(person or h.child).pk}/"


def invite(client, h, person=None, *, medium="email", email="lea@exemple.fr", mobile="", case_number=None):
    return client.post(invite_url(h, person, case_number), {"medium": medium, "email": email, "mobile": mobile})


def link_in(message: OutboxMessage) -> str:
    return LINK.search(message.body).group(1)


def last_link(to: str | None = None) -> str:
    messages = OutboxMessage.objects.filter(template__startswith="households/notices/invitation_").order_by("-id")
    if to:
        messages = messages.filter(to=to)
    return link_in(messages.first())


def open_link(visitor, path):
    """Open the link as received: the page moves the token out of the address bar."""
    response = visitor.get(path)
    if response.status_code == 302:
        assert response["Location"] == CONFIRM
        return visitor.get(CONFIRM)
    return response


# --- Devices and their sessions ("Mes sessions") --------------------------------------------------------------------

SESSIONS = "/mon-espace/sessions/"
END = "/mon-espace/sessions/fermer/"
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


def device(user_agent: str, ip: str = "127.0.0.1") -> Client:
    return Client(HTTP_HOST="localhost", HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)


def login(client, account):
    """Sign `account` in on this device and return the session record the login opened."""
    response = client.post(LOGIN, {"identifier": account.person.nir, "password": account.raw_password})
    assert response.status_code == 302, response.content.decode()[:300]
    return SessionRecord.objects.get(pk=client.session[SESSION_RECORD_KEY])
