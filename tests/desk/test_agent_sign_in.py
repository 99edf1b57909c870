"""Agents sign in with a second factor (issue 13, item 2): a TOTP application enrolled by QR code at the first
sign-in, ten backup codes shown once, a code good once, five wrong codes sign the session out; a session that proved
only the password reaches no agent screen; the citizens' and the agents' logins never meet; a supervisor resets
another agent's second factor; the incident tooling and the security reports are the security team's alone."""

import base64
import re
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from moncompte.accounts import agents
from moncompte.accounts.agents import AgentError
from moncompte.accounts.models import Account, SessionRecord
from moncompte.identity.nir import nir_key
from moncompte.identity.provisional import new_provisional_id
from moncompte.journal.models import Entry
from tests.agents import (
    AGENT_PASSWORD,
    DESK_LOGIN,
    ENROL,
    SECOND_FACTOR,
    agent_client,
    agent_make,
    agent_sign_in,
    totp_code,
    totp_next_code,
)
from tests.factories import AccountFactory, PersonFactory, make_nir
from tests.helpers import page_text, shown_errors

HOME = "/guichet/"
TEAM = "/guichet/equipe/"
BACKUP_CODES = "/guichet/connexion/codes-de-secours/"
LOGOUT = "/guichet/connexion/deconnexion/"
CITIZEN_LOGIN = "/connexion/"
INCIDENTS = "/admin/incidents/incident/"
REPORTS = "/admin/accounts/securityreport/"
REFUSED_AT_DESK = (
    "Veuillez compléter correctement les champs « identifiant » et « mot de passe » d'un compte autorisé. Sachez que "
    "les deux champs peuvent être sensibles à la casse."
)
WRONG_CODE = "Code incorrect. Vérifiez l'heure de votre téléphone et saisissez le code affiché."


def browser() -> Client:
    return Client(HTTP_HOST="localhost")


def password_step(client: Client, agent: Account, password: str = AGENT_PASSWORD):
    return client.post(DESK_LOGIN, {"username": agent.login_id, "password": password})


def secret_shown(response) -> str:
    """The key the enrolment page prints for a manual entry in the application (#totp-secret)."""
    match = re.search(r'id="totp-secret"><code>([^<]*)</code>', response.content.decode())
    assert match, page_text(response)[:500]
    return match.group(1)


def code_of(secret: str, at: float | None = None) -> str:
    """What an authenticator application that was given `secret` shows (RFC 6238: 30 s, 6 digits)."""
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time = at if at is not None else time.time()
    return f"{totp.token():06d}"


def codes_shown(response) -> list[str]:
    block = re.search(r'id="backup-codes">(.*?)</ul>', response.content.decode(), re.S)
    return re.findall(r"<code>([^<]+)</code>", block.group(1)) if block else []


def enrol(client: Client, agent: Account) -> list[str]:
    """Through the pages, from the password to the backup codes: the codes shown."""
    assert password_step(client, agent)["Location"] == ENROL
    secret = secret_shown(client.get(ENROL))
    response = client.post(ENROL, {"code": code_of(secret)})
    assert response.status_code == 200, page_text(response)[:500]
    return codes_shown(response)  # in the response only: never kept in the session


def wrong_code(device: TOTPDevice) -> str:
    """Six digits the application shows at none of the moments the server tolerates around now."""
    now = time.time()
    near = {totp_code(device, at=now + shift * device.step) for shift in range(-3, 4)}
    return next(code for code in (f"{digit}" * 6 for digit in range(10)) if code not in near)


def throttle_passed(agent: Account) -> None:
    """As if the wait django-otp imposes after a wrong code (1, 2, 4… seconds) had passed; the failures still count."""
    long_ago = timezone.now() - timedelta(hours=1)
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=agent, throttling_failure_count__gt=0).update(throttling_failure_timestamp=long_ago)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def sign_in_entries():
    """The journal entries written by the agent's sign-ins (the account's creation is an operator's)."""
    return Entry.objects.exclude(kind="agent.created").order_by("id")


# --- Enrolment, backup codes, signing in again -----------------------------------------------------------------------


