"""« Répondre à une demande de la Caf » through HTTP: the form for whoever acts for the household, a refusal page
(403) for the others; bad input gets a clear French message and changes nothing (an empty answer, a text of 50,000
characters, a file that is not what its name says, an oversized file, another case's request, a made-up id, a
request already answered, the case system down meanwhile)."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from moncompte.agency.models import AgencyAnswer, AnswerDocument
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from tests.agency.helpers import REQUEST_SUBJECTS, ids
from tests.helpers import page_text
from tests.helpers import shown_errors as errors
from tests.procedures.helpers import image_bytes, pdf_bytes

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def answer_url(case, request_id: str) -> str:
    return f"/mon-dossier/{case.case_number}/demandes-de-la-caf/{request_id}/repondre/"


def requests_url(case) -> str:
    return f"/mon-dossier/{case.case_number}/demandes-de-la-caf/"


def a_file(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def shown(response) -> str:
    """The error messages and alerts of a page, as read."""
    return " ".join([*errors(response), page_text(response)])


def assert_nothing_changed() -> None:
    assert not AgencyAnswer.objects.exists() and not AnswerDocument.objects.exists()
    assert not Entry.objects.filter(kind__startswith="agency.").exists()
    assert not OutboxMessage.objects.filter(template__startswith="agency/").exists()


# --- The form, and an answer sent --------------------------------------------------------------------------------


def test_the_form_shows_the_request_and_asks_for_what_it_expects(caf, delegated, as_):
    response = as_(delegated.holder_account).get(answer_url(delegated.case, ids(delegated.case.case_number).document))

    assert response.status_code == 200
    text = page_text(response)
    assert REQUEST_SUBJECTS["document"] in text and "justificatif de domicile de moins de trois mois" in text
    assert "Attendu : Un document." in text
    assert "Le document demandé" in text and "Un mot pour accompagner votre document (facultatif)" in text
    body = response.content.decode()
    assert 'enctype="multipart/form-data"' in body and re.search(r'<input[^>]*type="file"[^>]*multiple', body)


def test_the_holder_answers_with_a_document_and_the_request_shows_as_answered(caf, delegated, as_):
    client = as_(delegated.holder_account)
    key = ids(delegated.case.case_number)

    response = client.post(
        answer_url(delegated.case, key.document),
        {
            "text": "Voici ma facture.",
            "documents": [a_file("facture.pdf", pdf_bytes()), a_file("verso.png", image_bytes())],
        },
    )

    assert response.status_code == 302 and response["Location"] == requests_url(delegated.case)
    answer = AgencyAnswer.objects.get()
    assert (answer.request_id, answer.author, answer.text) == (key.document, delegated.holder, "Voici ma facture.")
    assert sorted(d.content_type for d in answer.documents.all()) == ["application/pdf", "image/png"]
    listing = client.get(requests_url(delegated.case))
    assert "Votre réponse à la demande « Justificatif de domicile » est envoyée à la Caf." in page_text(listing)
    assert "Réponse envoyée le" in page_text(listing)
    assert answer_url(delegated.case, key.document) not in listing.content.decode()  # not offered again
    again = client.get(answer_url(delegated.case, key.document))
    assert again.status_code == 200 and 'data-testid="answered"' in again.content.decode()
    assert 'enctype="multipart/form-data"' not in again.content.decode()  # no form: answered already


def test_the_delegated_partner_answers_in_text_and_the_holder_is_told(caf, delegated, as_):
    response = as_(delegated.partner_account).post(
        answer_url(delegated.case, ids(delegated.case.case_number).text), {"text": "En formation depuis le 3."}
    )

    assert response.status_code == 302
    told = set(OutboxMessage.objects.filter(template="agency/notices/answered").values_list("to", flat=True))
    assert told == {delegated.holder_account.email, delegated.partner_account.email}


# --- Who may not -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("who", ["partner without delegation", "child"])
def test_a_limited_member_gets_a_refusal_page_and_nothing_is_sent(caf, delegated, limited, as_, who, method):
    account, case = (
        (delegated.child_account, delegated.case) if who == "child" else (limited.partner_account, limited.case)
    )
    client = as_(account)
    target = answer_url(case, ids(case.case_number).document)

    if method == "get":
        response = client.get(target)
    else:
        response = client.post(target, {"text": "Ci-joint", "documents": [a_file("facture.pdf", pdf_bytes())]})

    assert response.status_code == 403
    assert "Vous ne pouvez pas répondre à cette demande" in page_text(response)
    assert "Votre accès à ce dossier est limité" in page_text(response)
    assert_nothing_changed()


def test_another_households_case_is_a_404(caf, delegated, limited, as_):
    response = as_(limited.holder_account).post(
        answer_url(delegated.case, ids(delegated.case.case_number).text), {"text": "Bonjour"}
    )

    assert response.status_code == 404
    assert_nothing_changed()


# --- Bad input ---------------------------------------------------------------------------------------------------


def test_an_empty_answer_is_refused_with_a_french_message(caf, delegated, as_):
    client = as_(delegated.holder_account)
    key = ids(delegated.case.case_number)

    document = client.post(answer_url(delegated.case, key.document), {"text": ""})
    text = client.post(answer_url(delegated.case, key.text), {"text": "   "})
    both = client.post(answer_url(delegated.case, key.both), {})

    assert document.status_code == text.status_code == both.status_code == 400
    assert "Joignez le document demandé par la Caf (PDF, JPEG ou PNG)." in errors(document)
    assert "Écrivez votre réponse à la Caf." in errors(text)
    assert {"Écrivez votre réponse à la Caf.", "Joignez le document demandé par la Caf (PDF, JPEG ou PNG)."} <= set(
        errors(both)
    )
    assert_nothing_changed()


def test_a_text_of_50000_characters_is_refused_and_kept_on_the_page(caf, delegated, as_):
    response = as_(delegated.holder_account).post(
        answer_url(delegated.case, ids(delegated.case.case_number).text), {"text": "a" * 50_000}
    )

    assert response.status_code == 400
    message = " ".join(errors(response)).replace("\u202f", " ").replace("\xa0", " ")
    assert "Votre réponse est trop longue : 5 000 caractères au plus (elle en compte 50 000)." in message
    assert "a" * 50_000 in response.content.decode()  # what was typed is not lost
    assert_nothing_changed()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (("facture.pdf", EXE), "n'est pas un PDF, une image JPEG ou PNG lisible"),
        (("facture.pdf", b"%PDF-1.7 mais pas vraiment"), "n'est pas un PDF, une image JPEG ou PNG lisible"),
    ],
    ids=["an exe named pdf", "a truncated pdf"],
)
def test_a_file_that_is_not_what_its_name_says_is_refused(caf, delegated, as_, upload, message):
    response = as_(delegated.holder_account).post(
        answer_url(delegated.case, ids(delegated.case.case_number).document), {"documents": [a_file(*upload)]}
    )

    assert response.status_code == 400 and message in " ".join(errors(response))
    assert "facture.pdf" in " ".join(errors(response))
    assert_nothing_changed()


def test_a_png_named_pdf_is_accepted_as_a_png(caf, delegated, as_):
    response = as_(delegated.holder_account).post(
        answer_url(delegated.case, ids(delegated.case.case_number).document),
        {"documents": [a_file("scan.pdf", image_bytes("PNG"))]},
    )

    assert response.status_code == 302
    assert AnswerDocument.objects.get().content_type == "image/png"


def test_an_oversized_file_is_refused(caf, delegated, as_, settings):
    settings.DOCUMENT_MAX_BYTES = 1024

    response = as_(delegated.holder_account).post(
        answer_url(delegated.case, ids(delegated.case.case_number).document),
        {"documents": [a_file("scan.png", image_bytes("PNG") + b"\x00" * 2048, "image/png")]},
    )

    assert response.status_code == 400 and "est trop lourd : 1\xa0Ko au plus" in " ".join(errors(response))
    assert_nothing_changed()


@pytest.mark.parametrize(
    "request_id",
    ["other case", "D-INCONNU", "x" * 41, "D-1%3Cscript%3E", "%2e%2e"],
    ids=["another case's request", "unknown", "too long", "markup", "dots"],
)
def test_a_request_id_of_another_case_or_tampered_is_a_404_with_a_french_page(
    caf, delegated, limited, as_, request_id
):
    if request_id == "other case":
        request_id = ids(limited.case.case_number).document
    client = as_(delegated.holder_account)

    target = answer_url(delegated.case, request_id)
    for response in (client.get(target), client.post(target, {"text": "Bonjour"})):
        assert response.status_code == 404
        assert "Cette demande n'existe pas, ne concerne pas ce dossier, ou la Caf l'a déjà traitée." in page_text(
            response
        )
    assert_nothing_changed()


def test_answering_twice_is_refused_with_who_answered_and_when(caf, delegated, as_):
    key = ids(delegated.case.case_number)
    assert (
        as_(delegated.holder_account).post(answer_url(delegated.case, key.text), {"text": "Salarié."}).status_code
        == 302
    )

    response = as_(delegated.partner_account).post(answer_url(delegated.case, key.text), {"text": "Au chômage."})

    assert response.status_code == 400
    assert "Une réponse à cette demande a déjà été envoyée le" in page_text(response)
    assert delegated.holder.full_name in page_text(response)
    assert AgencyAnswer.objects.get().text == "Salarié."


@pytest.mark.parametrize("mode", ["down", "slow"])
def test_when_the_case_system_fails_the_answer_page_says_so_and_nothing_is_sent(caf, delegated, as_, mode):
    caf.mode("caf", mode)
    client = as_(delegated.holder_account)
    target = answer_url(delegated.case, ids(delegated.case.case_number).text)

    page = client.get(target)
    sent = client.post(target, {"text": "Salarié."})

    assert page.status_code == sent.status_code == 200
    notice = "Cette demande ne peut pas être affichée pour le moment : réessayez dans quelques minutes."
    assert notice in page_text(page) and notice in page_text(sent)
    assert "Votre réponse n'a pas pu être envoyée : rien n'a été enregistré." in page_text(sent)
    assert_nothing_changed()


def test_the_answer_page_is_private_and_not_stored(caf, delegated, as_):
    response = as_(delegated.holder_account).get(answer_url(delegated.case, ids(delegated.case.case_number).text))

    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
