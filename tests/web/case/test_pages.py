"""« Mes paiements », « Mes courriers » and « Demandes de la Caf » through HTTP, for each member: what the policy lets
them see, with its source and date; the limited-access notice for the others (200); the notice when the case
system does not answer (200, never a server error); a letter's PDF; the links from « Mon espace » and « Mon foyer »."""

import re
import time

import pytest

from moncompte.partners.client import circuit_state
from moncompte.partners.connectors import partner
from tests.agency.helpers import REQUEST_SUBJECTS, ids
from tests.helpers import page_text

SOURCE = re.compile(r"Données transmises par la Caf le \d{1,2} \w+ \d{4} à \d\d:\d\d\.")
UNAVAILABLE = {
    "payments": "Vos paiements ne peuvent pas être affichés pour le moment : réessayez dans quelques minutes.",
    "letters": "Vos courriers ne peuvent pas être affichés pour le moment : réessayez dans quelques minutes.",
    "requests": (
        "Les demandes de la Caf ne peuvent pas être affichées pour le moment : réessayez dans quelques minutes."
    ),
}
LIMITED = "Votre accès à ce dossier est limité"


def url(case, page: str) -> str:
    return {
        "payments": f"/mon-dossier/{case.case_number}/paiements/",
        "letters": f"/mon-dossier/{case.case_number}/courriers/",
        "requests": f"/mon-dossier/{case.case_number}/demandes-de-la-caf/",
    }[page]


def pdf_url(case, letter_id: str) -> str:
    return f"/mon-dossier/{case.case_number}/courriers/{letter_id}/pdf/"


def rows(response, testid: str) -> list[str]:
    body = response.content.decode()
    found = re.findall(rf'<tr data-testid="{testid}">(.*?)</tr>', body, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in found]


# --- What each member sees ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["holder", "partner"])
def test_the_holder_and_the_delegated_partner_see_the_payments_with_their_source(caf, delegated, as_, who):
    response = as_(getattr(delegated, f"{who}_account")).get(url(delegated.case, "payments"))

    assert response.status_code == 200
    text = page_text(response)
    assert SOURCE.search(text), text
    payments = rows(response, "payment")
    assert len(payments) == 3  # the one older than 24 months is not shown
    assert "Aide personnalisée au logement" in payments[0] and "245,30 €" in payments[0]
    assert "1 151,23 €" in payments[1].replace("\xa0", " ").replace("\u202f", " ")
    assert "199,99" not in text
    assert response["Cache-Control"] == "private, no-store" or "no-store" in response["Cache-Control"]


def test_a_payment_says_its_date_and_its_period(caf, delegated, as_):
    text = rows(as_(delegated.holder_account).get(url(delegated.case, "payments")), "payment")[0]

    assert re.search(r"^\d{1,2} \w+ \d{4} Aide personnalisée au logement 245,30 € [a-zéû]+ \d{4}$", text), text


def test_the_holder_sees_the_letters_and_downloads_one_as_a_pdf(caf, delegated, as_):
    client = as_(delegated.holder_account)
    letter = ids(delegated.case.case_number).letter

    page = client.get(url(delegated.case, "letters"))
    response = client.get(pdf_url(delegated.case, letter))

    assert page.status_code == 200 and SOURCE.search(page_text(page))
    assert "Attestation de paiement" in rows(page, "letter")[0]
    assert pdf_url(delegated.case, letter) in page.content.decode()
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="courrier-{letter}.pdf"'
    assert response.content.startswith(b"%PDF-")
    assert "no-store" in response["Cache-Control"]


def test_the_holder_sees_the_requests_of_the_caf_with_what_each_expects(caf, delegated, as_):
    response = as_(delegated.holder_account).get(url(delegated.case, "requests"))

    assert response.status_code == 200 and SOURCE.search(page_text(response))
    listed = rows(response, "request")
    assert len(listed) == 3
    assert REQUEST_SUBJECTS["document"] in listed[0] and "Un document" in listed[0] and "Répondre" in listed[0]
    assert REQUEST_SUBJECTS["texte"] in listed[1] and "Une réponse écrite" in listed[1]
    assert "Une réponse écrite et un document" in listed[2]
    number = delegated.case.case_number
    assert f"/mon-dossier/{number}/demandes-de-la-caf/{ids(number).document}/repondre/" in response.content.decode()


@pytest.mark.parametrize("who", ["partner without delegation", "child"])
@pytest.mark.parametrize("page", ["payments", "letters", "requests"])
def test_a_limited_member_reads_the_limited_access_notice_instead_of_the_data(caf, delegated, limited, as_, who, page):
    account, case = (
        (delegated.child_account, delegated.case) if who == "child" else (limited.partner_account, limited.case)
    )

    response = as_(account).get(url(case, page))

    assert response.status_code == 200
    text = page_text(response)
    assert LIMITED in text and re.search(r"l'allocataire et (à )?son conjoint, s'il a la délégation", text), text
    assert 'data-testid="limits"' in response.content.decode()
    assert not SOURCE.search(text)
    assert "Attestation de paiement" not in text and "245,30" not in text
    assert REQUEST_SUBJECTS["document"] not in text
    assert caf.requests().get("caf", 0) == 0  # the case system was not even asked


