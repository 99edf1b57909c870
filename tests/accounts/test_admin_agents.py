"""Agents in the admin (issue 8, item 3 and the admin part of item 4): contacts and roles read-only, a contact
corrected only through a journaled service that clears its validation and warns the old contact, the admin login
held to the per-identifier ceiling, and sessions ended from the admin."""

import re
import time
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from moncompte.accounts import agents, services
from moncompte.accounts.models import Account, SessionRecord
from moncompte.journal.models import Entry
from moncompte.journal.services import undo
from moncompte.lib import counters
from moncompte.messaging.models import OutboxMessage
from tests.agents import AGENT_PASSWORD, DESK_LOGIN, SECOND_FACTOR, agent_client, agent_make, totp_next_code
from tests.factories import AccountFactory
from tests.helpers import last_code, page_text, sign_in

ADMIN_LOGIN = DESK_LOGIN
ACCOUNTS = "/admin/accounts/account/"
SESSIONS = "/admin/accounts/sessionrecord/"
END_ALL = "/admin/accounts/sessionrecord/fermer-toutes/"
DASHBOARD = "/mon-espace/"
RESET = "/mot-de-passe-oublie/"
RETRY = re.compile(r"Vous pourrez réessayer à (\d{2}) h (\d{2}) \(dans (\d+) minutes?\)\.")


def make_agent(login_id="agent", *permissions: str) -> Account:
    codenames = permissions or ("view_account", "change_account", "view_sessionrecord")
    return agent_make(login_id, permissions=tuple(f"accounts.{codename}" for codename in codenames))


def admin_client(agent: Account, **defaults) -> Client:
    return agent_client(agent, Client(HTTP_HOST="localhost", **defaults))


def citizen_client(account) -> Client:
    client = Client(HTTP_HOST="localhost")
    sign_in(client, account)
    assert client.get(DASHBOARD).status_code == 200
    return client


def is_signed_out(client: Client) -> bool:
    response = client.get(DASHBOARD)
    return response.status_code == 302 and response["Location"].startswith("/connexion/")


@pytest.fixture
def citizen(db):
    """A migrated holder with a validated e-mail and a validated mobile."""
    from django.utils import timezone

    return AccountFactory(mobile="+33612345678", mobile_verified_at=timezone.now())


# --- Contacts and roles are read-only ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("superuser", [False, True], ids=["agent", "superuser"])
def test_the_change_form_shows_contacts_and_roles_read_only_and_a_post_changes_none_of_them(citizen, superuser):
    agent = agent_make("chef", superuser=True) if superuser else make_agent()
    client = admin_client(agent)
    url = f"{ACCOUNTS}{citizen.pk}/change/"
    before = Account.objects.get(pk=citizen.pk)

    page = client.get(url)

    assert page.status_code == 200
    body = page.content.decode()
    for field in ("email", "mobile", "is_staff", "is_superuser", "groups", "user_permissions", "password", "login_id"):
        assert f'name="{field}"' not in body, field
    assert citizen.email in body  # shown, as text
    assert citizen.person.nir not in body

    response = client.post(
        url,
        {
            "email": "agent@exemple.fr",
            "mobile": "+33799999999",
            "is_staff": "on",
            "is_superuser": "on",
            "is_active": "on",
            "login_id": "pris",
            "password": "pbkdf2_sha256$1$x$y",
        },
    )

    assert response.status_code == 302
    after = Account.objects.get(pk=citizen.pk)
    assert (after.email, after.email_verified_at, after.mobile, after.mobile_verified_at) == (
        before.email,
        before.email_verified_at,
        before.mobile,
        before.mobile_verified_at,
    )
    assert (after.is_staff, after.is_superuser, after.login_id, after.password) == (
        False,
        False,
        before.login_id,
        before.password,
    )


@pytest.mark.django_db
def test_an_agent_cannot_raise_their_own_roles_from_the_admin():
    agent = make_agent()
    client = admin_client(agent)

    client.post(f"{ACCOUNTS}{agent.pk}/change/", {"is_staff": "on", "is_superuser": "on", "is_active": "on"})

    agent.refresh_from_db()
    assert not agent.is_superuser
    assert not agent.user_permissions.filter(codename="delete_account").exists()


