""" "Historique de connexion et de sécurité" (issue 3, item 8): the person's logins, failures, password, contact and
delegation changes with device and time; "Ce n'était pas moi" on an entry ends every session, forces a new password
and flags the event for the security team."""

import re

import pytest
from django.test import Client

from moncompte.accounts.models import Account, SecurityReport, SessionRecord, TrustedDevice
from moncompte.accounts.selectors import device_label, ip_masked
from moncompte.households.models import Role
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from tests.agents import agent_client, agent_make
from tests.factories import AccountFactory, MembershipFactory, PersonFactory
from tests.helpers import page_text, sign_in

LOGIN = "/connexion/"
DASHBOARD = "/mon-espace/"
HISTORY = "/mon-espace/securite/"
REPORT = "/mon-espace/securite/signaler/"
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


def new_client(**defaults):
    return Client(HTTP_HOST="localhost", **defaults)


@pytest.fixture
def signed_in(client, migrated):
    sign_in(client, migrated, HTTP_USER_AGENT=FIREFOX_WINDOWS, REMOTE_ADDR="203.0.113.45")
    return migrated


def rows(response) -> list[str]:
    body = response.content.decode()
    table = re.search(r'<table data-testid="history">.*?</table>', body, re.S).group(0)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)][1:]


# --- The history -----------------------------------------------------------------------------------------------------


def test_the_history_lists_logins_and_failures_with_device_time_and_a_partly_masked_address(client, signed_in):
    new_client(HTTP_USER_AGENT=SAFARI_IPHONE, REMOTE_ADDR="198.51.100.9").post(
        LOGIN, {"identifier": signed_in.person.nir, "password": "pas-le-bon-1"}
    )

    response = client.get(HISTORY)

    assert response.status_code == 200
    lines = rows(response)
    assert "Échec de connexion (mot de passe incorrect)" in lines[0] and "Safari sur iPhone" in lines[0]
    assert "198.51.100.••" in lines[0] and "198.51.100.9" not in response.content.decode()
    assert "Connexion" in lines[1] and "Firefox sur Windows" in lines[1] and "203.0.113.••" in lines[1]
    assert "203.0.113.45" not in response.content.decode()
    assert all(re.match(r"\d\d/\d\d/\d{4} \d\d:\d\d ", line) for line in lines)


def test_the_history_shows_password_contact_delegation_and_account_events_but_not_the_others(client, signed_in):
    person_id = signed_in.person_id
    for kind, after in [
        ("account.created", {}),
        ("password.changed", {"reason": "change"}),
        ("contact.validated", {"medium": "sms", "mobile": "+33612345678"}),
        ("delegation.granted", {}),
        ("reauth.failed", {}),
        ("code.sent", {"purpose": "contact"}),
        ("correction.requested", {"topic": "name"}),
        ("account.onboarded", {}),
    ]:
        Entry.objects.create(kind=kind, person_id=person_id, after=after, actor_account_id=signed_in.pk)

    text = page_text(client.get(HISTORY))

    for label in (
        "Création du compte",
        "Changement du mot de passe",
        "Validation du numéro de mobile",
        "Délégation",
        "Mot de passe incorrect lors d'une confirmation",
    ):
        assert label in text, label
    for absent in ("Envoi d'un code", "Signalement d'une erreur", "Présentation du nouvel espace"):
        assert absent not in text
    assert "+33612345678" not in text


def test_the_history_holds_nothing_of_anyone_else(client, signed_in, db):
    other = AccountFactory()
    Entry.objects.create(
        kind="login.succeeded", person_id=other.person_id, user_agent="Intrus/1.0", ip_address="192.0.2.1"
    )

    body = client.get(HISTORY).content.decode()

    assert "Intrus" not in body and "192.0.2." not in body


