"""« Mes paiements », « Mes courriers » and « Demandes de la Caf » in Chromium, against the partner simulator: the
holder reads the payments, downloads a letter's PDF, answers a request of the Caf with a document; a partner without
delegation reads the limited-access notice instead. axe-core runs on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from moncompte.agency.models import AgencyAnswer
from moncompte.messaging.models import OutboxMessage
from tests.agency.helpers import REQUEST_SUBJECTS, case_records, ids
from tests.browser.helpers import click, field, login
from tests.factories import family
from tests.procedures.helpers import pdf_bytes

#: The month as \S+: JavaScript's \w is ASCII only (« décembre »).
SOURCE = re.compile(r"Données transmises par la Caf le \d{1,2} \S+ \d{4} à \d\d:\d\d\.")


@pytest.fixture(autouse=True)
def _media(media):
    return media


@pytest.fixture
def household(transactional_db, partners):
    """A holder and a partner without delegation, both with an account; the case system knows their case."""
    f = family()
    partners.push(case_records(f.case.case_number))
    return f


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_the_holder_reads_payments_downloads_a_letter_and_answers_a_request_with_a_document(
    open_page, household, tmp_path, axe
):
    f = household
    number = f.case.case_number
    page = open_page()
    login(page, f.holder.nir, f.holder_account.raw_password)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    axe(page, "dashboard")

    # « Mes paiements », from the dashboard's tile.
    page.get_by_role("link", name="Mes paiements").click()
    expect(heading(page)).to_have_text("Mes paiements")
    expect(page.get_by_test_id("source")).to_have_text(SOURCE)
    rows = page.get_by_test_id("payment")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Aide personnalisée au logement")
    expect(rows.first).to_contain_text("245,30 €")
    expect(page.get_by_role("table")).to_contain_text("Paiements de la Caf depuis le")
    axe(page, "payments")

    # « Mes courriers »: the letter's PDF is downloaded.
    page.goto("/mon-espace/")
    page.get_by_role("link", name="Mes courriers").click()
    expect(heading(page)).to_have_text("Mes courriers")
    axe(page, "letters")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"^Télécharger Attestation de paiement")).click()
    download = download_info.value
    assert download.suggested_filename == f"courrier-{ids(number).letter}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")

    # « Demandes de la Caf »: an answer with a document.
    page.goto("/mon-espace/")
    page.get_by_role("link", name="Demandes de la Caf").click()
    expect(heading(page)).to_have_text("Demandes de la Caf")
    expect(page.get_by_test_id("request")).to_have_count(3)
    axe(page, "requests")
    page.get_by_role("link", name=f"Répondre : {REQUEST_SUBJECTS['document']}").click()
    expect(heading(page)).to_have_text("Répondre à une demande de la Caf")
    expect(page.get_by_test_id("request")).to_contain_text("justificatif de domicile de moins de trois mois")
    axe(page, "answer")
    click(page, "Envoyer ma réponse")  # nothing attached: the page says what is missing
    expect(page.locator(".fr-message--error")).to_have_text(
        "Joignez le document demandé par la Caf (PDF, JPEG ou PNG)."
    )
    axe(page, "answer, document missing")
    assert not AgencyAnswer.objects.exists()

    receipt = tmp_path / "facture-electricite.pdf"
    receipt.write_bytes(pdf_bytes("Facture d'électricité — novembre"))
    field(page, "Un mot pour accompagner votre document").fill("Voici ma dernière facture.")
    field(page, "Le document demandé").set_input_files(str(receipt))
    click(page, "Envoyer ma réponse")
    expect(page).to_have_url(re.compile(rf"/mon-dossier/{number}/demandes-de-la-caf/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "Votre réponse à la demande « Justificatif de domicile » est envoyée à la Caf."
    )
    answered = page.get_by_test_id("request").filter(has_text=REQUEST_SUBJECTS["document"])
    expect(answered.get_by_test_id("answered")).to_contain_text("Réponse envoyée le")
    expect(answered.get_by_role("link", name=re.compile("^Répondre"))).to_have_count(0)
    axe(page, "requests, answered")

    answer = AgencyAnswer.objects.get()
    assert (answer.request_id, answer.author) == (ids(number).document, f.holder)
    assert answer.text == "Voici ma dernière facture."
    document = answer.documents.get()
    assert document.original_name == "facture-electricite.pdf" and document.content_type == "application/pdf"
    assert OutboxMessage.objects.filter(to=f.holder_account.email, template="agency/notices/answered").exists()
    axe.assert_clean()


def test_a_partner_without_delegation_reads_the_limited_access_notice(open_page, household, axe):
    f = household
    page = open_page()
    login(page, f.partner.nir, f.partner_account.raw_password)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    expect(page.get_by_test_id("case-tiles")).to_have_count(0)  # not offered what she cannot see
    axe(page, "dashboard, partner")

    for path, title in (("paiements", "Mes paiements"), ("demandes-de-la-caf", "Demandes de la Caf")):
        page.goto(f"/mon-dossier/{f.case.case_number}/{path}/")
        expect(heading(page)).to_have_text(title)
        limits = page.get_by_test_id("limits")
        expect(limits).to_contain_text("Votre accès à ce dossier est limité")
        expect(limits).to_contain_text("l'allocataire ne vous a pas donné de délégation")
        expect(page.get_by_role("table")).to_have_count(0)
        axe(page, f"{title}, partner")

    response = page.goto(
        f"/mon-dossier/{f.case.case_number}/demandes-de-la-caf/{ids(f.case.case_number).text}/repondre/"
    )
    assert response.status == 403
    expect(heading(page)).to_have_text("Vous ne pouvez pas répondre à cette demande")
    axe(page, "answer refused, partner")
    axe.assert_clean()
