"""The security pages of « Mes informations » at their edges (found in the review of issue 3; each test failed before
its fix): the security history shows a partner the delegation events that concern them, not a former partner's;
adding a first mobile is told as added, not replaced; the « Ce n'était pas moi » link moves its token out of the
address bar and its page refuses to act without it."""

import re

import pytest
from django.test import Client

from moncompte.accounts.models import Account, SecurityReport
from moncompte.households.delegation import delegation_grant
from moncompte.households.models import Membership, Role
from moncompte.messaging.models import OutboxMessage
from tests.factories import AccountFactory, MembershipFactory, PersonFactory, family
from tests.helpers import last_code, page_text, sign_in_as


def new_client():
    return Client(HTTP_HOST="localhost")


# --- Security history: a partner sees the delegation events that concern them, not a former partner's ----------------


@pytest.mark.django_db
def test_a_new_partner_does_not_see_the_delegation_history_of_the_former_partner(client):
    home = family()
    with_actor = home.holder  # the grant is recorded about the holder, as the delegation page does
    delegation_grant(case=home.case, holder=with_actor, partner=home.partner)
    Membership.objects.filter(case=home.case, person=home.partner).delete()
    newcomer = AccountFactory(person=PersonFactory(sex="F"))
    MembershipFactory(case=home.case, person=newcomer.person, role=Role.PARTNER)

    sign_in_as(client, newcomer, newcomer.raw_password)
    newcomer_history = page_text(client.get("/mon-espace/securite/"))
    holder_client = sign_in_as(new_client(), home.holder_account, home.holder_account.raw_password)
    holder_history = page_text(holder_client.get("/mon-espace/securite/"))

    assert "Délégation" not in newcomer_history
    assert "Délégation" in holder_history


@pytest.mark.django_db
def test_a_partner_still_sees_the_delegation_granted_to_them(client):
    home = family()
    delegation_grant(case=home.case, holder=home.holder, partner=home.partner)

    sign_in_as(client, home.partner_account, home.partner_account.raw_password)

    assert "Délégation" in page_text(client.get("/mon-espace/securite/"))


# --- Contact change: adding a mobile is not "replacing" one ----------------------------------------------------------


@pytest.mark.django_db
def test_adding_a_first_mobile_tells_the_email_it_was_added_not_replaced(client, migrated):
    sign_in_as(client, migrated, migrated.raw_password)
    assert client.post("/mon-espace/coordonnees/mobile/", {"value": "06 12 34 56 78"}).status_code == 302
    assert client.post("/mon-espace/coordonnees/code/", {"code": last_code(to="+33612345678")}).status_code == 302

    notice = OutboxMessage.objects.get(template="accounts/notices/contact_changed_old")

    assert notice.to == migrated.email
    assert "remplacé" not in notice.body + notice.subject
    assert "ajouté" in notice.body and "ajouté" in notice.subject
    assert re.search(r"/ce-n-etait-pas-moi/[^/\s]+/", notice.body)


# --- "Ce n'était pas moi": the link's token leaves the address bar ---------------------------------------------------


@pytest.mark.django_db
def test_the_not_me_link_moves_its_token_out_of_the_address_and_the_page_acts_from_the_session(client, migrated):
    sign_in_as(client, migrated, migrated.raw_password)
    assert client.post("/mon-espace/coordonnees/email/", {"value": "autre@exemple.fr"}).status_code == 302
    assert client.post("/mon-espace/coordonnees/code/", {"code": last_code(to="autre@exemple.fr")}).status_code == 302
    body = OutboxMessage.objects.get(template="accounts/notices/contact_changed_old").body
    link = re.search(r"http://localhost(/ce-n-etait-pas-moi/[^/\s]+/)", body).group(1)
    token = link.split("/")[-2]
    visitor = new_client()

    opened = visitor.get(link)
    page = visitor.get(opened["Location"])

    assert opened.status_code == 302 and opened["Location"] == "/ce-n-etait-pas-moi/confirmer/"
    assert page.status_code == 200 and token not in page.content.decode()
    assert "Confirmer : ce n'était pas moi" in page_text(page)
    assert not SecurityReport.objects.exists()
    done = visitor.post("/ce-n-etait-pas-moi/confirmer/")
    assert done.status_code == 200 and "Votre signalement est enregistré" in page_text(done)
    assert SecurityReport.objects.get().account_id == migrated.pk
    assert Account.objects.get(pk=migrated.pk).email == migrated.email  # the old address is back


@pytest.mark.django_db
def test_the_not_me_placeholder_without_a_link_opened_is_a_french_refusal_that_changes_nothing(client, migrated):
    for method in ("get", "post"):
        response = getattr(new_client(), method)("/ce-n-etait-pas-moi/confirmer/")
        assert response.status_code == 400
        assert "Lien non valide" in page_text(response)
    assert not SecurityReport.objects.exists()
