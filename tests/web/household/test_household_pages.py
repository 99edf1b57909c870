""" "Mon foyer": each member sees what the access policy lets them see of their case, and is told what they cannot
see and why; the agents' admin lists delegations, signup requests, invitations and separations read-only."""

import datetime
import html
import re

import pytest
from django.utils import timezone

from moncompte.households.models import Delegation, DelegationOrigin, Invitation, Role, SignupRequest
from moncompte.households.separation import separation_declare
from tests.agents import agent_client, agent_make
from tests.factories import AccountFactory, MembershipFactory, PersonFactory, family
from tests.helpers import page_text

pytestmark = pytest.mark.django_db
NIR_BACKEND = "moncompte.accounts.authentication.NirBackend"


def sign_in(client, account):
    client.force_login(account, backend=NIR_BACKEND)
    return client


def member_rows(response) -> list[str]:
    """The text of each row of the members table."""
    html = response.content.decode()
    return [page_text_of(row) for row in re.findall(r'<tr data-testid="member">(.*?)</tr>', html, flags=re.S)]


def page_text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def young_child(case):
    """A child of 10: too young for an account, never invited."""
    born = timezone.localdate().replace(year=timezone.localdate().year - 10)
    return MembershipFactory(case=case, role=Role.CHILD, person=PersonFactory(birth_date=born)).person


def test_the_holder_sees_every_member_their_account_and_whom_to_invite(client):
    f = family(children=2)
    AccountFactory(person=f.children[1])
    young = young_child(f.case)
    sign_in(client, f.holder_account)
    response = client.get("/mon-foyer/")
    assert response.status_code == 200
    rows = member_rows(response)
    assert len(rows) == 5
    by_name = {
        person.full_name: next(r for r in rows if person.full_name in r)
        for person in (f.holder, f.partner, *f.children, young)
    }
    assert "Allocataire" in by_name[f.holder.full_name] and "vous" in by_name[f.holder.full_name]
    assert "Conjoint" in by_name[f.partner.full_name] and "a un compte" in by_name[f.partner.full_name]
    assert f.children[0].birth_date.strftime("%d/%m/%Y") in by_name[f.children[0].full_name]
    assert "pas encore de compte" in by_name[f.children[0].full_name]
    assert "a un compte" in by_name[f.children[1].full_name]
    body = response.content.decode()
    # An invitation for the child of 16 without an account; none for the others (account already, or under 15).
    assert f"/mon-foyer/{f.case.case_number}/inviter/{f.children[0].pk}/" in body
    for person in (f.holder, f.partner, f.children[1], young):
        assert f"/inviter/{person.pk}/" not in body
    text = page_text(response)
    assert "Votre conjoint n'a pas la délégation" in text
    assert "Gérer la délégation" in text and "Déclarer une séparation" in text
    assert response["Cache-Control"].count("no-store") and "private" in response["Cache-Control"]


def test_the_holder_sees_pending_signup_requests_with_a_link_to_decide(client):
    f = family()
    request = SignupRequest.objects.create(case=f.case, person=f.children[0], medium="email", destination="x@y.fr")
    SignupRequest.objects.create(
        case=f.case, person=f.partner, medium="email", destination="z@y.fr", status=SignupRequest.Status.REFUSED
    )
    sign_in(client, f.holder_account)
    response = client.get(f"/mon-foyer/{f.case.case_number}/")
    text = page_text(response)
    assert f"{f.children[0].full_name} a demandé le" in text
    assert f"{f.partner.full_name} a demandé" not in text
    assert f"/mon-foyer/{f.case.case_number}/demandes/{request.pk}/" in response.content.decode()


def test_a_delegated_partner_sees_the_household_but_manages_neither_delegation_nor_invitations(client):
    f = family(delegated=True)
    SignupRequest.objects.create(case=f.case, person=f.children[0], medium="email", destination="x@y.fr")
    sign_in(client, f.partner_account)
    response = client.get("/mon-foyer/")
    text = page_text(response)
    assert f.holder.full_name in text and f.children[0].full_name in text
    assert "Vous avez la délégation de l'allocataire depuis le" in text
    assert "Votre accès à ce dossier est limité" not in text
    assert "Gérer la délégation" not in text and "/inviter/" not in response.content.decode()
    assert "a demandé le" not in text  # approving signups is the holder's
    assert "Déclarer une séparation" in text


def test_a_partner_without_delegation_sees_their_own_line_and_why_no_more(client):
    f = family()
    sign_in(client, f.partner_account)
    response = client.get(f"/mon-foyer/{f.case.case_number}/")
    assert response.status_code == 200
    rows = member_rows(response)
    assert len(rows) == 1 and f.partner.full_name in rows[0]
    body = response.content.decode()
    for person in (f.holder, f.children[0]):
        assert person.birth_name not in body and person.given_names not in body
    text = page_text(response)
    assert "Votre accès à ce dossier est limité" in text
    assert "l'allocataire ne vous a pas donné de délégation" in text
    assert "Gérer la délégation" not in text and "Déclarer une séparation" in text


