"""Answering a request of the Caf (agency.services.answer_send): who may, what the request expects, files checked by
their content (never their name), one standing answer per request, journaled, told, undone. A refusal changes
nothing: no row, no file, no journal entry, no message."""

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from moncompte.agency import services
from moncompte.agency.models import AgencyAnswer, AnswerDocument
from moncompte.agency.services import AnswerRefused, answer_send
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.partners.connectors import AgencyRequest
from tests.procedures.helpers import image_bytes, pdf_bytes, upload

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def request_of(expects: str, request_id: str = "D-TEST-1") -> AgencyRequest:
    """A request as `agency.selectors.request_for` gives it (here without the case system)."""
    return AgencyRequest(
        id=request_id,
        asked_on=date(2026, 11, 20),
        subject="Justificatif de domicile",
        text="Merci de nous transmettre un justificatif de domicile.",
        expects=expects,
        due_on=None,
    )


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def assert_nothing_kept() -> None:
    assert not AgencyAnswer.objects.exists() and not AnswerDocument.objects.exists()
    assert stored_files() == []
    assert not Entry.objects.filter(kind__startswith="agency.").exists()
    assert not OutboxMessage.objects.filter(template__startswith="agency/").exists()


def test_the_holder_answers_with_a_pdf_kept_under_a_random_name_journaled_and_told(delegated):
    content = pdf_bytes("Facture d'électricité")

    answer = answer_send(
        case=delegated.case,
        request=request_of("document"),
        author=delegated.holder,
        text="  Voici ma facture.\r\nBonne journée.  ",
        uploads=[upload("C:\\Documents\\facture edf.pdf", content, "application/pdf")],
    )

    assert answer.text == "Voici ma facture.\nBonne journée."
    assert (answer.request_id, answer.request_subject, answer.author) == (
        "D-TEST-1",
        "Justificatif de domicile",
        delegated.holder,
    )
    document = answer.documents.get()
    assert document.original_name == "facture edf.pdf" and document.content_type == "application/pdf"
    assert document.size == len(content) and len(document.sha256) == 64
    name = Path(document.file.name)
    assert name.parts[0] == "reponses" and name.suffix == ".pdf" and "facture" not in name.name
    with default_storage.open(document.file.name) as kept:
        assert kept.read() == content
    entry = Entry.objects.get(kind="agency.answered")
    assert entry.person_id == delegated.holder.pk and entry.case_number == delegated.case.case_number
    expected = {"answer_id": answer.pk, "request_id": "D-TEST-1", "subject": answer.request_subject, "documents": 1}
    assert entry.after == expected
    told = OutboxMessage.objects.filter(template="agency/notices/answered")
    assert {message.to for message in told} == {delegated.holder_account.email}  # the author is the holder


def test_a_delegated_partner_answers_and_the_holder_is_told_too(delegated):
    answer_send(case=delegated.case, request=request_of("text"), author=delegated.partner, text="En formation.")

    told = {message.to: message for message in OutboxMessage.objects.filter(template="agency/notices/answered")}
    assert set(told) == {delegated.holder_account.email, delegated.partner_account.email}
    assert delegated.partner.full_name in told[delegated.holder_account.email].body
    assert "vous avez répondu" in told[delegated.partner_account.email].body


def test_a_png_named_pdf_is_kept_as_a_png(delegated):
    answer = answer_send(
        case=delegated.case,
        request=request_of("document"),
        author=delegated.holder,
        text="",
        uploads=[upload("scan.pdf", image_bytes("PNG"), "application/pdf")],
    )

    document = answer.documents.get()
    assert document.content_type == "image/png" and document.file.name.endswith(".png")
    assert document.original_name == "scan.pdf"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("facture.pdf", EXE)], "n'est pas un PDF, une image JPEG ou PNG lisible"),
        ([("vide.pdf", b"")], "est vide"),
        ([("facture.pdf", pdf_bytes()), ("programme.pdf", EXE)], "programme.pdf"),
    ],
    ids=["an exe named pdf", "an empty file", "one bad file among good ones"],
)
def test_a_file_that_is_not_what_its_name_says_is_refused_and_nothing_is_kept(delegated, files, message):
    with pytest.raises(AnswerRefused) as refused:
        answer_send(
            case=delegated.case,
            request=request_of("document"),
            author=delegated.holder,
            text="Ci-joint.",
            uploads=[upload(name, content, "application/pdf") for name, content in files],
        )

    assert message in refused.value.message and refused.value.field == "documents"
    assert_nothing_kept()


def test_an_oversized_file_is_refused(delegated, settings):
    settings.DOCUMENT_MAX_BYTES = 2000

    with pytest.raises(AnswerRefused) as refused:
        answer_send(
            case=delegated.case,
            request=request_of("document"),
            author=delegated.holder,
            text="",
            uploads=[upload("gros.png", image_bytes("PNG") + b"\x00" * 3000)],
        )

    assert "trop lourd" in refused.value.message
    assert_nothing_kept()


def test_too_many_files_are_refused(delegated):
    with pytest.raises(AnswerRefused) as refused:
        answer_send(
            case=delegated.case,
            request=request_of("document"),
            author=delegated.holder,
            text="",
            uploads=[upload(f"page{n}.pdf", pdf_bytes()) for n in range(services.MAX_FILES + 1)],
        )

    assert refused.value.field == "documents"
    assert_nothing_kept()