@pytest.mark.django_db
def test_roles_change_through_the_command_which_journals_them():
    agent = Account.objects.create_user("nouvel-agent", AGENT_PASSWORD)

    call_command("agent_roles", "nouvel-agent", "--staff", "--reason", "arrivée au service", stdout=None)

    agent.refresh_from_db()
    entry = Entry.objects.get(kind="account.roles_changed")
    assert agent.is_staff and not agent.is_superuser
    assert entry.before["is_staff"] is False and entry.after["is_staff"] is True
    assert entry.after["reason"] == "arrivée au service"
    undo(entry)
    agent.refresh_from_db()
    assert not agent.is_staff


# --- « Corriger une coordonnée » ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_agent_corrects_a_mobile_which_is_journaled_unvalidated_and_the_old_number_is_warned(citizen):
    agent = make_agent()
    client = admin_client(agent)
    old_mobile, email = citizen.mobile, citizen.email
    url = f"{ACCOUNTS}{citizen.pk}/corriger-coordonnee/"

    assert url in client.get(f"{ACCOUNTS}{citizen.pk}/change/").content.decode()
    assert client.get(url).status_code == 200
    response = client.post(url, {"medium": "sms", "value": "06 98 76 54 44", "reason": "Au guichet, pièce vue"})

    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.mobile == "+33698765444"
    assert citizen.mobile_verified_at is None  # typed by someone else: proves nothing
    assert citizen.email_verified_at is not None
    entry = Entry.objects.get(kind="contact.corrected_by_agent")
    assert entry.person_id == citizen.person_id and entry.actor_account_id == agent.pk
    assert entry.before["mobile"] == old_mobile and entry.before["mobile_verified_at"]
    assert entry.after == {
        "mobile": "+33698765444",
        "mobile_verified_at": None,
        "medium": "sms",
        "reason": "Au guichet, pièce vue",
    }
    # The old number and the person's validated e-mail are warned, in French; the SMS carries no link.
    warnings = OutboxMessage.objects.filter(template="accounts/notices/contact_corrected_by_agent")
    assert {(m.medium, m.to) for m in warnings} == {("sms", old_mobile), ("email", email)}
    sms = warnings.get(medium="sms")
    assert "agent de la Caf" in sms.body and "http" not in sms.body
    mail = warnings.get(medium="email")
    assert "06 •• •• •• 44" in mail.body and "n'est pas encore validée" in mail.body
    assert not OutboxMessage.objects.filter(to="+33698765444").exists()


@pytest.mark.django_db
def test_the_corrected_contact_gets_no_reset_code_nor_login_code_until_the_person_validates_it(citizen):
    """An agent-corrected e-mail is not a reset destination (reset_destinations: validated contacts, else the ones on
    file from the legacy import, never the corrected one)."""
    client = admin_client(make_agent())
    client.post(
        f"{ACCOUNTS}{citizen.pk}/corriger-coordonnee/",
        {"medium": "email", "value": "Nouvelle@Exemple.fr", "reason": "Demande par téléphone"},
    )
    citizen.refresh_from_db()
    assert citizen.email == "nouvelle@exemple.fr" and citizen.email_verified_at is None

    for medium in ("email", "sms"):
        Client(HTTP_HOST="localhost").post(RESET, {"identifier": citizen.person.nir, "medium": medium})

    assert re.fullmatch(r"\d{8}", last_code(to=citizen.mobile))  # the validated mobile still gets its code
    assert "nouvelle@exemple.fr" not in services.reset_destinations(citizen.person).values()
    assert services.login_code_destination(citizen)[1] != "nouvelle@exemple.fr"
    assert not OutboxMessage.objects.filter(to="nouvelle@exemple.fr").exists()


@pytest.mark.django_db
def test_the_correction_can_be_undone_which_restores_the_old_contact_and_its_validation(citizen):
    old_email, old_verified_at = citizen.email, citizen.email_verified_at
    admin_client(make_agent()).post(
        f"{ACCOUNTS}{citizen.pk}/corriger-coordonnee/",
        {"medium": "email", "value": "autre@exemple.fr", "reason": "Erreur de saisie"},
    )

    undo(Entry.objects.get(kind="contact.corrected_by_agent"))

    citizen.refresh_from_db()
    assert (citizen.email, citizen.email_verified_at) == (old_email, old_verified_at)