@pytest.mark.parametrize("who", ["partner without delegation", "child"])
def test_a_limited_member_cannot_download_a_letter(caf, delegated, limited, as_, who):
    account, case = (
        (delegated.child_account, delegated.case) if who == "child" else (limited.partner_account, limited.case)
    )

    response = as_(account).get(pdf_url(case, ids(case.case_number).letter))

    assert response.status_code == 403
    assert "Vous ne pouvez pas ouvrir ce courrier" in page_text(response)
    assert LIMITED in page_text(response)
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("page", ["payments", "letters", "requests"])
def test_another_households_case_is_a_404(caf, delegated, limited, as_, page):
    response = as_(limited.holder_account).get(url(delegated.case, page))

    assert response.status_code == 404
    assert "Page introuvable" in page_text(response)


def test_another_cases_letter_or_an_unknown_letter_is_a_404_with_a_french_page(caf, delegated, limited, as_):
    client = as_(delegated.holder_account)

    for letter in (ids(limited.case.case_number).letter, "C-INCONNU", "x" * 41, "%2e%2e"):
        response = client.get(pdf_url(delegated.case, letter))
        assert response.status_code == 404, letter
        assert "Ce courrier n'existe pas ou ne concerne pas ce dossier." in page_text(response)
    assert client.get(pdf_url(limited.case, ids(limited.case.case_number).letter)).status_code == 404


def test_the_pages_only_answer_get(caf, delegated, as_):
    client = as_(delegated.holder_account)

    for page in ("payments", "letters", "requests"):
        assert client.post(url(delegated.case, page)).status_code == 405
    assert client.post(pdf_url(delegated.case, ids(delegated.case.case_number).letter)).status_code == 405


def test_signed_out_people_are_sent_to_the_login_page(caf, delegated, client):
    response = client.get(url(delegated.case, "payments"))

    assert response.status_code == 302 and response["Location"].startswith("/connexion/")


# --- When the case system does not answer ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["slow", "fail", "down", "malformed"])
def test_when_the_case_system_fails_each_page_says_so_with_a_200(caf, delegated, as_, mode):
    caf.mode("caf", mode)
    client = as_(delegated.holder_account)

    for page, notice in UNAVAILABLE.items():
        response = client.get(url(delegated.case, page))
        assert response.status_code == 200, page
        assert notice in page_text(response)
        assert not SOURCE.search(page_text(response))
    response = client.get(pdf_url(delegated.case, ids(delegated.case.case_number).letter))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "Ce courrier ne peut pas être téléchargé pour le moment" in page_text(response)


def test_once_the_circuit_is_open_the_notice_comes_at_once_without_asking(caf, delegated, as_):
    caf.mode("caf", "down")
    client = as_(delegated.holder_account)
    for _ in range(5):  # the circuit opens after 5 failed calls in a row (each of 3 tries)
        client.get(url(delegated.case, "payments"))
    assert circuit_state(partner("case_system")) == "open"
    asked = caf.requests().get("caf", 0)

    started = time.monotonic()
    response = client.get(url(delegated.case, "letters"))

    assert time.monotonic() - started < 0.3
    assert response.status_code == 200 and UNAVAILABLE["letters"] in page_text(response)
    assert caf.requests().get("caf", 0) == asked

    caf.mode("caf", "ok")  # still open: the cool-off is not over, nobody waits for the partner meanwhile
    assert UNAVAILABLE["requests"] in page_text(client.get(url(delegated.case, "requests")))


def test_a_cached_answer_still_shows_when_the_case_system_goes_down(caf, delegated, as_):
    client = as_(delegated.holder_account)
    first = page_text(client.get(url(delegated.case, "payments")))
    caf.mode("caf", "down")

    again = page_text(client.get(url(delegated.case, "payments")))

    assert SOURCE.search(again).group(0) == SOURCE.search(first).group(0)  # the date it was fetched


# --- Links to the pages ---------------------------------------------------------------------------------------------


def links(response) -> set[str]:
    """The links of the page's content (not of the header's menu, the same for everyone)."""
    content = response.content.decode().split('id="content"', 1)[1]
    return set(re.findall(r'href="(/[^"]*)"', content))


@pytest.mark.parametrize("who", ["holder", "partner"])
def test_the_dashboard_and_mon_foyer_offer_the_pages_to_whoever_sees_the_case(delegated, as_, who):
    client = as_(getattr(delegated, f"{who}_account"))
    expected = {url(delegated.case, page) for page in ("payments", "letters", "requests")}

    assert expected <= links(client.get("/mon-espace/"))
    assert expected <= links(client.get("/mon-foyer/"))
    assert "/demarches/" in links(client.get("/mon-espace/"))


def test_a_partner_without_delegation_is_offered_the_procedures_but_not_the_case_pages(limited, as_):
    client = as_(limited.partner_account)
    offered = links(client.get("/mon-espace/")) | links(client.get("/mon-foyer/"))

    assert not {url(limited.case, page) for page in ("payments", "letters", "requests")} & offered
    assert "/demarches/" in offered


def test_a_child_is_offered_neither_payments_nor_procedures(delegated, as_):
    client = as_(delegated.child_account)
    offered = links(client.get("/mon-espace/")) | links(client.get("/mon-foyer/"))

    assert not {url(delegated.case, page) for page in ("payments", "letters", "requests")} & offered
    assert "/demarches/" not in offered
    assert "Mes paiements" not in page_text(client.get("/mon-espace/"))