@pytest.mark.django_db
def test_an_agent_enrols_an_application_gets_ten_backup_codes_once_then_signs_out_and_in_with_a_code(client):
    agent = agent_make("accueil-nantes", roles=("desk",), enrolled=False)

    response = password_step(client, agent)

    assert response.status_code == 302 and response["Location"] == ENROL
    page = client.get(ENROL)
    assert page.status_code == 200
    body = page.content.decode()
    assert re.search(r'<div class="desk-qr" aria-hidden="true">\s*<svg', body)
    secret = secret_shown(page)
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4})*( [A-Z2-7]{1,4})?", secret), secret
    assert client.get(ENROL).content.decode().count(secret) == 1  # the same secret until it is confirmed
    assert client.get(HOME)["Location"] == ENROL  # nothing opens before the second factor

    response = client.post(ENROL, {"code": code_of(secret)})

    # The codes are in the response to the POST only: never kept in the session, shown once.
    assert response.status_code == 200
    device = agents.totp_confirmed(agent)
    assert device is not None and base64.b32encode(device.bin_key).decode() == secret.replace(" ", "")
    assert not any("desk" in key and "code" in key for key in list(client.session.keys()))
    shown = response
    codes = codes_shown(shown)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in codes), codes
    assert "ils ne seront plus jamais affichés" in page_text(shown)
    # Shown once: the page again says how many are left, and none of them.
    again = client.get(BACKUP_CODES)
    assert again.status_code == 200 and codes_shown(again) == []
    assert not any(code in again.content.decode() for code in codes)
    assert "Il vous reste 10 codes de secours." in page_text(again)
    assert client.get(HOME).status_code == 200

    signed_out = client.post(LOGOUT, follow=True)

    assert "Vous êtes déconnecté." in page_text(signed_out)
    assert not signed_in(client)
    assert client.get(HOME)["Location"].startswith(DESK_LOGIN)
    assert password_step(client, agent)["Location"] == SECOND_FACTOR  # enrolled: the code, not the QR code
    assert client.get(HOME)["Location"] == SECOND_FACTOR  # the password alone opens nothing
    response = client.post(SECOND_FACTOR, {"code": totp_next_code(device)})
    assert response.status_code == 302 and response["Location"] == HOME
    assert client.get(HOME).status_code == 200
    # Every entry of these sign-ins names the agent, in the desk's channel.
    entries = list(sign_in_entries())
    # The password step, then the second factor (an investigation tells a half sign-in from a whole one).
    assert [e.kind for e in entries] == [
        "login.succeeded",
        "agent.second_factor_enrolled",
        "login.succeeded",
        "agent.second_factor_verified",
    ]
    assert {(e.actor_account_id, e.channel) for e in entries} == {(agent.pk, "desk")}
    assert all(e.person_id is None for e in entries)


@pytest.mark.django_db
def test_a_wrong_code_at_enrolment_is_refused_in_french_and_confirms_nothing(client):
    agent = agent_make("accueil-brest", roles=("desk",), enrolled=False)
    password_step(client, agent)
    secret = secret_shown(client.get(ENROL))

    response = client.post(ENROL, {"code": wrong_code(agents.enrolment_pending(agent))})

    assert response.status_code == 400
    assert WRONG_CODE in page_text(response)
    assert secret_shown(response) == secret  # the same secret, to try again
    assert not agents.has_second_factor(agent)
    assert not StaticToken.objects.exists()
    assert client.get(HOME)["Location"] == ENROL


@pytest.mark.django_db
def test_a_backup_code_signs_in_once_and_is_stored_as_a_keyed_hash():
    agent = agent_make("accueil-rennes", roles=("desk",), enrolled=False)
    codes = enrol(browser(), agent)
    code = codes[3]
    stored = set(StaticToken.objects.filter(device__user=agent).values_list("token", flat=True))
    assert len(stored) == 10
    assert code not in stored and code.replace("-", "") not in stored
    assert agents.backup_code_hash(code) in stored

    first = browser()
    password_step(first, agent)
    response = first.post(SECOND_FACTOR, {"code": code}, follow=True)

    assert response.redirect_chain[0] == (HOME, 302)
    assert "Vous vous êtes connecté avec un code de secours : il ne servira plus. Il vous en reste 9." in page_text(
        response
    )
    assert StaticToken.objects.filter(device__user=agent).count() == 9
    used = Entry.objects.get(kind="agent.backup_code_used")
    assert (used.actor_account_id, used.channel, used.after["left"]) == (agent.pk, "desk", 9)

    second = browser()
    password_step(second, agent)
    response = second.post(SECOND_FACTOR, {"code": code})

    assert response.status_code == 400 and WRONG_CODE in page_text(response)
    assert second.get(HOME)["Location"] == SECOND_FACTOR
    assert Entry.objects.filter(kind="agent.backup_code_used").count() == 1


