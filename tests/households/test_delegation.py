"""Delegation to the partner: granted and revoked by the holder only, after re-authentication, both notified,
journaled and undoable; a partner who migrates with the case PIN starts with it."""

import time

import pytest

from moncompte.accounts.sessions import SESSION_AUTH_AT
from moncompte.households.delegation import (
    DelegationError,
    delegation_grant,
    delegation_grant_from_case_pin,
    delegation_revoke,
)
from moncompte.households.models import Delegation, DelegationOrigin, Membership, Role
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from tests.factories import AccountFactory, CaseFactory, family
from tests.helpers import errors, page_text

pytestmark = pytest.mark.django_db
NIR_BACKEND = "moncompte.accounts.authentication.NirBackend"


def url(case, page="delegation/"):
    return f"/mon-foyer/{case.case_number}/{page}"


def sign_in(client, account, *, recent=True):
    client.force_login(account, backend=NIR_BACKEND)
    if not recent:
        session = client.session
        session[SESSION_AUTH_AT] = time.time() - 3600  # the password was typed an hour ago
        session.save()
    return client


def active(case):
    return Delegation.objects.filter(case=case, revoked_at__isnull=True).first()


def outbox_to(person):
    return OutboxMessage.objects.filter(person_id=person.pk)


# --- Services --------------------------------------------------------------------------------------------------------


def test_granting_creates_the_delegation_journals_it_and_tells_both():
    f = family()
    delegation = delegation_grant(case=f.case, holder=f.holder, partner=f.partner)

    assert active(f.case) == delegation
    assert delegation.origin == DelegationOrigin.HOLDER and delegation.granted_by == f.holder
    entry = Entry.objects.get(kind="delegation.granted")
    assert entry.person_id == f.holder.pk and entry.case_number == f.case.case_number
    assert entry.after["partner"] == f.partner.pk and entry.after["delegation"] == delegation.pk
    assert journal.is_reversible("delegation.granted")
    for person in (f.holder, f.partner):
        message = outbox_to(person).get(template="households/notices/delegation_granted")
        assert f.case.case_number in message.body and message.subject
    assert "vous avez accordé" in outbox_to(f.holder).get().body
    assert "l'allocataire vous a accordé" in outbox_to(f.partner).get().body


def test_revoking_ends_the_delegation_journals_it_and_tells_both():
    f = family(delegated=True)
    delegation = delegation_revoke(case=f.case, holder=f.holder)

    assert active(f.case) is None
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None and delegation.revoked_by == f.holder
    entry = Entry.objects.get(kind="delegation.revoked")
    assert entry.before["revoked_at"] is None and entry.after["revoked_at"]
    assert outbox_to(f.holder).filter(template="households/notices/delegation_revoked").exists()
    assert outbox_to(f.partner).filter(template="households/notices/delegation_revoked").exists()


def test_only_the_holder_grants_only_to_the_partner_and_only_once():
    f = family()
    with pytest.raises(DelegationError):
        delegation_grant(case=f.case, holder=f.partner, partner=f.partner)
    with pytest.raises(DelegationError):
        delegation_grant(case=f.case, holder=f.holder, partner=f.children[0])
    stranger = AccountFactory().person
    with pytest.raises(DelegationError):
        delegation_grant(case=f.case, holder=f.holder, partner=stranger)
    delegation_grant(case=f.case, holder=f.holder, partner=f.partner)
    with pytest.raises(DelegationError, match="déjà"):
        delegation_grant(case=f.case, holder=f.holder, partner=f.partner)
    assert Delegation.objects.count() == 1


def test_revoking_needs_the_holder_and_a_running_delegation():
    f = family()
    with pytest.raises(DelegationError, match="Aucune délégation"):
        delegation_revoke(case=f.case, holder=f.holder)
    f = family(delegated=True)
    with pytest.raises(DelegationError):
        delegation_revoke(case=f.case, holder=f.partner)
    assert active(f.case) is not None


def test_undoing_a_grant_revokes_it_and_undoing_a_revocation_restores_it():
    f = family()
    delegation_grant(case=f.case, holder=f.holder, partner=f.partner)
    journal.undo(Entry.objects.get(kind="delegation.granted"))
    assert active(f.case) is None

    delegation = delegation_grant(case=f.case, holder=f.holder, partner=f.partner)
    delegation_revoke(case=f.case, holder=f.holder)
    journal.undo(Entry.objects.get(kind="delegation.revoked"))
    assert active(f.case) == delegation
    assert Entry.objects.filter(kind="delegation.revoked.undone").exists()