def test_a_child_sees_their_own_line_and_the_limits(client):
    f = family(delegated=True)
    sign_in(client, AccountFactory(person=f.children[0]))
    response = client.get("/mon-foyer/")
    rows = member_rows(response)
    assert len(rows) == 1 and f.children[0].full_name in rows[0] and "Enfant" in rows[0]
    text = page_text(response)
    assert "réservés à l'allocataire" in text
    assert f.holder.birth_name not in text and f.partner.birth_name not in text
    assert "Déclarer une séparation" not in text and "Délégation" not in text


def test_the_holder_is_told_a_delegation_came_from_the_shared_pin(client):
    f = family()
    Delegation.objects.create(case=f.case, partner=f.partner, origin=DelegationOrigin.CASE_PIN)
    sign_in(client, f.holder_account)
    text = page_text(client.get("/mon-foyer/"))
    assert f"Votre conjoint, {f.partner.full_name}, a la délégation depuis le" in text
    assert "première connexion avec le mot de passe du dossier" in text


def test_a_case_without_a_partner_says_no_delegation_is_possible(client):
    f = family(partner=False)
    sign_in(client, f.holder_account)
    assert "il n'y a pas de délégation possible" in page_text(client.get("/mon-foyer/"))


def test_a_person_in_two_cases_sees_both(client):
    f = family()
    second = family()
    MembershipFactory(case=second.case, person=f.holder, role=Role.OTHER)
    sign_in(client, f.holder_account)
    text = page_text(client.get("/mon-foyer/"))
    assert f"Dossier n° {f.case.case_number}" in text and f"Dossier n° {second.case.case_number}" in text
    assert second.holder.birth_name not in text  # in the second case they are "other": own data only


def test_a_person_with_no_case_is_told_so(client):
    sign_in(client, AccountFactory())
    assert "Vous n'êtes rattaché à aucun dossier" in page_text(client.get("/mon-foyer/"))


def test_a_foreign_or_unknown_case_number_is_a_404_with_a_french_page(client):
    f, other = family(), family()
    sign_in(client, f.holder_account)
    for case_number in (other.case.case_number, "0000000", "not-a-case", "<script>"):
        response = client.get(f"/mon-foyer/{case_number}/")
        assert response.status_code == 404, case_number
        assert "Page introuvable" in page_text(response)
        assert other.holder.birth_name not in page_text(response)


def test_signed_out_people_and_agents_are_sent_elsewhere(client):
    f = family()
    for path in ("/mon-foyer/", f"/mon-foyer/{f.case.case_number}/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/connexion/")
    agent = agent_make("agent-foyer", superuser=True)
    agent_client(agent, client)
    assert client.get("/mon-foyer/")["Location"] == "/admin/"
    assert client.get(f"/mon-foyer/{f.case.case_number}/").status_code == 404


def test_the_household_pages_only_answer_get(client):
    f = family()
    sign_in(client, f.holder_account)
    assert client.post("/mon-foyer/").status_code == 405
    assert client.post(f"/mon-foyer/{f.case.case_number}/").status_code == 405


# --- Admin -----------------------------------------------------------------------------------------------------------


def test_agents_list_delegations_signup_requests_invitations_and_separations_read_only(client):
    f = family(delegated=True)
    SignupRequest.objects.create(case=f.case, person=f.children[0], medium="email", destination="x@y.fr")
    invitation = Invitation.objects.create(
        case=f.case,
        person=f.children[0],
        created_by=f.holder,
        medium="email",
        destination="enfant@exemple.fr",
        token_hash="f" * 64,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    separation = separation_declare(
        case=f.case,
        declared_by=f.holder,
        leaving=f.partner,
        separation_date=timezone.localdate(),
        new_address="1 place du Marché\n13001 Marseille",
        children={f.children[0].pk: "staying"},
    )
    agent = agent_make("agent-lists", superuser=True)
    agent_client(agent, client)
    for model, obj in [
        ("delegation", Delegation.objects.get()),
        ("signuprequest", SignupRequest.objects.get()),
        ("invitation", invitation),
        ("separationrequest", separation),
    ]:
        for path in (f"/admin/households/{model}/", f"/admin/households/{model}/{obj.pk}/change/"):
            response = client.get(path)
            assert response.status_code == 200, path
            body = response.content.decode()
            assert "f" * 64 not in body and f.holder.nir not in body and f.children[0].nir not in body
        assert client.get(f"/admin/households/{model}/add/").status_code == 403
        assert client.post(f"/admin/households/{model}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Delegation.objects.count() == 1 and Invitation.objects.count() == 1
