"""« Mes démarches » in Chromium: a housing-aid request started, saved for later, resumed after signing in again on
another device (a new browser context) at the same step, finished with a real PDF, sent, and its receipt downloaded;
a partner without delegation prepares one, cannot send it, and tells the holder. axe-core runs on every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from moncompte.messaging.models import OutboxMessage
from moncompte.procedures.housing_aid import income_year
from moncompte.procedures.models import Draft, Submission
from tests.browser.axe import Axe
from tests.browser.helpers import choose, click, field, login, sign_out
from tests.factories import family
from tests.procedures.helpers import IBAN, IBAN_WRONG_KEY, pdf_bytes

SCREENS = Path("/tmp/screens")
CERTIFY = "Je certifie sur l'honneur l'exactitude des informations déclarées."


@pytest.fixture(autouse=True)
def _media(media):
    return media


@pytest.fixture
def lease(tmp_path) -> Path:
    path = tmp_path / "bail-2025.pdf"
    path.write_bytes(pdf_bytes("Bail d'habitation — 12 rue des Lilas"))
    return path


def screenshot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def step_url(step: str) -> re.Pattern:
    return re.compile(rf"/demarches/en-cours/[\w-]+/etape/{step}/$")


def start_housing_aid(page: Page, axe: Axe) -> None:
    page.goto("/demarches/")
    axe(page, "Mes démarches")
    click(page, "Commencer : Demande d'aide au logement")
    expect(page).to_have_url(step_url("foyer"))
    expect(page.get_by_text("Étape 1 sur 6")).to_be_visible()
    axe(page, "foyer")
    choose(page, "seul ou seule")
    field(page, "Nombre d'enfants à votre charge").fill("1")
    click(page, "Continuer")
    expect(page).to_have_url(step_url("logement"))
    axe(page, "logement")


def fill_housing(page: Page) -> None:
    field(page, "Adresse du logement").fill("12 rue des Lilas")
    field(page, "Code postal").fill("75012")
    field(page, "Commune").fill("Paris")
    choose(page, "locataire d'un logement vide")
    field(page, "Date d'entrée dans le logement").fill("2025-09-01")
    field(page, "Nom du propriétaire ou du gestionnaire").fill("SCI Lilas")
    field(page, "Surface habitable (m²)").fill("45")


def fill_rent_and_lease(page: Page, lease: Path, axe: Axe) -> None:
    expect(page).to_have_url(step_url("loyer"))
    axe(page, "loyer")
    # Continuing without the lease: the step says which document is missing.
    field(page, "Loyer mensuel, sans les charges (€)").fill("650,00")
    field(page, "Charges mensuelles").fill("50")
    click(page, "Continuer")
    expect(page.get_by_test_id("document-errors")).to_contain_text(
        "Déposez la pièce « Bail ou dernière quittance de loyer » pour continuer."
    )
    axe(page, "loyer, document missing")
    field(page, "Loyer mensuel, sans les charges (€)").fill("650,00")
    field(page, "Charges mensuelles").fill("50")
    page.locator("#document-bail").set_input_files(str(lease))
    click(page, "Déposer le fichier")
    expect(page.get_by_test_id("files-bail")).to_contain_text("bail-2025.pdf")
    expect(field(page, "Loyer mensuel, sans les charges (€)")).to_have_value("650,00")  # kept beside the file
    axe(page, "loyer, document kept")


def test_a_request_saved_for_later_is_resumed_on_another_device_sent_and_its_receipt_downloaded(
    open_page, transactional_db, partners, lease, axe
):
    f = family()
    partners.push({"people": {f.holder.nir: {"avis": {str(income_year()): {
        "annee_revenus": income_year(), "revenu_fiscal_de_reference": 18500, "nombre_parts": "1.5"}}}}})  # fmt: skip

    # On a first device: start, type part of the home, save for later, sign out.
    page = open_page()
    login(page, f.holder.nir, f.holder_account.raw_password)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    start_housing_aid(page, axe)
    field(page, "Adresse du logement").fill("12 rue des Lilas")
    field(page, "Code postal").fill("750")  # not finished
    click(page, "Enregistrer et reprendre plus tard")
    expect(page).to_have_url(re.compile(r"/demarches/$"))
    expect(page.get_by_role("status")).to_contain_text("Votre démarche est enregistrée.")
    expect(page.get_by_test_id("drafts")).to_contain_text("Étape 2 sur 6 : Votre logement")
    axe(page, "Mes démarches, a draft")
    sign_out(page)
    expect(page).to_have_url(re.compile(r"/connexion/$"))

    # On another device: sign in, resume at the same step with what was typed.
    page = open_page()
    login(page, f.holder.nir, f.holder_account.raw_password)
    page.goto("/demarches/")
    page.get_by_role("link", name="Reprendre Demande d'aide au logement").click()
    expect(page).to_have_url(step_url("logement"))
    expect(field(page, "Adresse du logement")).to_have_value("12 rue des Lilas")
    expect(field(page, "Code postal")).to_have_value("750")
    axe(page, "logement, resumed")
    click(page, "Continuer")
    expect(page.locator(".fr-message--error").first).to_be_visible()
    axe(page, "logement, errors")
    fill_housing(page)
    click(page, "Continuer")

    fill_rent_and_lease(page, lease, axe)
    screenshot(page, "step-loyer")
    click(page, "Continuer")

    # The resources: the DGFiP's figure, with its source.
    expect(page).to_have_url(step_url("ressources"))
    expect(page.get_by_test_id("source")).to_contain_text("Données transmises par la DGFiP le ")
    expect(field(page, f"Votre revenu fiscal de référence {income_year()} (€)")).to_have_value("18 500,00")
    axe(page, "ressources")
    screenshot(page, "step-ressources")
    click(page, "Continuer")

    # The bank: a wrong key is caught, then the right IBAN.
    expect(page).to_have_url(step_url("banque"))
    expect(field(page, "Titulaire du compte")).to_have_value(f.holder.full_name)
    field(page, "IBAN").fill(IBAN_WRONG_KEY)
    click(page, "Continuer")
    expect(page.locator(".fr-message--error")).to_contain_text("La clé de cet IBAN ne correspond pas")
    axe(page, "banque, wrong key")
    field(page, "IBAN").fill("fr76 3000 6000 0112 3456 7890 189")
    click(page, "Continuer")

    # The summary, then sending.
    expect(page).to_have_url(step_url("recapitulatif"))
    main = page.get_by_role("main")
    expect(main).to_contain_text("FR76 •••• •••• 0189")
    expect(main).to_contain_text("bail-2025.pdf")
    expect(main).not_to_contain_text(IBAN)
    axe(page, "récapitulatif")
    screenshot(page, "summary-holder")
    click(page, "Envoyer ma demande")
    expect(page.get_by_role("alert")).to_contain_text("Cochez la case « Je certifie sur l'honneur… »")
    choose(page, CERTIFY)
    click(page, "Envoyer ma demande")
    expect(page).to_have_url(re.compile(r"/demarches/recus/AL-\d{4}-[0-9A-Z]{4}-[0-9A-Z]{3}/$"))
    submission = Submission.objects.get()
    expect(page.get_by_test_id("reference")).to_have_text(submission.reference)
    axe(page, "récépissé")
    screenshot(page, "receipt")
    # Its words show, not just the icon (DSFR makes an icon button of a group icon-only unless the group says not to).
    assert page.get_by_test_id("receipt-pdf").bounding_box()["width"] > 150
    assert not Draft.objects.exists()

    with page.expect_download() as download_info:
        page.get_by_test_id("receipt-pdf").click()
    download = download_info.value
    assert download.suggested_filename == f"recepisse-{submission.reference}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
    axe.assert_clean()


def test_a_partner_without_delegation_prepares_a_request_and_tells_the_holder(open_page, transactional_db, lease, axe):
    f = family()
    page = open_page()
    login(page, f.partner.nir, f.partner_account.raw_password)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    start_housing_aid(page, axe)
    fill_housing(page)
    click(page, "Continuer")
    fill_rent_and_lease(page, lease, axe)
    click(page, "Continuer")
    expect(page).to_have_url(step_url("ressources"))
    expect(page.get_by_test_id("partner-unavailable")).to_contain_text("indisponibles pour le moment")
    field(page, "Votre revenu fiscal de référence").fill("12 000")
    click(page, "Continuer")
    expect(page).to_have_url(step_url("banque"))
    field(page, "IBAN").fill(IBAN)
    click(page, "Continuer")

    expect(page).to_have_url(step_url("recapitulatif"))
    notice = page.get_by_test_id("cannot-submit")
    expect(notice).to_contain_text("L'allocataire enverra cette demande")
    expect(page.get_by_role("button", name="Envoyer ma demande")).to_have_count(0)
    expect(page.get_by_label(CERTIFY)).to_have_count(0)
    axe(page, "récapitulatif, partner")
    screenshot(page, "summary-partner")
    click(page, "Prévenir l'allocataire")
    expect(page).to_have_url(re.compile(r"/demarches/$"))
    expect(page.get_by_role("status")).to_contain_text("L'allocataire est prévenu")
    axe(page, "Mes démarches, partner")
    assert OutboxMessage.objects.filter(template="procedures/notices/draft_waiting", person_id=f.holder.pk).exists()
    assert not Submission.objects.exists()

    # The holder finds it, prepared by the partner, and may send it.
    holder = open_page()
    login(holder, f.holder.nir, f.holder_account.raw_password)
    holder.goto("/demarches/")
    expect(holder.get_by_test_id("drafts")).to_contain_text(f"Préparée par {f.partner.first_name}")
    holder.get_by_role("link", name="Reprendre Demande d'aide au logement").click()
    expect(holder).to_have_url(step_url("recapitulatif"))
    expect(holder.get_by_role("button", name="Envoyer ma demande")).to_be_visible()
    axe(holder, "récapitulatif, holder of a prepared draft")
    axe.assert_clean()
