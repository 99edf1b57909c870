import html
import re
import time

import pytest
from django.conf import settings
from django.core.cache import cache

from moncompte.households.models import Role
from moncompte.messaging.models import OutboxMessage
from tests.factories import AccountFactory, CaseFactory, MembershipFactory, PersonFactory


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client(client):
    """Django's test client, speaking to an allowed host."""
    client.defaults["HTTP_HOST"] = "localhost"
    return client


@pytest.fixture
def household(db):
    """A couple with a child of 16: holder and partner know the case PIN (`household.case.pin`); nobody migrated."""
    case = CaseFactory()
    holder = MembershipFactory(case=case, role=Role.HOLDER).person
    partner = MembershipFactory(case=case, role=Role.PARTNER, person__sex="F").person
    child = MembershipFactory(case=case, role=Role.CHILD, person=PersonFactory(child=True)).person

    class Household:
        pass

    h = Household()
    h.case, h.holder, h.partner, h.child = case, holder, partner, child
    return h


@pytest.fixture
def migrated(db):
    """A holder who already migrated: `migrated.person`, `migrated.raw_password`, `migrated.case`."""
    case = CaseFactory()
    account = AccountFactory()
    MembershipFactory(case=case, person=account.person, role=Role.HOLDER)
    account.case = case
    return account


def rewind_code_ceilings(state: dict, seconds: float) -> None:
    """As if `seconds` had passed since the last code try of the flow state's NIR (verification.ceilings' back-off)."""
    from django.core.cache import cache

    from moncompte.verification import ceilings

    guard = ceilings.Guard.from_state(state.get("guard"))
    if guard is not None and (last := cache.get(ceilings.last_try_key(guard.subject))):
        cache.set(ceilings.last_try_key(guard.subject), last - seconds, timeout=ceilings.DAY)


def last_code(to: str | None = None) -> str:
    """The code (6 or 8 digits) of the last message in the outbox (optionally to one destination)."""
    messages = OutboxMessage.objects.order_by("-id")
    if to:
        messages = messages.filter(to=to)
    return re.search(r"\b(\d{8}|\d{6})\b", messages.first().body).group(1)


def errors(response) -> list[str]:
    """Every error message a page shows (field messages and the form's alert)."""
    html = response.content.decode()
    return re.findall(r'fr-message--error">([^<]*)<', html) + [
        " ".join(p.split()) for p in re.findall(r'id="form-errors">\s*<p>([^<]*)</p>', html)
    ]


def page_text(response) -> str:
    """What a person reads: the page without its tags and scripts, entities decoded, spaces collapsed."""
    content = re.sub(r"<script.*?</script>", " ", response.content.decode(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())


def sign_in(client, account, password: str | None = None, **extra):
    """Sign a migrated account in through the login page (as a person does) and return the redirect."""
    response = client.post(
        "/connexion/", {"identifier": account.person.nir, "password": password or account.raw_password}, **extra
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def password_typed_long_ago(client, seconds: float | None = None) -> None:
    """Make the session's last password entry older than REAUTH_MAX_AGE (or `seconds` ago): the next security
    change asks for the password again."""
    from moncompte.accounts.sessions import SESSION_AUTH_AT

    session = client.session
    session[SESSION_AUTH_AT] = time.time() - (settings.REAUTH_MAX_AGE + 1 if seconds is None else seconds)
    session.save()