def test_undoing_a_grant_already_revoked_changes_nothing():
    f = family()
    delegation_grant(case=f.case, holder=f.holder, partner=f.partner)
    revoked = delegation_revoke(case=f.case, holder=f.holder)
    journal.undo(Entry.objects.get(kind="delegation.granted"))
    revoked.refresh_from_db()
    assert revoked.revoked_by == f.holder and active(f.case) is None


def test_a_revocation_is_not_undone_for_someone_who_is_no_longer_the_partner():
    f = family(delegated=True)
    delegation_revoke(case=f.case, holder=f.holder)
    Membership.objects.filter(case=f.case, person=f.partner).update(role=Role.OTHER)
    with pytest.raises(journal.UndoError):
        journal.undo(Entry.objects.get(kind="delegation.revoked"))
    assert active(f.case) is None


# --- The case PIN migration hook -------------------------------------------------------------------------------------


def pin_login(client, person, case):
    return client.post("/connexion/", {"identifier": person.nir, "password": case.pin})


def test_a_partner_who_migrates_with_the_case_pin_starts_with_the_delegation_and_the_holder_is_told(client, household):
    AccountFactory(person=household.holder)  # the holder migrated before and validated an e-mail
    response = pin_login(client, household.partner, household.case)
    assert response.status_code == 302

    delegation = active(household.case)
    assert delegation.partner == household.partner and delegation.origin == DelegationOrigin.CASE_PIN
    entry = Entry.objects.get(kind="delegation.granted")
    assert entry.after["origin"] == "case_pin" and entry.person_id == household.partner.pk
    assert entry.actor_account_id == household.partner.account.pk
    notice = outbox_to(household.holder).get(template="households/notices/delegation_from_pin")
    assert household.case.case_number in notice.body and "retirez-lui la délégation" in notice.body


def test_the_holder_migrating_with_the_case_pin_grants_nothing(client, household):
    pin_login(client, household.holder, household.case)
    assert household.holder.account and not Delegation.objects.exists()


def test_a_holder_decision_made_before_is_not_overridden_by_the_shared_pin(client, household):
    holder_account = AccountFactory(person=household.holder)
    delegation_grant(case=household.case, holder=holder_account.person, partner=household.partner)
    delegation_revoke(case=household.case, holder=holder_account.person)
    pin_login(client, household.partner, household.case)
    assert household.partner.account and active(household.case) is None


def test_the_pin_hook_does_nothing_for_a_child_or_an_outsider(household):
    assert delegation_grant_from_case_pin(case=household.case, partner=household.child) is None
    assert delegation_grant_from_case_pin(case=CaseFactory(), partner=household.partner) is None
    assert not Delegation.objects.exists()


# --- The page --------------------------------------------------------------------------------------------------------


def test_the_holder_grants_then_revokes_the_delegation_from_the_page(client):
    f = family()
    sign_in(client, f.holder_account)
    response = client.get(url(f.case))
    assert response.status_code == 200
    assert f"Accorder la délégation à {f.partner.full_name}" in page_text(response)

    response = client.post(url(f.case), {"action": "grant", "partner": f.partner.pk}, follow=True)
    assert response.status_code == 200
    assert "La délégation est accordée" in page_text(response)
    assert active(f.case).partner == f.partner
    assert "Retirer la délégation" in page_text(response)

    response = client.post(url(f.case), {"action": "revoke"}, follow=True)
    assert "La délégation de" in page_text(response) and "est retirée" in page_text(response)
    assert active(f.case) is None


def test_changing_the_delegation_needs_a_recent_password_entry(client):
    f = family()
    sign_in(client, f.holder_account, recent=False)
    response = client.get(url(f.case))
    assert response.status_code == 302
    assert (
        response["Location"]
        == f"/mon-espace/confirmer-mot-de-passe/?next=%2Fmon-foyer%2F{f.case.case_number}%2Fdelegation%2F"
    )

    response = client.post(url(f.case), {"action": "grant", "partner": f.partner.pk})
    assert response.status_code == 302 and "confirmer-mot-de-passe" in response["Location"]
    assert not Delegation.objects.exists()

    response = client.post(response["Location"], {"password": f.holder_account.raw_password})
    assert response["Location"] == url(f.case)
    client.post(url(f.case), {"action": "grant", "partner": f.partner.pk})
    assert active(f.case).partner == f.partner


