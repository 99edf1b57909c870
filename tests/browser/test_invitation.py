"""Invitation by the holder (issue 3, item 2) end to end in Chromium: from "Mon foyer", by e-mail, to the invitee's
dashboard; the link then no longer works."""

import re

from playwright.sync_api import Page, expect

from moncompte.accounts.models import Account
from moncompte.households.models import Role
from moncompte.messaging.models import OutboxMessage
from tests.browser.helpers import choose, click, field, login, set_new_password
from tests.factories import AccountFactory, CaseFactory, MembershipFactory, PersonFactory

NEW_PASSWORD = "Kq7-Wz3-Xv9m"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_the_holder_invites_a_child_who_opens_the_account_from_the_link(open_page, transactional_db):
    case = CaseFactory()
    holder = AccountFactory()
    MembershipFactory(case=case, person=holder.person, role=Role.HOLDER)
    child = PersonFactory(child=True, given_names="Tom")
    MembershipFactory(case=case, person=child, role=Role.CHILD)

    holder_page = open_page()
    login(holder_page, holder.person.nir, holder.raw_password)
    holder_page.goto("/mon-foyer/")
    holder_page.get_by_role("link", name=f"Inviter {child.first_name} à créer son compte").click()
    expect(heading(holder_page)).to_have_text(f"Inviter {child.full_name} à créer son compte")
    # The invitation goes to the address the Caf holds for the child (issue 8, item 2), offered first, masked.
    choose(holder_page, "Par e-mail, à son adresse connue de la Caf")
    click(holder_page, "Envoyer l'invitation")
    expect(holder_page).to_have_url(re.compile(r"/mon-foyer/$"))
    expect(holder_page.get_by_role("status")).to_contain_text("L'invitation est envoyée à")
    expect(holder_page.get_by_role("status")).not_to_contain_text(child.email_on_file)

    message = OutboxMessage.objects.get(to=child.email_on_file)
    link = re.search(r"http://[^/\s]+(/invitation/\S+/)", message.body).group(1)

    invitee_page = open_page()
    invitee_page.goto(link)
    expect(invitee_page).to_have_url(re.compile(r"/invitation/confirmer/$"))  # the token left the address bar
    expect(invitee_page.get_by_role("main")).to_contain_text(f"{holder.person.full_name} vous invite")
    # A wrong birth date first: the page says so and the link keeps working.
    field(invitee_page, "Date de naissance").fill(child.birth_date.replace(year=child.birth_date.year - 1).isoformat())
    set_new_password(invitee_page, NEW_PASSWORD)
    click(invitee_page, "Créer mon compte")
    expect(invitee_page.locator(".fr-message--error")).to_contain_text("n'est pas celle de la personne invitée")
    field(invitee_page, "Date de naissance").fill(child.birth_date.isoformat())
    set_new_password(invitee_page, NEW_PASSWORD)
    click(invitee_page, "Créer mon compte")

    expect(invitee_page).to_have_url(re.compile(r"/premiere-connexion/bienvenue/$"))
    for _ in range(2):
        invitee_page.get_by_role("link", name="Suivant").click()
    click(invitee_page, "Accéder à mon espace")
    expect(invitee_page).to_have_url(re.compile(r"/mon-espace/$"))
    expect(heading(invitee_page)).to_have_text(f"Bonjour {child.first_name} {child.last_name}")
    account = Account.objects.get(person=child)
    assert account.email == child.email_on_file and account.email_verified_at is not None
    assert OutboxMessage.objects.filter(to=holder.email, template__endswith="member_account_created").exists()

    # The holder's page now shows the account; the link no longer works.
    holder_page.goto("/mon-foyer/")
    expect(holder_page.get_by_role("link", name=f"Inviter {child.first_name} à créer son compte")).to_have_count(0)
    again = open_page()
    again.goto(link)
    expect(heading(again)).to_have_text("Ce lien ne fonctionne pas")