@pytest.mark.django_db
def test_new_backup_codes_replace_the_old_ones_and_are_shown_once(client):
    agent = agent_make("accueil-rennes", roles=("desk",), enrolled=False)
    old = enrol(client, agent)
    # Without a code of the application (an unattended session), no new codes; a backup code does not do either.
    refused = client.post(BACKUP_CODES, {"code": old[0]})
    assert refused.status_code == 400 and codes_shown(refused) == []
    assert not Entry.objects.filter(kind="agent.backup_codes_renewed").exists()

    response = client.post(BACKUP_CODES, {"code": totp_next_code(agents.totp_confirmed(agent))})

    new = codes_shown(response)
    assert len(new) == 10 and not set(new) & set(old)
    assert codes_shown(client.get(BACKUP_CODES)) == []
    renewed = Entry.objects.get(kind="agent.backup_codes_renewed")
    assert (renewed.actor_account_id, renewed.channel) == (agent.pk, "desk")
    stored = set(StaticToken.objects.filter(device__user=agent).values_list("token", flat=True))
    assert stored == {agents.backup_code_hash(code) for code in new}
    with pytest.raises(agents.SecondFactorRefused):
        agents.second_factor_check(account=agent, token=old[0])


@pytest.mark.django_db
def test_a_code_of_the_application_is_accepted_once():
    agent = agent_make("accueil-lille", roles=("desk",))
    code = totp_next_code(agents.totp_confirmed(agent))
    first, second = browser(), browser()
    password_step(first, agent)
    password_step(second, agent)

    assert first.post(SECOND_FACTOR, {"code": code})["Location"] == HOME
    replayed = second.post(SECOND_FACTOR, {"code": code})

    assert replayed.status_code == 400 and WRONG_CODE in page_text(replayed)
    assert second.get(HOME)["Location"] == SECOND_FACTOR
    assert first.get(HOME).status_code == 200


@pytest.mark.django_db
def test_five_wrong_codes_in_a_row_sign_the_session_out(client):
    agent = agent_make("accueil-caen", roles=("desk",))
    password_step(client, agent)
    wrong = wrong_code(agents.totp_confirmed(agent))

    for left in range(4):
        response = client.post(SECOND_FACTOR, {"code": wrong if left % 2 else "abcde-fghij"})
        assert response.status_code == 400 and WRONG_CODE in page_text(response)
        assert signed_in(client)
        throttle_passed(agent)

    response = client.post(SECOND_FACTOR, {"code": wrong}, follow=True)

    assert response.redirect_chain[0] == (DESK_LOGIN, 302)
    assert "Trop de codes incorrects : par sécurité, vous avez été déconnecté." in page_text(response)
    assert not signed_in(client)
    assert client.get(SECOND_FACTOR)["Location"] == DESK_LOGIN
    assert SessionRecord.objects.get(account=agent).ended_at is not None


@pytest.mark.django_db
def test_right_after_a_wrong_code_the_agent_is_told_to_wait_and_that_try_is_not_counted(client):
    agent = agent_make("accueil-caen", roles=("desk",))
    password_step(client, agent)
    device = agents.totp_confirmed(agent)
    client.post(SECOND_FACTOR, {"code": wrong_code(device)})

    response = client.post(SECOND_FACTOR, {"code": totp_next_code(device)})

    assert response.status_code == 400
    assert "Après des codes incorrects, la vérification est suspendue quelques instants : patientez " in page_text(
        response
    )
    assert WRONG_CODE not in page_text(response)
    assert client.session["desk_second_factor_failures"] == 1
    throttle_passed(agent)
    assert client.post(SECOND_FACTOR, {"code": totp_next_code(device)})["Location"] == HOME


@pytest.mark.django_db
def test_each_wrong_code_at_sign_in_is_journaled_with_the_agent_as_actor(client):
    agent = agent_make("accueil-caen", roles=("desk",))
    password_step(client, agent)
    wrong = wrong_code(agents.totp_confirmed(agent))

    for _ in range(3):
        client.post(SECOND_FACTOR, {"code": wrong})
        throttle_passed(agent)

    failures = Entry.objects.filter(kind="agent.second_factor_failed")
    assert failures.count() == 3
    assert {(e.actor_account_id, e.channel, e.after["step"]) for e in failures} == {(agent.pk, "desk", "login")}


