"""Member signup from the login page (issue 3, item 1), as people do it in Chromium: with a code sent to the e-mail the
agency holds; and, with no contact on file, a request the holder approves before the member sets a password."""

import re

from playwright.sync_api import Page, expect

from moncompte.households.models import Role, SignupRequest
from moncompte.messaging.models import OutboxMessage
from tests.browser.helpers import choose, click, field, login, set_new_password, spaced
from tests.factories import AccountFactory, CaseFactory, MembershipFactory, PersonFactory
from tests.helpers import last_code

NEW_PASSWORD = "Kq7-Wz3-Xv9m"
TYPED_EMAIL = "lea.perso@exemple.fr"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def household(*, child_contacts: bool = True):
    case = CaseFactory()
    holder = AccountFactory()
    MembershipFactory(case=case, person=holder.person, role=Role.HOLDER)
    child = PersonFactory(child=True, given_names="Léa Marie")
    if not child_contacts:
        child.email_on_file = child.mobile_on_file = ""
        child.save()
    MembershipFactory(case=case, person=child, role=Role.CHILD)
    return case, holder, child


def fill_start_page(page: Page, child) -> None:
    page.goto("/connexion/")
    page.get_by_role("link", name="Créer mon compte").click()
    expect(page).to_have_url(re.compile(r"/creer-mon-compte/$"))
    expect(heading(page)).to_have_text("Créer mon compte")
    field(page, "Numéro de Sécurité sociale").fill(spaced(child.nir))
    field(page, "Date de naissance").fill(child.birth_date.isoformat())
    field(page, "Prénom").fill("lea")  # case and accents do not matter


def go_through_onboarding_to_the_dashboard(page: Page, person) -> None:
    expect(page).to_have_url(re.compile(r"/premiere-connexion/bienvenue/$"))
    expect(page.get_by_text("Votre compte est créé")).to_be_visible()
    for _ in range(2):
        page.get_by_role("link", name="Suivant").click()
    click(page, "Accéder à mon espace")
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    expect(heading(page)).to_have_text(f"Bonjour {person.first_name} {person.last_name}")
    expect(page.get_by_test_id("role")).to_have_text("Enfant")


def test_a_child_creates_an_account_with_a_code_from_the_login_page_to_the_dashboard(page: Page, transactional_db):
    _case, holder, child = household()

    fill_start_page(page, child)
    choose(page, "Par e-mail, à mon adresse connue de la Caf")
    click(page, "Continuer")

    expect(page).to_have_url(re.compile(r"/creer-mon-compte/code/$"))
    expect(page.locator("#signup-notice")).to_contain_text("Si vos informations correspondent à un membre")
    expect(page.get_by_role("main")).not_to_contain_text(child.email_on_file)
    field(page, "Code reçu").fill(last_code(to=child.email_on_file))
    set_new_password(page, NEW_PASSWORD)
    click(page, "Créer mon compte")

    go_through_onboarding_to_the_dashboard(page, child)
    expect(page.get_by_test_id("limits")).to_be_visible()  # a child sees their own data only
    notice = OutboxMessage.objects.get(template="accounts/notices/member_account_created")
    assert notice.to == holder.email

    # The new password opens the account next time.
    click(page, "Se déconnecter")
    login(page, child.nir, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))


def test_a_child_without_contact_on_file_waits_for_the_holder_who_approves(open_page, transactional_db):
    _case, holder, child = household(child_contacts=False)

    # The child types an e-mail address and proves they receive it.
    child_page = open_page()
    fill_start_page(child_page, child)
    choose(child_page, "La Caf n'a ni mon e-mail ni mon mobile")
    click(child_page, "Continuer")
    expect(heading(child_page)).to_have_text("Vos coordonnées")
    choose(child_page, "Par e-mail")
    field(child_page, "Adresse e-mail").fill(TYPED_EMAIL)
    click(child_page, "Recevoir un code")
    expect(child_page.get_by_role("main")).to_contain_text("l•••@exemple.fr")
    field(child_page, "Code reçu").fill(last_code(to=TYPED_EMAIL))
    click(child_page, "Valider")
    expect(child_page).to_have_url(re.compile(r"/creer-mon-compte/en-attente/$"))
    expect(heading(child_page)).to_have_text("Demande enregistrée")
    expect(child_page.get_by_role("main")).to_contain_text("l'allocataire du dossier qui doit approuver votre demande")
    assert OutboxMessage.objects.filter(to=holder.email, template__endswith="invitation_request_holder").exists()

    # The holder signs in and approves from their household page.
    holder_page = open_page()
    login(holder_page, holder.person.nir, holder.raw_password)
    holder_page.goto("/mon-foyer/")
    expect(holder_page.get_by_test_id("signup-requests")).to_contain_text(child.full_name)
    holder_page.get_by_test_id("signup-requests").get_by_role("link", name="Examiner la demande").click()
    expect(heading(holder_page)).to_have_text("Demande de création de compte")
    expect(holder_page.get_by_test_id("destination")).to_have_text(TYPED_EMAIL)
    click(holder_page, "Approuver la demande")
    expect(holder_page).to_have_url(re.compile(r"/mon-foyer/$"))
    expect(holder_page.get_by_role("status")).to_contain_text("Demande approuvée")
    assert SignupRequest.objects.get().status == SignupRequest.Status.APPROVED

    # The child follows the link received at the proven address and sets a password.
    link = re.search(
        r"http://[^/\s]+(/invitation/\S+/)", OutboxMessage.objects.filter(to=TYPED_EMAIL).latest("id").body
    )
    child_page.goto(link.group(1))
    expect(child_page).to_have_url(re.compile(r"/invitation/confirmer/$"))
    expect(child_page.get_by_role("main")).to_contain_text("l'allocataire de votre foyer a approuvé votre demande")
    field(child_page, "Date de naissance").fill(child.birth_date.isoformat())
    set_new_password(child_page, NEW_PASSWORD)
    click(child_page, "Créer mon compte")
    go_through_onboarding_to_the_dashboard(child_page, child)

    # The link worked once.
    other = open_page()
    other.goto(link.group(1))
    expect(heading(other)).to_have_text("Ce lien ne fonctionne pas")
    expect(other.get_by_role("main")).to_contain_text("a déjà servi")
