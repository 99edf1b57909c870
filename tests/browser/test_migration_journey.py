"""First web login of a case holder with the case PIN, through to the dashboard, as a person would do it."""

import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import choose, click, field, login, logout, set_new_password, spaced
from tests.helpers import last_code

NEW_PASSWORD = "Kq7-Wz3-Xv9m"
MOBILE = "06 12 34 56 78"
LOGIN_FAILED = "Numéro de Sécurité sociale ou mot de passe incorrect."


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_holder_migrates_with_the_case_pin_then_uses_the_new_password(page: Page, household):
    holder, case = household.holder, household.case

    # NIR typed as on the carte Vitale, and the case's 8-digit PIN.
    login(page, spaced(holder.nir), case.pin)
    expect(page).to_have_url(re.compile(r"/premiere-connexion/mot-de-passe/$"))
    expect(heading(page)).to_have_text("Bienvenue dans votre nouvel espace")
    expect(page.get_by_text("Étape 1 sur 3")).to_be_visible()

    # No way around the new password: any other page leads back here.
    page.goto("/mon-espace/")
    expect(page).to_have_url(re.compile(r"/premiere-connexion/mot-de-passe/$"))

    set_new_password(page, NEW_PASSWORD)
    click(page, "Créer mon mot de passe")
    expect(page).to_have_url(re.compile(r"/premiere-connexion/coordonnees/$"))
    expect(page.get_by_text("Votre mot de passe est créé.")).to_be_visible()

    # Validate a mobile number by SMS.
    choose(page, "Par SMS")
    field(page, "Numéro de téléphone mobile").fill(MOBILE)
    click(page, "Recevoir un code")
    expect(page).to_have_url(re.compile(r"/premiere-connexion/coordonnees/code/$"))
    expect(page.get_by_role("main")).to_contain_text("par SMS au 06 •• •• •• 78")
    expect(page.get_by_role("main")).not_to_contain_text("12 34 56")

    field(page, "Code reçu").fill(last_code(to="+33612345678"))
    click(page, "Valider")

    # Onboarding: three screens.
    expect(page).to_have_url(re.compile(r"/premiere-connexion/bienvenue/$"))
    expect(page.get_by_text("Vos coordonnées sont validées.")).to_be_visible()
    expect(page.get_by_text("Écran 1 sur 3")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("votre numéro de Sécurité sociale")
    page.get_by_role("link", name="Suivant").click()
    expect(page.get_by_text("Écran 2 sur 3")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Un compte pour chaque membre du foyer")
    page.get_by_role("link", name="Suivant").click()
    expect(page.get_by_text("Écran 3 sur 3")).to_be_visible()
    expect(page.get_by_role("link", name="Suivant")).to_have_count(0)
    click(page, "Accéder à mon espace")

    # The dashboard: name, case number, role, household members.
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    assert_dashboard(page, household)

    # Next time: NIR + the new password, straight to the dashboard.
    logout(page)
    login(page, holder.nir, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    assert_dashboard(page, household)

    # The case PIN no longer opens this web account, and the error says nothing more than for any wrong secret.
    logout(page)
    login(page, spaced(holder.nir), case.pin)
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.get_by_role("alert")).to_contain_text(LOGIN_FAILED)
    expect(page.get_by_role("alert")).to_contain_text("saisissez le mot de passe à 8 chiffres de votre dossier")
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)


def assert_dashboard(page: Page, household) -> None:
    holder = household.holder
    expect(heading(page)).to_have_text(f"Bonjour {holder.first_name} {holder.last_name}")
    expect(page.get_by_role("heading", name=f"Dossier n° {household.case.case_number}")).to_be_visible()
    expect(page.get_by_test_id("role")).to_have_text("Allocataire (responsable de dossier)")
    members = page.get_by_role("table").get_by_role("row")
    expect(members.filter(has_text=household.partner.full_name)).to_contain_text("Conjoint")
    expect(members.filter(has_text=household.child.full_name)).to_contain_text("Enfant")
    expect(members.filter(has_text=holder.full_name)).to_contain_text("Allocataire")