@pytest.mark.django_db
def test_a_wrong_code_at_enrolment_is_journaled_with_the_agent_as_actor(client):
    agent = agent_make("accueil-brest", roles=("desk",), enrolled=False)
    password_step(client, agent)
    client.get(ENROL)

    client.post(ENROL, {"code": wrong_code(agents.enrolment_pending(agent))})

    failure = Entry.objects.get(kind="agent.second_factor_failed")
    assert (failure.actor_account_id, failure.channel, failure.after["step"]) == (agent.pk, "desk", "enrolment")
    assert {e.actor_account_id for e in sign_in_entries()} == {agent.pk}


# --- The password alone opens nothing -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "sent_to"),
    [
        (HOME, SECOND_FACTOR),
        ("/guichet/echange/", SECOND_FACTOR),
        (TEAM, SECOND_FACTOR),
        (BACKUP_CODES, SECOND_FACTOR),
        ("/admin/", "/admin/login/?next=/admin/"),
        ("/admin/accounts/account/", "/admin/login/?next=/admin/accounts/account/"),
        (INCIDENTS, f"/admin/login/?next={INCIDENTS}"),
    ],
)
def test_a_session_that_proved_only_the_password_reaches_neither_the_desk_nor_the_admin(client, path, sent_to):
    # Every role and superuser: what is missing is the second factor, not a permission.
    agent = agent_make("chef-de-tout", roles=("desk", "supervisor", "security"), superuser=True)
    assert password_step(client, agent)["Location"] == SECOND_FACTOR

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == sent_to
    assert signed_in(client)  # still waiting for the code


@pytest.mark.django_db
def test_the_admin_sends_a_session_that_proved_only_the_password_to_the_code_page(client):
    agent = agent_make("equipe-securite", roles=("security",))
    password_step(client, agent)

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1] == (SECOND_FACTOR, 302)
    assert client.post(SECOND_FACTOR, {"code": totp_next_code(agents.totp_confirmed(agent))})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/guichet/", "/\\evil.example/"])
def test_the_page_after_sign_in_is_never_on_another_site(client, target):
    agent = agent_make("accueil-agen", roles=("desk",))
    client.post(f"{DESK_LOGIN}?next={target}", {"username": agent.login_id, "password": AGENT_PASSWORD})

    response = client.post(SECOND_FACTOR, {"code": totp_next_code(agents.totp_confirmed(agent))})

    assert response.status_code == 302 and response["Location"] == HOME


@pytest.mark.django_db
def test_a_signed_in_citizen_reaches_no_agent_page(client, migrated):
    client.post(CITIZEN_LOGIN, {"identifier": migrated.person.nir, "password": migrated.raw_password})
    assert client.get("/mon-espace/").status_code == 200

    for path in (HOME, "/guichet/echange/", TEAM, BACKUP_CODES, ENROL, SECOND_FACTOR, "/admin/", REPORTS):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith((DESK_LOGIN, "/admin/login/")), (path, response["Location"])
    assert not TOTPDevice.objects.exists()  # the enrolment page made no device for a citizen


@pytest.mark.django_db
def test_the_admin_s_login_sends_to_the_desk_s_login():
    response = browser().get("/admin/login/?next=/admin/accounts/account/")

    assert response.status_code == 302
    assert response["Location"] == f"{DESK_LOGIN}?next=/admin/accounts/account/"


# --- The two logins never meet -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_citizen_s_nir_and_password_never_sign_in_at_the_desk(client, migrated):
    for username in (migrated.person.nir, migrated.login_id):
        response = client.post(DESK_LOGIN, {"username": username, "password": migrated.raw_password})

        assert response.status_code == 400
        assert not signed_in(client)
        assert shown_errors(response) == [REFUSED_AT_DESK]
    assert client.get(HOME)["Location"].startswith(DESK_LOGIN)
    assert not Entry.objects.filter(kind="login.succeeded").exists()