def test_a_delegation_change_made_by_the_holder_shows_in_the_partner_s_history_without_the_holder_s_device(client, db):
    holder = AccountFactory()
    membership = MembershipFactory(person=holder.person, role=Role.HOLDER)
    partner = AccountFactory(person=PersonFactory(sex="F"))
    MembershipFactory(case=membership.case, person=partner.person, role=Role.PARTNER)
    Entry.objects.create(
        kind="delegation.granted",
        person_id=holder.person_id,
        case_number=membership.case.case_number,
        after={"delegation": 1, "partner": partner.person_id, "holder": holder.person_id},  # as delegation_grant
        actor_account_id=holder.pk,
        user_agent=FIREFOX_WINDOWS,
        ip_address="192.0.2.77",
    )
    sign_in(client, partner, HTTP_USER_AGENT=SAFARI_IPHONE)

    response = client.get(HISTORY)

    line = next(line for line in rows(response) if "Délégation" in line)
    assert "Par un autre membre du foyer ou par la Caf" in line
    assert "Firefox" not in line and "192.0.2." not in response.content.decode()
    assert "Ce n'était pas moi" not in line  # someone else's action: not the partner's to disown


def test_the_history_is_paginated_newest_first(client, signed_in):
    for number in range(25):
        Entry.objects.create(kind="login.failed", person_id=signed_in.person_id, user_agent=f"Robot/{number}")

    first = client.get(HISTORY)
    second = client.get(HISTORY, {"page": 2})

    assert len(rows(first)) == 20 and "Page 1 sur 2" in page_text(first)
    assert len(rows(second)) == 6  # 5 failures and the login
    assert "Connexion" in rows(second)[-1]
    for garbage in ("0", "-1", "abc", "99", "1e9", "%00"):
        assert client.get(HISTORY, {"page": garbage}).status_code == 200


def test_the_history_needs_a_signed_in_person(client, db):
    assert client.get(HISTORY)["Location"] == f"{LOGIN}?next={HISTORY}"


# --- "Ce n'était pas moi" from the history -------------------------------------------------------------------------


def test_not_me_on_an_entry_ends_every_session_disables_the_password_and_files_a_report(client, signed_in):
    laptop = new_client()
    sign_in(laptop, signed_in)
    failure = Entry.objects.create(kind="login.failed", person_id=signed_in.person_id, ip_address="192.0.2.1")
    signed_in.mobile, signed_in.mobile_verified_at = "+33612345678", signed_in.email_verified_at
    signed_in.save()

    response = client.post(REPORT, {"entry": failure.pk})

    assert response.status_code == 200
    assert "Votre signalement est enregistré" in page_text(response)
    assert "Choisir un nouveau mot de passe" in page_text(response)
    account = Account.objects.get(pk=signed_in.pk)
    assert not account.check_password(signed_in.raw_password)
    assert not SessionRecord.objects.filter(account=account, ended_at__isnull=True).exists()
    assert client.get(DASHBOARD)["Location"].startswith(LOGIN)
    assert laptop.get(DASHBOARD)["Location"].startswith(LOGIN)
    report = SecurityReport.objects.get()
    assert (report.entry_id, report.kind, report.source) == (failure.pk, "login.failed", "history")
    assert Entry.objects.get(kind="security.reported").after["sessions_ended"] == 2
    # Whoever acted may hold a trusted device of the account: none keeps its trust (issue 7, item 1).
    assert not TrustedDevice.objects.filter(account=account).exists()
    assert Entry.objects.get(kind="security.reported").after["devices_forgotten"] == 2
    notices = OutboxMessage.objects.filter(template="accounts/notices/security_report_received")
    assert {(n.medium, n.to) for n in notices} == {("email", signed_in.email), ("sms", "+33612345678")}


def test_a_reported_entry_shows_as_reported(client, signed_in, db):
    entry = Entry.objects.get(kind="login.succeeded", person_id=signed_in.person_id)
    SecurityReport.objects.create(account=signed_in, entry_id=entry.pk, kind=entry.kind, source="history")

    line = rows(client.get(HISTORY))[0]

    assert "Signalé" in line and "Ce n'était pas moi" not in line


@pytest.mark.parametrize("entry_id", ["", "abc", "-1", "0", "99999999", "1.5", "1 OR 1=1"])
def test_garbage_entry_ids_are_a_404_and_change_nothing(client, signed_in, entry_id):
    response = client.post(REPORT, {"entry": entry_id})

    assert response.status_code == 404
    assert client.get(DASHBOARD).status_code == 200
    assert not SecurityReport.objects.exists()