@pytest.mark.django_db
def test_the_correction_form_refuses_a_bad_value_and_an_agent_without_the_change_permission(citizen):
    url = f"{ACCOUNTS}{citizen.pk}/corriger-coordonnee/"
    client = admin_client(make_agent())

    bad = client.post(url, {"medium": "email", "value": "pas-une-adresse", "reason": "x"})
    same = client.post(url, {"medium": "email", "value": citizen.email, "reason": "x"})
    reader = admin_client(make_agent("lecteur", "view_account")).post(
        url, {"medium": "email", "value": "autre@exemple.fr", "reason": "x"}
    )

    assert bad.status_code == 200 and "Saisissez une adresse e-mail valide" in page_text(bad)
    assert same.status_code == 200 and "C'est déjà la coordonnée enregistrée" in page_text(same)
    assert reader.status_code == 403
    assert not Entry.objects.filter(kind="contact.corrected_by_agent").exists()


# --- The admin login's ceiling per identifier ------------------------------------------------------------------------


def admin_login(password: str, ip: str):
    client = Client(HTTP_HOST="localhost", REMOTE_ADDR=ip)
    response = client.post(ADMIN_LOGIN, {"username": "agent", "password": password})
    return client, response


@pytest.mark.django_db
def test_the_admin_login_refuses_an_identifier_failed_from_many_addresses_then_lets_the_agent_in_after_the_window(
    monkeypatch,
):
    make_agent()
    limit = settings.LOGIN_LIMIT_PER_IDENTIFIER
    # One address locked by axes may keep trying: its refused tries check no password and count for nothing.
    for _ in range(settings.AXES_FAILURE_LIMIT + 10):
        admin_login("mauvais", "127.0.0.1")
    assert admin_login(AGENT_PASSWORD, "127.0.9.9")[1].status_code == 302
    for n in range(limit - settings.AXES_FAILURE_LIMIT):
        assert admin_login("mauvais", f"127.0.1.{n + 1}")[1].status_code == 400

    client, response = admin_login(AGENT_PASSWORD, "127.0.2.1")

    # The right password, from an address never used: refused, in French, with when to try again.
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    text = page_text(response)
    assert "Trop de mots de passe incorrects ont été saisis pour cet identifiant." in text
    match = RETRY.search(text)
    assert match, text
    assert 1 <= int(match.group(3)) <= settings.LOGIN_LIMIT_WINDOW // 60
    # Refused tries do not make the refusal last longer.
    for n in range(5):
        admin_login("mauvais", f"127.0.3.{n + 1}")

    later = time.time() + settings.LOGIN_LIMIT_WINDOW
    monkeypatch.setattr(counters, "time", SimpleNamespace(time=lambda: later))

    client, response = admin_login(AGENT_PASSWORD, "127.0.2.1")
    assert response.status_code == 302 and response["Location"] == SECOND_FACTOR
    assert client.get("/admin/").status_code == 302  # the password alone opens no admin page
    client.post(SECOND_FACTOR, {"code": totp_next_code(agents.totp_confirmed(Account.objects.get(login_id="agent")))})
    assert client.get("/admin/").status_code == 200


# --- Sessions ended from the admin -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_agent_ends_every_session_of_an_account_and_the_person_is_signed_out_at_the_next_request(citizen):
    agent = make_agent()
    phone, laptop = citizen_client(citizen), citizen_client(citizen)
    other = AccountFactory()
    other_client = citizen_client(other)

    response = admin_client(agent).post(ACCOUNTS, {"action": "end_sessions", "_selected_action": [citizen.pk]})

    assert response.status_code == 302
    assert is_signed_out(phone) and is_signed_out(laptop)
    assert other_client.get(DASHBOARD).status_code == 200
    assert set(SessionRecord.objects.filter(account=citizen).values_list("end_reason", flat=True)) == {"agent"}
    entry = Entry.objects.get(kind="security.sessions_ended_by_agent")
    assert entry.person_id == citizen.person_id and entry.actor_account_id == agent.pk
    assert entry.after["count"] == 2