@pytest.mark.django_db
def test_an_agent_s_login_id_never_signs_in_on_the_citizens_login(client):
    agent = agent_make("accueil-nice", roles=("desk",), superuser=True)

    response = client.post(CITIZEN_LOGIN, {"identifier": agent.login_id, "password": AGENT_PASSWORD})

    assert response.status_code == 400
    assert "Le numéro ne peut contenir que des chiffres" in shown_errors(response)[0]
    assert not signed_in(client)
    assert not Entry.objects.filter(kind="login.succeeded").exists()


@pytest.mark.django_db
def test_an_agent_account_opened_outside_agent_create_with_a_nir_as_login_id_never_signs_in_as_a_citizen(client):
    """`createsuperuser` checks no login id: the citizens' login still finds accounts through a person only."""
    nir = make_nir(seq=777)
    Account.objects.create_superuser(nir, AGENT_PASSWORD)
    PersonFactory(nir=nir)  # and a person of that NIR, without an account

    response = client.post(CITIZEN_LOGIN, {"identifier": nir, "password": AGENT_PASSWORD})

    assert response.status_code == 400
    assert not signed_in(client)
    assert not Entry.objects.filter(kind="login.succeeded").exists()


# --- A supervisor resets another agent's second factor -------------------------------------------------------------


@pytest.mark.django_db
def test_a_supervisor_resets_another_agent_s_second_factor_which_signs_them_out_and_sends_them_to_enrolment(
    supervisor,
):
    agent = agent_make("accueil-metz", roles=("desk",))
    agent_browser = agent_sign_in(browser(), agent)
    assert agent_browser.get(HOME).status_code == 200
    boss = agent_sign_in(browser(), supervisor)
    page = boss.get(TEAM)
    assert page.status_code == 200
    assert "accueil-metz" in page_text(page) and f'name="agent" value="{agent.pk}"' in page.content.decode()

    response = boss.post(TEAM, {"agent": agent.pk, "reason": "Téléphone perdu"}, follow=True)

    assert "Double authentification de accueil-metz réinitialisée" in page_text(response)
    assert not TOTPDevice.objects.filter(user=agent).exists()
    assert not StaticDevice.objects.filter(user=agent).exists()
    entry = Entry.objects.get(kind="agent.second_factor_reset")
    assert (entry.actor_account_id, entry.channel) == (supervisor.pk, "desk")
    assert entry.after == {"account": agent.pk, "login_id": "accueil-metz", "reason": "Téléphone perdu", "sessions": 1}
    # The agent's open session is signed out at its next request, and sent to the desk's login (not the citizens').
    closed = agent_browser.get(HOME, follow=True)
    assert closed.redirect_chain[0] == (DESK_LOGIN, 302)
    assert "Cette session a été fermée. Connectez-vous à nouveau." in page_text(closed)
    assert not signed_in(agent_browser)
    # Their next sign-in enrols a new application.
    assert password_step(browser(), agent)["Location"] == ENROL
    assert boss.get(HOME).status_code == 200  # the supervisor's own session goes on


@pytest.mark.django_db
def test_a_supervisor_cannot_reset_their_own_second_factor(supervisor):
    boss = agent_sign_in(browser(), supervisor)
    page = boss.get(TEAM)
    assert f'name="agent" value="{supervisor.pk}"' not in page.content.decode()  # no form on their own row

    response = boss.post(TEAM, {"agent": supervisor.pk, "reason": "Nouveau téléphone"}, follow=True)

    assert "Vous ne pouvez pas réinitialiser votre propre double authentification" in page_text(response)
    assert agents.has_second_factor(supervisor)
    assert not Entry.objects.filter(kind="agent.second_factor_reset").exists()
    assert boss.get(HOME).status_code == 200
    with pytest.raises(AgentError):
        agents.second_factor_reset(agent=supervisor, by=supervisor, reason="Nouveau téléphone")


@pytest.mark.django_db
def test_a_reset_needs_a_reason(supervisor):
    agent = agent_make("accueil-metz", roles=("desk",))
    boss = agent_client(supervisor)

    response = boss.post(TEAM, {"agent": agent.pk, "reason": ""})

    assert response.status_code == 200
    assert "Indiquez le motif de la réinitialisation." in page_text(response)
    assert agents.has_second_factor(agent)