def test_someone_else_s_entry_is_a_404_and_changes_nothing(client, signed_in, db):
    other = AccountFactory()
    foreign = Entry.objects.create(kind="login.succeeded", person_id=other.person_id, actor_account_id=other.pk)

    response = client.post(REPORT, {"entry": foreign.pk})

    assert response.status_code == 404
    assert Account.objects.get(pk=signed_in.pk).check_password(signed_in.raw_password)
    assert Account.objects.get(pk=other.pk).check_password(other.raw_password)
    assert client.get(DASHBOARD).status_code == 200
    assert not SecurityReport.objects.exists()


def test_an_entry_outside_the_security_kinds_is_a_404(client, signed_in):
    own = Entry.objects.create(kind="code.sent", person_id=signed_in.person_id)

    assert client.post(REPORT, {"entry": own.pk}).status_code == 404
    assert not SecurityReport.objects.exists()


def test_a_report_itself_cannot_be_disowned(client, signed_in):
    own = Entry.objects.create(kind="security.reported", person_id=signed_in.person_id, actor_account_id=signed_in.pk)

    response = client.post(REPORT, {"entry": own.pk}, follow=True)

    assert "Cet évènement ne peut pas être signalé." in page_text(response)
    assert not SecurityReport.objects.exists()
    assert Account.objects.get(pk=signed_in.pk).check_password(signed_in.raw_password)


def test_reporting_is_post_only(client, signed_in):
    entry = Entry.objects.get(kind="login.succeeded")

    assert client.get(REPORT, {"entry": entry.pk}).status_code == 405
    assert not SecurityReport.objects.exists()


def test_reporting_needs_a_signed_in_person(client, db):
    response = client.post(REPORT, {"entry": 1})

    assert response["Location"].startswith(LOGIN)


def test_the_security_team_sees_the_reports_in_the_admin_and_marks_them_handled(client, signed_in):
    entry = Entry.objects.get(kind="login.succeeded")
    client.post(REPORT, {"entry": entry.pk})
    agent = agent_make("securite", roles=("security",))
    admin = agent_client(agent, new_client())

    listing = admin.get("/admin/accounts/securityreport/?handled_at__isnull=True")
    assert listing.status_code == 200 and "login.succeeded" in page_text(listing)
    report = SecurityReport.objects.get()
    assert admin.get(f"/admin/accounts/securityreport/{report.pk}/change/").status_code == 200
    assert admin.get("/admin/accounts/sessionrecord/").status_code == 200
    assert admin.get("/admin/accounts/securityreport/add/").status_code == 403

    admin.post("/admin/accounts/securityreport/", {"action": "mark_handled", "_selected_action": [report.pk]})

    report.refresh_from_db()
    assert report.handled_at is not None
    assert Entry.objects.get(kind="security.report_handled").actor_account_id == agent.pk


# --- Readable devices and addresses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (FIREFOX_WINDOWS, "Firefox sur Windows"),
        (SAFARI_IPHONE, "Safari sur iPhone"),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
            "Samsung Internet sur Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge sur macOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/120.0 Safari/537.36",
            "Chrome sur Linux",
        ),
        ("curl/8.5.0", "Autre appareil"),
        ("", "Appareil inconnu"),
    ],
)
def test_devices_are_summarised_for_people(user_agent, label):
    assert device_label(user_agent) == label


@pytest.mark.parametrize(
    ("ip", "masked"),
    [
        ("203.0.113.45", "203.0.113.••"),
        ("2001:db8:85a3::8a2e:370:7334", "2001:0db8:…"),
        (None, ""),
        ("pas une adresse", ""),
    ],
)
def test_addresses_are_partly_masked(ip, masked):
    assert ip_masked(ip) == masked


def test_not_me_on_a_delegation_grant_withdraws_it_and_tells_the_partner(client, signed_in):
    from moncompte.households.delegation import delegation_grant
    from moncompte.households.models import Delegation

    partner = AccountFactory(person__sex="F")
    MembershipFactory(case=signed_in.case, person=partner.person, role=Role.PARTNER)
    delegation_grant(case=signed_in.case, holder=signed_in.person, partner=partner.person)
    grant = Entry.objects.get(kind="delegation.granted")

    response = client.post(REPORT, {"entry": grant.pk})

    assert response.status_code == 200
    assert not Delegation.objects.filter(revoked_at__isnull=True).exists()
    assert Entry.objects.get(kind="security.reported").after["delegation_withdrawn"] is True
    assert OutboxMessage.objects.filter(template="households/notices/delegation_revoked", to=partner.email).exists()
