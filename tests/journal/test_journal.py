"""The action journal (issue 2, item 12): who did what, from where, in the action's transaction; undo handlers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.admin.sites import site as admin_site
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from moncompte.accounts.models import Account
from moncompte.accounts.services import account_open, contact_validated, password_set
from moncompte.accounts.throttling import login_client_ip
from moncompte.journal import context, kinds, services
from moncompte.journal.context import acting
from moncompte.journal.middleware import JournalContextMiddleware
from moncompte.journal.models import Channel, Entry
from moncompte.journal.services import UndoError, record, undo
from tests.agents import agent_client, agent_make
from tests.factories import AccountFactory, PersonFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def test_kinds(monkeypatch):
    """The kinds these tests record, declared for the test only (record() refuses an undeclared kind)."""
    for name in ("test.toggled", "test.side_effect"):
        monkeypatch.setitem(kinds._kinds, name, kinds.Kind(name, "Action de test"))


@pytest.fixture
def undo_calls(monkeypatch):
    """Registers an undo handler for the kind `test.toggled` (removed after the test) and records its calls."""
    calls = []
    monkeypatch.setitem(services._undo_handlers, "test.toggled", calls.append)
    return calls


def run_through_middleware(request, action):
    """Pass a request through JournalContextMiddleware to a view that runs `action`."""
    result = {}

    def view(request):
        result["value"] = action()
        return HttpResponse("ok")

    JournalContextMiddleware(view)(request)
    return result["value"]


# --- Recording -------------------------------------------------------------------------------------------------------


def test_outside_any_request_an_entry_is_from_the_system_channel():
    entry = record("test.toggled", person_id=7, case_number="1234567", before={"on": False}, after={"on": True})
    entry.refresh_from_db()
    assert (entry.kind, entry.person_id, entry.case_number) == ("test.toggled", 7, "1234567")
    assert (entry.before, entry.after) == ({"on": False}, {"on": True})
    assert entry.channel == Channel.SYSTEM
    assert entry.actor_account_id is None and entry.ip_address is None
    assert entry.session_ref == "" and entry.user_agent == ""
    assert entry.created_at is not None and entry.undone_at is None


def test_a_command_sets_its_channel_and_actor_with_acting():
    with acting(channel=Channel.COMMAND, actor_account_id=42):
        entry = record("test.toggled")
        with acting(channel=Channel.DESK):
            inner = record("test.toggled")
    after = record("test.toggled")
    assert (entry.channel, entry.actor_account_id) == (Channel.COMMAND, 42)
    assert (inner.channel, inner.actor_account_id) == (Channel.DESK, 42)
    assert (after.channel, after.actor_account_id) == (Channel.SYSTEM, None)


def test_an_explicit_actor_wins_over_the_context():
    with acting(actor_account_id=42):
        assert record("test.toggled", actor_account_id=9).actor_account_id == 9


def test_the_middleware_gives_entries_the_web_channel_ip_session_device_and_actor():
    account = AccountFactory()
    session = SessionStore()
    session.create()
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox/128.0")
    request.session, request.user = session, account

    entry = run_through_middleware(request, lambda: record("test.toggled", person_id=account.person_id))

    assert entry.channel == Channel.WEB
    assert entry.ip_address == "203.0.113.7"
    assert entry.user_agent == "Firefox/128.0"
    assert entry.actor_account_id == account.pk
    assert entry.session_ref == context.session_ref(session.session_key)
    assert len(entry.session_ref) == 16 and session.session_key not in entry.session_ref
    assert context.current().channel == Channel.SYSTEM  # the request's context does not leak out


def test_a_forwarded_for_header_from_the_client_is_not_taken_as_its_address():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.9")
    request.session, request.user = SessionStore(), None
    entry = run_through_middleware(request, lambda: record("test.toggled"))
    assert entry.ip_address == "203.0.113.7"
    assert entry.actor_account_id is None and entry.session_ref == ""


@override_settings(PROXY_COUNT=2)
def test_behind_two_trusted_proxies_the_journal_and_the_login_limits_see_the_same_address():
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.9, 10.0.0.1")
    request.session, request.user = SessionStore(), None
    entry = run_through_middleware(request, lambda: record("test.toggled"))
    assert entry.ip_address == "198.51.100.9" == login_client_ip(request)


def test_a_failed_login_over_http_is_journaled_with_the_web_context(client):
    person = AccountFactory().person
    client.post("/connexion/", {"identifier": person.nir, "password": "Pas-le-b0n"}, HTTP_USER_AGENT="Chromium/130")
    entry = Entry.objects.get(kind="login.failed")
    assert (entry.channel, entry.ip_address, entry.user_agent) == (Channel.WEB, "127.0.0.1", "Chromium/130")
    assert entry.person_id == person.pk and entry.actor_account_id is None


def test_a_login_over_http_is_journaled_with_the_new_session_and_the_actor(client):
    account = AccountFactory()
    response = client.post("/connexion/", {"identifier": account.person.nir, "password": account.raw_password})
    assert response.status_code == 302
    entry = Entry.objects.get(kind="login.succeeded")
    assert (entry.channel, entry.actor_account_id, entry.person_id) == (Channel.WEB, account.pk, account.person_id)
    assert entry.session_ref == context.session_ref(client.session.session_key)


def test_the_entry_is_rolled_back_with_the_actions_transaction():
    person = PersonFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        account_open(person=person, via="test")
        raise RuntimeError("the rest of the action failed")
    assert not Entry.objects.exists()
    assert not Account.objects.filter(person=person).exists()


def test_an_action_and_its_entry_commit_together():
    person = PersonFactory()
    account = account_open(person=person, via="case_pin", case_number="1234567")
    entry = Entry.objects.get(kind="account.created")
    assert (entry.person_id, entry.case_number) == (person.pk, "1234567")
    assert entry.after == {"account": account.pk, "via": "case_pin"}


# --- Undo ------------------------------------------------------------------------------------------------------------


def test_undo_calls_the_handler_journals_the_undo_and_links_it(undo_calls):
    entry = record("test.toggled", person_id=7, case_number="1234567", before={"on": False}, after={"on": True})
    with acting(channel=Channel.COMMAND, actor_account_id=99):
        undone = undo(entry)
    assert [e.pk for e in undo_calls] == [entry.pk]
    assert undone.kind == "test.toggled.undone"
    assert (undone.person_id, undone.case_number) == (7, "1234567")
    assert (undone.before, undone.after) == ({"on": True}, {"on": False})
    assert (undone.channel, undone.actor_account_id) == (Channel.COMMAND, 99)
    entry.refresh_from_db()
    assert entry.undone_by == undone
    assert entry.undone_at is not None and entry.undone_at <= timezone.now()


def test_an_action_cannot_be_undone_twice(undo_calls):
    entry = record("test.toggled")
    undo(entry)
    with pytest.raises(UndoError) as refused:
        undo(entry)  # the stale instance still says "not undone": the database is what counts
    assert str(refused.value) == "Cette action a déjà été annulée."
    assert len(undo_calls) == 1
    assert Entry.objects.filter(kind="test.toggled.undone").count() == 1


def test_a_kind_without_handler_cannot_be_undone():
    entry = record("login.succeeded")
    assert not services.is_reversible("login.succeeded")
    with pytest.raises(UndoError) as refused:
        undo(entry)
    assert str(refused.value) == "Les actions de type « login.succeeded » ne peuvent pas être annulées."
    entry.refresh_from_db()
    assert entry.undone_at is None and Entry.objects.count() == 1


def test_a_failing_handler_undoes_nothing(monkeypatch):
    def broken(entry):
        record("test.side_effect")
        raise RuntimeError("cannot")

    monkeypatch.setitem(services._undo_handlers, "test.toggled", broken)
    entry = record("test.toggled")
    with pytest.raises(RuntimeError):
        undo(entry)
    entry.refresh_from_db()
    assert entry.undone_at is None
    assert list(Entry.objects.values_list("kind", flat=True)) == ["test.toggled"]


def test_the_accounts_app_registers_its_undo_handlers():
    for kind in ("account.created", "password.changed", "contact.validated"):
        assert services.is_reversible(kind)


@pytest.mark.slow
def test_undo_handlers_are_registered_as_soon_as_django_starts():
    """A command or a worker may undo actions without ever importing the accounts views or services."""
    script = (
        "import django; django.setup()\n"
        "from moncompte.journal.services import is_reversible as r\n"
        "print(r('password.changed'), r('contact.validated'), r('account.created'))"
    )
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="moncompte.settings_test")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["True", "True", "True"]


def test_undoing_a_password_change_leaves_an_unusable_password():
    account = AccountFactory()
    password_set(account=account, password="Nouv3au-Secret!", reason="change")
    entry = Entry.objects.get(kind="password.changed")
    undo(entry)
    account.refresh_from_db()
    assert not account.has_usable_password()
    assert not account.check_password("Nouv3au-Secret!") and not account.check_password(account.raw_password)
    assert Entry.objects.get(kind="password.changed.undone").person_id == account.person_id


def test_undoing_a_contact_validation_restores_the_previous_contact():
    account = AccountFactory()
    old_email, old_verified_at = account.email, account.email_verified_at
    contact_validated(account=account, medium="email", value="pirate@exemple.fr")
    contact_validated(account=account, medium="sms", value="+33699999999")
    undo(Entry.objects.filter(kind="contact.validated").get(after__medium="email"))
    undo(Entry.objects.filter(kind="contact.validated").get(after__medium="sms"))
    account.refresh_from_db()
    assert (account.email, account.email_verified_at) == (old_email, old_verified_at)
    assert (account.mobile, account.mobile_verified_at) == ("", None)
    assert Entry.objects.filter(kind="contact.validated.undone").count() == 2


def test_undoing_an_account_creation_removes_the_account():
    person = PersonFactory()
    account_open(person=person, via="case_pin")
    undo(Entry.objects.get(kind="account.created"))
    assert not Account.objects.filter(person=person).exists()
    assert Entry.objects.get(kind="account.created").undone_by.kind == "account.created.undone"


# --- Admin -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def agent(client):
    superuser = agent_make(roles=("security",), superuser=True)
    agent_client(superuser, client)
    return superuser


def test_the_admin_of_the_journal_is_read_only(agent):
    request = RequestFactory().get("/")
    request.user = agent
    entry_admin = admin_site._registry[Entry]
    assert not entry_admin.has_add_permission(request)
    assert not entry_admin.has_change_permission(request)
    assert not entry_admin.has_delete_permission(request)
    assert entry_admin.has_view_permission(request)


def test_the_journal_changelist_loads_for_a_superuser(client, agent):
    record("code.sent", person_id=1, after={"destination": "j•••@exemple.fr"})
    record("login.failed", person_id=2)
    response = client.get(reverse("admin:journal_entry_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "code.sent" in html and "login.failed" in html
    assert reverse("admin:journal_entry_add") not in html


def test_the_journal_cannot_be_changed_or_deleted_through_the_admin(client, agent):
    entry = record("test.toggled", after={"on": True})
    assert client.get(reverse("admin:journal_entry_change", args=[entry.pk])).status_code == 200  # view only
    assert client.post(reverse("admin:journal_entry_change", args=[entry.pk]), {"kind": "x"}).status_code == 403
    assert client.post(reverse("admin:journal_entry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:journal_entry_add")).status_code == 403
    entry.refresh_from_db()
    assert entry.kind == "test.toggled"