@pytest.mark.django_db
def test_a_desk_agent_gets_403_on_the_team_page_and_resets_nothing(desk, supervisor):
    page = desk.get(TEAM)
    sent = desk.post(TEAM, {"agent": supervisor.pk, "reason": "Essai"})

    assert page.status_code == 403 and "Accès réservé" in page_text(page)
    assert sent.status_code == 403
    assert agents.has_second_factor(supervisor)
    assert not Entry.objects.filter(kind="agent.second_factor_reset").exists()


# --- The security team's tooling -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_the_security_team_reaches_the_incidents_and_the_security_reports():
    team = agent_client(agent_make("equipe-securite", roles=("security",)))
    others = [
        agent_make("accueil-pau", roles=("desk",)),
        agent_make("superviseur-pau", roles=("supervisor",)),
        agent_make("admin-technique", superuser=True),
        # Given the permissions one by one, as a superuser: still not the team.
        agent_make(
            "admin-bis",
            superuser=True,
            permissions=("incidents.view_incident", "accounts.view_securityreport"),
        ),
    ]
    other = browser()

    for path in (INCIDENTS, REPORTS):
        assert team.get(path).status_code == 200, path
        for agent in others:
            assert agent_client(agent, other).get(path).status_code == 403, (path, agent.login_id)


# --- Agents' accounts ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "login_id",
    [
        make_nir(seq=4242),
        make_nir(seq=4242) + f"{nir_key(make_nir(seq=4242)):02d}",
        ".".join(["1", "84", "05", "75", "004", "005"]),
        new_provisional_id(),
    ],
    ids=["nir", "nir-with-key", "nir-with-dots", "provisional-id"],
)
def test_agent_create_refuses_a_login_id_a_citizen_could_sign_in_with(login_id):
    with pytest.raises(AgentError, match="ne peut pas être un numéro de Sécurité sociale"):
        agents.agent_create(login_id=login_id, password=AGENT_PASSWORD, roles=["desk"], reason="test")

    assert not Account.objects.exists()
    assert not Entry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["court", "motdepasse", "azertyuiop123", "accueil-tours"])
def test_agent_create_refuses_a_weak_password(password):
    with pytest.raises(ValidationError):
        agents.agent_create(login_id="accueil-tours", password=password, roles=["desk"], reason="test")

    assert not Account.objects.filter(login_id="accueil-tours").exists()
    assert not Entry.objects.exists()


@pytest.mark.django_db
def test_agent_create_opens_an_agent_account_with_its_role_journaled():
    account = agents.agent_create(login_id="accueil-tours", password=AGENT_PASSWORD, roles=["desk"], reason="arrivée")

    assert (account.person_id, account.is_staff, account.is_superuser) == (None, True, False)
    assert agents.roles_of(account) == ["desk"]
    assert account.has_perm("accounts.desk_use") and not account.has_perm("accounts.second_factor_reset")
    entry = Entry.objects.get(kind="agent.created")
    assert entry.after == {"account": account.pk, "login_id": "accueil-tours", "roles": ["desk"], "reason": "arrivée"}


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["is_staff", "is_superuser"])
def test_the_database_refuses_a_citizen_account_that_is_also_an_agent_s(migrated, field):
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=migrated.pk).update(**{field: True})
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountFactory(person=PersonFactory(), **{field: True})

    migrated.refresh_from_db()
    assert not migrated.is_staff and not migrated.is_superuser


@pytest.mark.django_db
def test_a_supervisor_cannot_reset_the_second_factor_of_the_security_team_nor_of_a_superuser(supervisor):
    """Else a supervisor who learnt a security member's password would enrol their own application on that account."""
    chief = agent_client(supervisor)
    security = agent_make("securite-lyon", roles=("security",))
    operator = agent_make("exploitant", superuser=True)
    page = chief.get("/guichet/equipe/")
    assert f'name="agent" value="{security.pk}"' not in page.content.decode()
    assert "sa réinitialisation revient à l'équipe sécurité" in page_text(page)

    for target in (security, operator):
        response = chief.post("/guichet/equipe/", {"agent": target.pk, "reason": "téléphone perdu"}, follow=True)
        assert "a des droits que vous n'avez pas" in page_text(response)
        assert agents.has_second_factor(target)
    assert not Entry.objects.filter(kind="agent.second_factor_reset").exists()
    # Another member of the team may.
    colleague = agent_client(agent_make("securite-paris", roles=("security",)))
    colleague.post("/guichet/equipe/", {"agent": security.pk, "reason": "téléphone perdu"})
    assert not agents.has_second_factor(security)