@pytest.mark.django_db
def test_a_superuser_ends_every_citizen_session_after_a_confirmation_and_it_is_journaled_once(citizen):
    chef = agent_make("chef", superuser=True)
    admin = admin_client(chef)
    assert admin.get(SESSIONS).status_code == 200  # the agent's own session gets its record
    first, second = citizen_client(citizen), citizen_client(AccountFactory())

    confirmation = admin.get(END_ALL)

    assert confirmation.status_code == 200
    assert "Sessions d'allocataires non fermées : 2." in page_text(confirmation)
    assert first.get(DASHBOARD).status_code == 200  # nothing ended before the confirmation
    assert END_ALL in admin.get(SESSIONS).content.decode()

    response = admin.post(END_ALL, {"confirm": "oui"})

    assert response.status_code == 302
    assert is_signed_out(first) and is_signed_out(second)
    assert admin.get(SESSIONS).status_code == 200  # agents' sessions stay open
    entry = Entry.objects.get(kind="security.all_sessions_ended_by_agent")
    assert entry.after == {"count": 2} and entry.actor_account_id == chef.pk and entry.person_id is None


@pytest.mark.django_db
def test_an_agent_who_is_not_superuser_cannot_end_every_session(citizen):
    client = admin_client(make_agent())
    person = citizen_client(citizen)

    assert client.get(END_ALL).status_code == 403
    assert client.post(END_ALL, {"confirm": "oui"}).status_code == 403
    assert person.get(DASHBOARD).status_code == 200


# --- Closing an account (ASVS 7.4.2): a journaled action, never a checkbox nor a deletion ---------------------------


@pytest.mark.django_db
def test_the_active_flag_is_read_only_and_no_account_can_be_deleted_in_the_admin(citizen):
    agent = make_agent("agent", "view_account", "change_account", "delete_account")
    admin = admin_client(agent)

    page = admin.get(f"{ACCOUNTS}{citizen.pk}/change/").content.decode()
    admin.post(f"{ACCOUNTS}{citizen.pk}/change/", {"is_active": ""})
    deleted = admin.post(ACCOUNTS, {"action": "delete_selected", "_selected_action": [citizen.pk], "post": "yes"})

    assert 'name="is_active"' not in page
    citizen.refresh_from_db()
    assert citizen.is_active
    assert deleted.status_code in (200, 302) and Account.objects.filter(pk=citizen.pk).exists()


@pytest.mark.django_db
def test_an_agent_closes_an_account_its_sessions_end_it_cannot_sign_in_nor_reset_and_it_reopens(citizen):
    agent = make_agent()
    admin = admin_client(agent)
    phone = citizen_client(citizen)
    reset_code = Client(HTTP_HOST="localhost")

    assert admin.post(ACCOUNTS, {"action": "deactivate", "_selected_action": [citizen.pk]}).status_code == 302

    assert is_signed_out(phone)
    assert set(SessionRecord.objects.filter(account=citizen).values_list("end_reason", flat=True)) == {"agent"}
    assert not sign_in_works(citizen)
    reset_code.post(RESET, {"identifier": citizen.person.nir, "medium": "email"})
    assert not OutboxMessage.objects.filter(to=citizen.email, template="verification/reset").exists()
    closed = Entry.objects.get(kind="account.deactivated_by_agent")
    assert (closed.person_id, closed.actor_account_id, closed.after["sessions_ended"]) == (
        citizen.person_id,
        agent.pk,
        1,
    )
    # Closing it again changes nothing and journals nothing.
    admin.post(ACCOUNTS, {"action": "deactivate", "_selected_action": [citizen.pk]})
    assert Entry.objects.filter(kind="account.deactivated_by_agent").count() == 1

    admin.post(ACCOUNTS, {"action": "reactivate", "_selected_action": [citizen.pk]})

    assert sign_in_works(citizen)
    assert Entry.objects.get(kind="account.reactivated_by_agent").actor_account_id == agent.pk


def sign_in_works(account) -> bool:
    client = Client(HTTP_HOST="localhost")
    response = client.post("/connexion/", {"identifier": account.person.nir, "password": account.raw_password})
    return response.status_code == 302 and response["Location"] == DASHBOARD
