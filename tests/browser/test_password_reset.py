"""Forgotten password ("Mot de passe oublié ?"): for a holder who never migrated, for a migrated person, and for a
NIR nobody has, which must look exactly like a known one."""

import re

from playwright.sync_api import Page, expect

from moncompte.accounts.models import Account
from tests.browser.helpers import choose, click, field, field_errors, login, logout, set_new_password, spaced
from tests.factories import make_nir
from tests.helpers import last_code

BY_EMAIL = "Par e-mail, à mon adresse connue de la Caf"
SAVE = "Enregistrer mon nouveau mot de passe"
NEW_PASSWORD = "Pj4-Rt8-Lm2w"
LOGIN_FAILED = "Numéro de Sécurité sociale ou mot de passe incorrect."
COMPLETE_PAGE = re.compile(r"/mot-de-passe-oublie/code/$")


def ask_for_a_code(page: Page, nir: str, medium_label: str = BY_EMAIL) -> None:
    page.goto("/connexion/")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    expect(page).to_have_url(re.compile(r"/mot-de-passe-oublie/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié")
    field(page, "Numéro de Sécurité sociale").fill(nir)
    choose(page, medium_label)
    click(page, "Recevoir un code")
    expect(page).to_have_url(COMPLETE_PAGE)


def complete(page: Page, code: str, password: str = NEW_PASSWORD) -> None:
    field(page, "Code reçu").fill(code)
    set_new_password(page, password)
    click(page, SAVE)


def test_holder_who_never_migrated_resets_and_lands_on_onboarding(page: Page, household):
    holder = household.holder
    assert not Account.objects.filter(person=holder).exists()
    ask_for_a_code(page, spaced(holder.nir))
    expect(page.locator("#reset-notice")).to_contain_text("un code à 8 chiffres vous est envoyé par e-mail")

    complete(page, last_code(to=holder.email_on_file))
    # Signed in, the migration done by the code sent to the address on file: the onboarding screens come next.
    expect(page).to_have_url(re.compile(r"/premiere-connexion/bienvenue/$"))
    expect(page.get_by_text("Votre nouveau mot de passe est enregistré. Vous êtes connecté.")).to_be_visible()
    expect(page.get_by_text("Écran 1 sur 3")).to_be_visible()
    account = Account.objects.get(person=holder)
    assert account.has_usable_password() and account.email == holder.email_on_file and account.email_verified_at

    page.goto("/premiere-connexion/bienvenue/?etape=3")
    click(page, "Accéder à mon espace")
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    expect(page.get_by_role("heading", name=f"Dossier n° {household.case.case_number}")).to_be_visible()

    # From now on the new password opens the account, and the case PIN does not.
    logout(page)
    login(page, holder.nir, household.case.pin)
    expect(page.get_by_role("alert")).to_contain_text(LOGIN_FAILED)
    login(page, holder.nir, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))


def test_migrated_person_resets_then_only_the_new_password_works(page: Page, migrated):
    person, old_password = migrated.person, migrated.raw_password
    ask_for_a_code(page, person.nir)

    # A refused password costs no try and keeps the code usable.
    complete(page, last_code(to=migrated.email), password="Soleil2024!")
    expect(field_errors(page)).to_contain_text(["Ce mot de passe est trop courant."])

    complete(page, last_code(to=migrated.email))
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    expect(page.get_by_text("Votre nouveau mot de passe est enregistré. Vous êtes connecté.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {person.first_name} {person.last_name}")

    logout(page)
    login(page, person.nir, old_password)
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.get_by_role("alert")).to_contain_text(LOGIN_FAILED)
    login(page, person.nir, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))


def test_unknown_nir_sees_exactly_what_a_known_one_sees(open_page, household):
    unknown_nir = make_nir(sex="2", year=91, month=11, department="13", seq=654_321)
    seen = {}
    for who, nir in (("known", household.partner.nir), ("unknown", unknown_nir)):
        page = open_page()
        ask_for_a_code(page, spaced(nir))
        notice = page.locator("#reset-notice").inner_text()
        # A wrong code, for the known NIR, and any code, for the unknown one, get the same answer.
        complete(page, "00000000" if who == "unknown" else f"{(int(last_code()) + 1) % 10**8:08d}")
        expect(page).to_have_url(COMPLETE_PAGE)
        seen[who] = (notice, page.locator("#id_code-messages").inner_text(), page.title())
    assert seen["known"] == seen["unknown"]
    notice, code_message, _title = seen["unknown"]
    assert "Si ce numéro correspond à un compte" in notice
    assert code_message == "Code incorrect. Il vous reste 4 essais."
