"""Fixtures every folder uses; the helpers (plain functions) are in `tests/helpers.py`."""

import pytest
from django.core.cache import cache
from django.test import Client

from moncompte.franceconnect import provider
from moncompte.households.models import Role
from moncompte.incidents import switch
from moncompte.journal import reads
from moncompte.web.account import views as account_views
from moncompte.web.signup import applicant as applicant_views
from moncompte.web.signup import views as signup_views
from tests.factories import AccountFactory, CaseFactory, MembershipFactory, PersonFactory, family
from tests.franceconnect.fake_provider import CLIENT_ID, CLIENT_SECRET, ISSUER, FakeFranceConnect
from tests.helpers import make_home, sign_in_as


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    switch.forget()  # the process's answer to "is the service closed?", kept for a moment (incidents.switch)
    reads.forget()  # the looks this process recorded lately (journal.reads)
    yield
    cache.clear()
    switch.forget()
    reads.forget()


@pytest.fixture(autouse=True)
def _no_response_floors(request, monkeypatch):
    """Pages that could tell whether a NIR is known answer in a minimum time (reset, stepped-up login, signup). Their
    own tests set the floor back; the others skip the wait, unless marked `real_durations` (they read the values)."""
    if request.node.get_closest_marker("real_durations") is None:
        monkeypatch.setattr(account_views, "RESET_MIN_DURATION", 0)
        monkeypatch.setattr(account_views, "STEP_UP_MIN_DURATION", 0)
        monkeypatch.setattr(signup_views, "SIGNUP_MIN_DURATION", 0)
        monkeypatch.setattr(applicant_views, "APPLICANT_MIN_DURATION", 0)


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


@pytest.fixture
def new_client(db):
    """Another browser: `new_client()` is a test client with its own cookies."""

    def make():
        return Client(HTTP_HOST="localhost")

    return make


@pytest.fixture
def home(db):
    """A household for the signup and invitation pages (tests.helpers.make_home)."""
    return make_home()


@pytest.fixture
def holder(client, home):
    """The test client, signed in as the holder of `home`."""
    return sign_in_as(client, home.holder_account)


@pytest.fixture
def franceconnect(settings, monkeypatch):
    """FranceConnect configured and played in process (tests/franceconnect/fake_provider.py): the fake, to spoil."""
    fake = FakeFranceConnect()
    settings.FRANCECONNECT_ISSUER = ISSUER
    settings.FRANCECONNECT_CLIENT_ID = CLIENT_ID
    settings.FRANCECONNECT_CLIENT_SECRET = CLIENT_SECRET
    monkeypatch.setattr(provider, "transport", fake.transport())
    return fake


@pytest.fixture
def media(settings, tmp_path):
    """Supporting documents and answers' files go to a folder of this test (MEDIA_ROOT): `media` is its path."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def fam(db):
    """A holder, a partner without the delegation (both migrated, e-mail validated) and a child of 16 (no account)."""
    return family()


# --- The partner simulator (moncompte.partners, scripts/partners/simulator.py) ---------------------------------------


@pytest.fixture(scope="session")
def partner_simulator(tmp_path_factory):
    """The real partner simulator in its own process, started once per test process (so once per xdist worker) with
    an empty dataset; tests push their own households (the `partners` fixture)."""
    from tests.partners.driver import SimulatorProcess

    folder = tmp_path_factory.mktemp("partners")
    dataset = folder / "dataset.json"
    dataset.write_text('{"people": {}, "cases": {}}')
    simulator = SimulatorProcess(dataset, folder / "simulator.log")
    yield simulator
    simulator.stop()


@pytest.fixture
def partners(partner_simulator, settings, monkeypatch):
    """The PARTNER_* settings point at the simulator, reset for this test: `partners.mode("dgfip", "down")`,
    `partners.push(records)`, `partners.add_household(case)` (tests/partners/driver.py). Each try may take 0.3 s
    and retries do not wait, so that a slow partner costs a test about a second."""
    from moncompte.partners import client as partners_client
    from tests.partners.driver import Partners

    handle = Partners(partner_simulator)
    handle.configure(settings)
    settings.PARTNER_TIMEOUT_SECONDS = 0.3
    monkeypatch.setattr(partners_client, "sleep", lambda seconds: None)
    return handle


@pytest.fixture
def sms_gateway():
    """The SMS HTTP gateway stand-in (tests/sms.py), running for this test."""
    from tests.sms import Gateway

    server = Gateway()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.thread.join(timeout=5)


@pytest.fixture
def delegated(db):
    """A household whose partner holds the delegation; the child of 16 has an account too."""
    f = family(delegated=True)
    f.child = f.children[0]
    f.child_account = AccountFactory(person=f.child)
    return f


@pytest.fixture
def limited(db):
    """A household whose partner has an account but no delegation."""
    return family()