@pytest.mark.parametrize("delegated", [False, True])
def test_a_partner_cannot_revoke_or_grant_the_delegation(client, delegated):
    f = family(delegated=delegated)
    sign_in(client, f.partner_account)
    for data in ({"action": "revoke"}, {"action": "grant", "partner": f.partner.pk}):
        response = client.post(url(f.case), data)
        assert response.status_code == 403
        assert "Seul l'allocataire du dossier peut accorder ou retirer la délégation" in page_text(response)
    assert (active(f.case) is not None) == delegated
    assert not Entry.objects.filter(kind__startswith="delegation.").exists()


def test_a_partner_sees_where_they_stand_without_the_household(client):
    f = family()
    sign_in(client, f.partner_account)
    response = client.get(url(f.case))
    assert response.status_code == 200
    text = page_text(response)
    assert "Vous n'avez pas la délégation" in text and f.holder.full_name not in text
    f = family(delegated=True)
    sign_in(client, f.partner_account)
    assert "Vous avez la délégation de l'allocataire" in page_text(client.get(url(f.case)))


def test_a_child_is_told_delegation_is_not_theirs_and_cannot_change_it(client):
    f = family(delegated=True)
    child_account = AccountFactory(person=f.children[0])
    sign_in(client, child_account)
    response = client.get(url(f.case))
    assert response.status_code == 200 and "Elle ne concerne pas les autres membres" in page_text(response)
    assert client.post(url(f.case), {"action": "revoke"}).status_code == 403
    assert active(f.case) is not None


def test_a_foreign_or_unknown_case_number_is_a_404_and_changes_nothing(client):
    f, other = family(), family(delegated=True)
    sign_in(client, f.holder_account)
    for case_number in (other.case.case_number, "0000000", "abc", "1" * 40, "%00"):
        for response in (
            client.get(f"/mon-foyer/{case_number}/delegation/"),
            client.post(f"/mon-foyer/{case_number}/delegation/", {"action": "revoke"}),
        ):
            assert response.status_code == 404, case_number
            assert "Page introuvable" in page_text(response)
    assert active(other.case) is not None


def test_granting_to_someone_who_is_not_the_partner_of_the_case_is_refused(client):
    f, other = family(), family()
    stranger = AccountFactory().person
    sign_in(client, f.holder_account)
    for partner_id in (other.partner.pk, stranger.pk, f.children[0].pk, f.holder.pk, 0, -4, "x", "9" * 30, ""):
        response = client.post(url(f.case), {"action": "grant", "partner": partner_id})
        assert response.status_code == 400, partner_id
        assert errors(response), partner_id
    assert "Cette personne n'est pas le conjoint de ce dossier." in page_text(
        client.post(url(f.case), {"action": "grant", "partner": other.partner.pk})
    )
    assert not Delegation.objects.exists()


def test_a_case_without_a_partner_has_nobody_to_delegate_to(client):
    f = family(partner=False)
    sign_in(client, f.holder_account)
    response = client.get(url(f.case))
    assert response.status_code == 200
    assert "il n'y a personne à qui déléguer" in page_text(response)
    response = client.post(url(f.case), {"action": "grant", "partner": f.holder.pk})
    assert response.status_code == 400 and not Delegation.objects.exists()
    response = client.post(url(f.case), {"action": "revoke"})
    assert response.status_code == 400 and "Aucune délégation" in page_text(response)


def test_bad_requests_on_the_delegation_page_change_nothing(client):
    f = family()
    sign_in(client, f.holder_account)
    assert client.post(url(f.case), {}).status_code == 400
    assert client.post(url(f.case), {"action": "everything"}).status_code == 400
    assert client.get(url(f.case), {"action": "grant", "partner": f.partner.pk}).status_code == 200
    assert client.put(url(f.case)).status_code == 405
    assert client.delete(url(f.case)).status_code == 405
    delegation_grant(case=f.case, holder=f.holder, partner=f.partner)
    response = client.post(url(f.case), {"action": "grant", "partner": f.partner.pk})
    assert response.status_code == 400 and "déjà la délégation" in page_text(response)
    assert Delegation.objects.count() == 1


def test_signed_out_people_are_sent_to_the_login_page(client):
    f = family()
    response = client.post(url(f.case), {"action": "grant", "partner": f.partner.pk})
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")
    assert not Delegation.objects.exists()


def test_after_a_grant_the_partner_sees_the_whole_household(client):
    f = family()
    sign_in(client, f.partner_account)
    assert f.children[0].full_name not in page_text(client.get("/mon-foyer/"))
    delegation_grant(case=f.case, holder=f.holder, partner=f.partner)
    text = page_text(client.get("/mon-foyer/"))
    assert f.children[0].full_name in text and f.holder.full_name in text
