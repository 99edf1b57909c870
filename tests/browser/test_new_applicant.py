"""A new applicant, from the login page to a submitted request (issue 11, item 4), in Chromium: the registry
confirms the identity, a code proves the e-mail, the password opens the account, the prime d'activité is sent.
axe-core runs on every page."""

import re

import pytest
from playwright.sync_api import Page, expect

from moncompte.identity import places
from moncompte.identity.models import Person
from moncompte.partners.dataset import NOT_REGISTERED, civil_status, new_applicants
from moncompte.procedures.models import Submission
from tests.browser.helpers import choose, click, field, set_new_password, spaced
from tests.helpers import last_code

EMAIL = "premiere.demande@exemple.fr"
PASSWORD = "Kq7-Wz3-Xv9m"


@pytest.fixture
def applicant(partners):
    person = new_applicants()[0]
    partners.push(
        {"people": {person.nir: {"etat_civil": civil_status(person), "avis": {}, "france_travail": NOT_REGISTERED}}}
    )
    return person


def fill_identity(page: Page, person, *, birth_name: str | None = None) -> None:
    page.get_by_role("textbox", name="Numéro de Sécurité sociale").fill(spaced(person.nir_with_key))
    field(page, "Nom de naissance").fill(birth_name or person.birth_name)
    field(page, "Prénoms").fill(person.given_names)
    choose(page, "Féminin" if person.sex == "F" else "Masculin")
    field(page, "Date de naissance").fill(person.birth_date.isoformat())
    choose(page, "Je suis né ou née en France (outre-mer compris)")
    field(page, "Commune de naissance").fill(places.place(person.birthplace).name)
    click(page, "Vérifier mon identité et continuer")


def test_a_new_applicant_opens_an_account_and_sends_a_request(page: Page, applicant, axe):
    page.goto("/connexion/")
    page.get_by_role("link", name="Faire une demande").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Faire une demande")
    axe(page, "identity")

    fill_identity(page, applicant, birth_name="Autrenom")  # the registry does not confirm: what to check
    expect(page.get_by_test_id("identity-not-confirmed")).to_contain_text("Vérifiez")
    axe(page, "identity not confirmed")
    assert not Person.objects.exists()
    fill_identity(page, applicant)

    expect(page.get_by_role("heading", level=1)).to_have_text("Vos coordonnées")
    axe(page, "contact")
    choose(page, "Par e-mail")
    field(page, "Adresse e-mail").fill(EMAIL)
    click(page, "Recevoir un code")
    axe(page, "code and password")
    field(page, "Code reçu").fill(last_code(EMAIL))
    set_new_password(page, PASSWORD)
    click(page, "Ouvrir mon compte")
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre compte est ouvert")
    axe(page, "welcome")

    page.get_by_role("link", name="Faire ma demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes démarches")
    page.get_by_role("button", name=re.compile("Commencer.*prime d'activité")).click()
    choose(page, "seul ou seule")
    field(page, "Nombre d'enfants à votre charge").fill("0")
    click(page, "Continuer")
    choose(page, "salarié ou salariée")
    field(page, "Depuis le").fill("2025-01-06")
    expect(page.get_by_test_id("source")).to_contain_text("Données transmises par France Travail le")
    choose(page, "Non")
    click(page, "Continuer")
    for salary in page.get_by_label(re.compile("^Salaires ou revenus d'activité")).all():
        salary.fill("1 150,00")
    click(page, "Continuer")
    expect(page.get_by_role("heading", level=2).first).to_contain_text("Récapitulatif et envoi")
    choose(page, "Je certifie sur l'honneur l'exactitude des informations déclarées.")
    click(page, "Envoyer ma demande")
    expect(page.get_by_role("heading", level=1)).to_have_text("Récépissé de votre demande")
    axe(page, "receipt")
    submission = Submission.objects.get()
    expect(page.get_by_test_id("reference")).to_have_text(submission.reference)
    assert submission.case is None and submission.author.nir == applicant.nir
    axe.assert_clean()
