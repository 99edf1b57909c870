"""Issue 11, item 6, in Chromium: someone without a NIR signs in with their provisional identifier; an agent links
their NIR in the admin; they sign in with the NIR, and the provisional identifier no longer works. The page itself
passes axe-core, with and without JavaScript, at desktop and phone widths."""

import re

import pytest
from playwright.sync_api import Page, expect

from moncompte.accounts import agents
from moncompte.accounts.models import Account
from moncompte.households.models import Role
from moncompte.identity.models import Person
from moncompte.identity.nir import nir_grouped, nir_key
from moncompte.identity.provisional import new_provisional_id, provisional_grouped
from moncompte.messaging.models import OutboxMessage
from tests.agents import AGENT_PASSWORD, SECOND_FACTOR, agent_make, totp_next_code
from tests.browser.axe import MODE_IDS, MODES
from tests.browser.helpers import PASSWORD_LABEL, click, field, login, sign_out
from tests.factories import AccountFactory, CaseFactory, MembershipFactory, PersonFactory, make_nir

AGENT_LOGIN = "agent-accueil-lyon"
PAGE = "/identifiant-provisoire/"
FAILED = "Identifiant provisoire ou mot de passe incorrect."
LINKED = "Votre numéro de Sécurité sociale a été rattaché à votre compte"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def provisional_login(page: Page, identifier: str, password: str) -> None:
    page.goto("/connexion/")
    page.get_by_role("link", name="J'ai un identifiant provisoire").click()
    expect(heading(page)).to_have_text("J'ai un identifiant provisoire")
    field(page, "Identifiant provisoire").fill(identifier)
    field(page, PASSWORD_LABEL).fill(password)
    click(page, "Se connecter")


def make_agent() -> Account:
    """A counter agent with their authenticator application enrolled: allowed to see and change people in the admin,
    nothing else (no role, no superuser)."""
    return agent_make(AGENT_LOGIN, permissions=("identity.view_person", "identity.change_person"))


def agent_signs_in(page: Page, agent: Account) -> None:
    """The admin sends a signed-out agent to the desk's login: the password, then the application's code; back to
    the admin page asked for."""
    expect(page).to_have_url(re.compile(r"/guichet/connexion/\?next="))
    field(page, "Identifiant").fill(agent.login_id)
    field(page, "Mot de passe").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    expect(page).to_have_url(re.compile(rf"{SECOND_FACTOR}$"))
    field(page, "Code").fill(totp_next_code(agents.totp_confirmed(agent)))
    page.get_by_role("button", name="Me connecter").click()


def test_a_provisional_id_holder_signs_in_is_linked_to_a_nir_then_signs_in_with_it(
    open_page, new_context, transactional_db
):
    person = PersonFactory(
        nir=None, provisional_id=new_provisional_id(), sex="F", birth_name="Ndiayeprov", given_names="Awa"
    )
    MembershipFactory(case=CaseFactory(), person=person, role=Role.HOLDER)
    account = AccountFactory(person=person, login_id=person.provisional_id)
    provisional_id = person.provisional_id
    agent = make_agent()

    # She signs in with the identifier as printed on the agency's letter, typed in lower case.
    page = open_page()
    provisional_login(page, provisional_grouped(provisional_id).lower(), account.raw_password)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    page.goto("/mon-espace/mes-informations/")
    expect(page.get_by_role("main")).to_contain_text(provisional_id)
    sign_out(page)

    # An agent links her NIR in the admin (signed in at the desk's login, with the second factor): the action, then
    # its form.
    nir = make_nir(sex="2", year=person.birth_date.year, seq=7731)
    agent_page = new_context().new_page()  # the admin's pages are Django's (see test_separation.py)
    agent_page.goto(f"/admin/identity/person/?q={person.birth_name}")
    agent_signs_in(agent_page, agent)
    expect(agent_page).to_have_url(re.compile(rf"/admin/identity/person/\?q={person.birth_name}$"))
    row = agent_page.get_by_role("row").filter(has_text=person.birth_name)
    row.get_by_role("checkbox").check()
    agent_page.locator("select[name=action]").select_option(label="Rattacher un NIR")
    agent_page.get_by_role("button", name="Envoyer").click()
    expect(agent_page.get_by_role("heading", name="Rattacher un NIR")).to_be_visible()
    expect(agent_page.locator("#content-main")).to_contain_text(provisional_grouped(provisional_id))
    field(agent_page, "Numéro de Sécurité sociale, avec la clé").fill(nir_grouped(f"{nir}{nir_key(nir):02d}"))
    field(agent_page, "Motif").fill("Attestation de droits présentée au guichet")
    agent_page.get_by_role("button", name="Rattacher ce NIR").click()
    expect(agent_page.locator(".messagelist")).to_contain_text("NIR rattaché")
    expect(agent_page.locator("body")).not_to_contain_text(nir)  # masked in the admin

    person = Person.objects.get(pk=person.pk)
    assert (person.nir, person.provisional_id, person.retired_provisional_id) == (nir, None, provisional_id)
    notice = OutboxMessage.objects.get(template="accounts/notices/nir_linked")
    assert notice.to == account.email and "connectez-vous avec votre numéro de Sécurité sociale" in notice.body

    # The provisional identifier no longer signs in: the usual failure, which points to the NIR.
    other = open_page()
    provisional_login(other, provisional_id, account.raw_password)
    expect(other.get_by_role("alert")).to_contain_text(FAILED)
    expect(other.get_by_role("alert")).to_contain_text("connectez-vous avec votre numéro de Sécurité sociale")
    expect(other).to_have_url(re.compile(r"/identifiant-provisoire/$"))

    # The NIR does, with her usual password; her security history says why.
    login(other, nir, account.raw_password)
    expect(other).to_have_url(re.compile(r"/mon-espace/$"))
    other.goto("/mon-espace/securite/")
    expect(other.get_by_role("main")).to_contain_text(LINKED)


@pytest.mark.parametrize(("viewport", "javascript"), MODES, ids=MODE_IDS)
def test_axe_finds_nothing_serious_on_the_provisional_id_page(axe_scan, viewport, javascript, transactional_db):
    person = PersonFactory(nir=None, provisional_id=new_provisional_id())
    AccountFactory(person=person, login_id=person.provisional_id)
    axe = axe_scan(viewport, javascript)
    page = axe.page

    axe.goto(PAGE, "provisional id login")
    click(page, "Se connecter")
    axe.check("provisional id login, empty form sent")
    expect(page.locator("#id_identifier-messages")).to_have_text("Saisissez votre identifiant provisoire.")
    field(page, "Identifiant provisoire").fill("P 12345 67890 00")
    click(page, "Se connecter")
    expect(field(page, "Identifiant provisoire")).to_have_attribute("aria-invalid", "true")
    axe.check("provisional id login, wrong key")
    field(page, "Identifiant provisoire").fill(person.provisional_id)
    field(page, PASSWORD_LABEL).fill("Pas-le-bon-1")
    click(page, "Se connecter")
    expect(page.get_by_role("alert")).to_contain_text(FAILED)
    axe.check("provisional id login, wrong password")
    axe.assert_clean()