def test_a_text_past_5000_characters_is_refused(delegated):
    with pytest.raises(AnswerRefused) as refused:
        answer_send(case=delegated.case, request=request_of("text"), author=delegated.holder, text="a" * 50_000)

    assert "trop longue" in refused.value.message and refused.value.field == "text"
    assert "50" in refused.value.message  # how many there are
    assert_nothing_kept()


def test_a_text_of_exactly_5000_characters_is_kept(delegated):
    answer = answer_send(case=delegated.case, request=request_of("text"), author=delegated.holder, text="é" * 5000)

    assert len(answer.text) == 5000


@pytest.mark.parametrize(
    ("expects", "text", "files", "field"),
    [
        ("document", "Je n'ai pas le document.", [], "documents"),
        ("text", "", [("facture.pdf", pdf_bytes())], "text"),
        ("text", "   \r\n  ", [], "text"),
        ("both", "Voici.", [], "documents"),
        ("both", "", [("attestation.pdf", pdf_bytes())], "text"),
    ],
    ids=["document without file", "text without text", "text of spaces", "both without file", "both without text"],
)
def test_an_answer_must_give_what_the_request_expects(delegated, expects, text, files, field):
    with pytest.raises(AnswerRefused) as refused:
        answer_send(
            case=delegated.case,
            request=request_of(expects),
            author=delegated.holder,
            text=text,
            uploads=[upload(name, content) for name, content in files],
        )

    assert refused.value.field == field
    assert_nothing_kept()


def test_what_each_request_accepts(delegated):
    answer_send(case=delegated.case, request=request_of("text", "D-1"), author=delegated.holder, text="Salarié.")
    answer_send(
        case=delegated.case,
        request=request_of("text", "D-2"),
        author=delegated.holder,
        text="Salarié, voici mon contrat.",
        uploads=[upload("contrat.pdf", pdf_bytes())],
    )
    answer_send(
        case=delegated.case,
        request=request_of("document", "D-3"),
        author=delegated.holder,
        text="",
        uploads=[upload("photo.jpg", image_bytes("JPEG"))],
    )
    answer_send(
        case=delegated.case,
        request=request_of("both", "D-4"),
        author=delegated.holder,
        text="Loyer inchangé.",
        uploads=[upload("attestation.pdf", pdf_bytes())],
    )

    assert AgencyAnswer.objects.count() == 4 and AnswerDocument.objects.count() == 3


@pytest.mark.parametrize("who", ["partner", "child"])
def test_who_may_not_answer_is_refused_and_nothing_is_kept(delegated, limited, who):
    case, person = (limited.case, limited.partner) if who == "partner" else (delegated.case, delegated.child)

    with pytest.raises(AnswerRefused) as refused:
        answer_send(
            case=case,
            request=request_of("document"),
            author=person,
            text="Ci-joint.",
            uploads=[upload("facture.pdf", pdf_bytes())],
        )

    assert "Seuls l'allocataire et son conjoint" in refused.value.message
    assert_nothing_kept()


def test_someone_of_another_household_may_not_answer(delegated, limited):
    with pytest.raises(AnswerRefused):
        answer_send(case=delegated.case, request=request_of("text"), author=limited.holder, text="Bonjour.")
    assert_nothing_kept()


def test_a_request_gets_one_standing_answer(delegated):
    first = answer_send(case=delegated.case, request=request_of("text"), author=delegated.holder, text="Salarié.")

    with pytest.raises(AnswerRefused) as refused:
        answer_send(case=delegated.case, request=request_of("text"), author=delegated.partner, text="Au chômage.")

    assert "déjà été envoyée" in refused.value.message and delegated.holder.full_name in refused.value.message
    assert list(AgencyAnswer.objects.all()) == [first]
    assert Entry.objects.filter(kind="agency.answered").count() == 1


def test_an_undone_answer_is_withdrawn_its_files_kept_and_the_request_may_be_answered_again(delegated):
    answer = answer_send(
        case=delegated.case,
        request=request_of("document"),
        author=delegated.holder,
        text="",
        uploads=[upload("facture.pdf", pdf_bytes())],
    )
    kept = answer.documents.get().file.name

    undo = journal.undo(Entry.objects.get(kind="agency.answered"))

    answer.refresh_from_db()
    assert answer.withdrawn_at is not None and undo.kind == "agency.answered.undone"
    assert default_storage.exists(kept)  # for the record
    again = answer_send(
        case=delegated.case,
        request=request_of("document"),
        author=delegated.holder,
        text="",
        uploads=[upload("facture2.pdf", pdf_bytes())],
    )
    assert again.pk != answer.pk and AgencyAnswer.objects.filter(withdrawn_at__isnull=True).get() == again


def test_an_answer_cannot_be_changed_once_sent(delegated):
    answer = answer_send(case=delegated.case, request=request_of("text"), author=delegated.holder, text="Salarié.")

    answer.text = "Autre chose"
    with pytest.raises(ValueError):
        answer.save()
    with pytest.raises(ValueError):
        answer.save(update_fields=["text"])
