import datetime
import urllib.parse

import pytest
from django.test import Client
from django.utils import timezone

from moncompte.phone.simulator import Provider
from tests.factories import family

#: A mobile no member of the test households has validated.
STRANGER = "+33699887766"
#: Another one, for a second stranger.
OTHER_STRANGER = "+33655443322"
#: The validated mobiles of the holder and (in `delegated_household`) of the partner.
HOLDER_MOBILE = "+33611223344"
PARTNER_MOBILE = "+33622334455"
TOKEN = "test-phone-token"


@pytest.fixture(scope="session")
def webhook_client():
    """One test client for the calls of the whole test process: loading its middleware (WhiteNoise scans the static
    files) costs more than a whole call. The webhooks use no cookie; `phone` clears them all the same."""
    return Client()


@pytest.fixture
def phone(db, settings, webhook_client):
    """`phone(caller=…)`: a call through the signed webhooks (moncompte.phone.simulator), in this process."""
    settings.PHONE_AUTH_TOKEN = TOKEN
    settings.PHONE_PIN_SUNSET = None
    settings.PHONE_AGENT_NUMBER = "+33199000000"
    client = webhook_client
    client.cookies.clear()

    def transport(url, params, headers):
        parts = urllib.parse.urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.post(path, params, headers=headers)
        return response.status_code, response.content.decode()

    def make(caller: str = STRANGER) -> Provider:
        return Provider(base_url=settings.SITE_URL, token=TOKEN, transport=transport, caller=caller)

    return make


def keys(day: datetime.date) -> str:
    """A birth date as typed on the keypad (JJMMAAAA)."""
    return f"{day:%d%m%Y}"


@pytest.fixture
def household(db):
    """Holder and partner (no delegation) with accounts and the case PIN; the holder's mobile is validated."""
    f = family()
    f.holder_account.mobile, f.holder_account.mobile_verified_at = HOLDER_MOBILE, timezone.now()
    f.holder_account.save()
    f.partner.birth_date = datetime.date(1986, 9, 17)
    f.partner.save()
    return f


@pytest.fixture
def delegated_household(db):
    """Holder and partner with the delegation, born on different days, each with an account and a validated
    mobile (HOLDER_MOBILE, PARTNER_MOBILE) and e-mail address."""
    f = family(delegated=True)
    for account, mobile in ((f.holder_account, HOLDER_MOBILE), (f.partner_account, PARTNER_MOBILE)):
        account.mobile, account.mobile_verified_at = mobile, timezone.now()
        account.save()
    f.partner.birth_date = datetime.date(1987, 2, 11)
    f.partner.save()
    return f
