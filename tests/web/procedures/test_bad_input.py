"""What a person (or someone playing with the requests) may send the step pages: each gets a clear French message
and changes nothing."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from moncompte.procedures.models import Document, Draft
from tests.helpers import errors, page_text
from tests.procedures.helpers import HOUSING, IBAN_WRONG_KEY, housing_draft, image_bytes, pdf_bytes
from tests.web.procedures.helpers import (
    INDEX,
    as_,
    delete_url,
    followed_messages,
    messages_shown,
    post_step,
    resume_url,
    step_url,
)

GONE = "Cette démarche n'existe plus : elle a été envoyée, supprimée, ou son délai de conservation est passé."
STALE = (
    "Cette démarche a été modifiée entre-temps (depuis un autre appareil ou un autre onglet) : rien n'a été "
    "enregistré. Vérifiez l'étape ci-dessous et enregistrez-la à nouveau."
)


def _state(draft: Draft) -> tuple:
    draft = Draft.objects.get(pk=draft.pk)
    return draft.data, draft.completed, draft.current_step, draft.saved_at


def _files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()]


@pytest.fixture
def holder(fam):
    return as_(fam.holder_account)


# --- An expired draft, a step skipped, an unknown step ---------------------------------------------------------------


@pytest.fixture
def expired(fam):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    Draft.objects.filter(pk=draft.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    draft.refresh_from_db()
    return draft


@pytest.mark.parametrize("page", ["resume", "step", "delete"])
def test_an_expired_draft_says_so_and_goes_back_to_the_list(holder, expired, page):
    url = {"resume": resume_url(expired), "step": step_url(expired, "logement"), "delete": delete_url(expired)}[page]
    response = holder.get(url)
    assert response.status_code == 302 and response["Location"] == INDEX
    assert GONE in followed_messages(holder, response)


def test_an_expired_draft_cannot_be_saved(holder, expired):
    before = _state(expired)
    response = post_step(holder, expired, "loyer", HOUSING["loyer"], action="save")
    assert response.status_code == 302 and response["Location"] == INDEX
    assert GONE in followed_messages(holder, response)
    assert _state(expired) == before


def test_an_expired_draft_is_not_listed(holder, expired):
    assert 'data-testid="no-drafts"' in holder.get(INDEX).content.decode()


def test_a_step_skipped_by_url_sends_back_to_the_first_step_left(holder, fam):
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    for step in ("loyer", "banque", "recapitulatif"):
        response = holder.get(step_url(draft, step))
        assert response.status_code == 302 and response["Location"] == step_url(draft, "logement")
        assert "Complétez d'abord l'étape « Votre logement »." in followed_messages(holder, response)
    response = post_step(holder, draft, "banque", HOUSING["banque"])
    assert response["Location"] == step_url(draft, "logement")
    assert "banque" not in Draft.objects.get(pk=draft.pk).data


def test_an_earlier_step_can_be_opened_again(holder, fam):
    draft = housing_draft(fam.holder, fam.case, upto="ressources")
    response = holder.get(step_url(draft, "foyer"))
    assert response.status_code == 200
    assert 'value="alone" checked' in response.content.decode().replace('"\n', '"')


@pytest.mark.parametrize("step", ["inconnue", "etape-9", "FOYER"])
def test_an_unknown_step_is_not_found(holder, fam, step):
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    assert holder.get(step_url(draft, step)).status_code == 404


def test_a_step_of_the_other_kind_is_not_found(holder, fam):
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    assert holder.get(step_url(draft, "activite")).status_code == 404


# --- A tampered hidden field, an unknown action ----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["", "0", "123", "9" * 5000, "abc\x00"])
def test_a_tampered_version_is_refused_and_nothing_is_saved(holder, fam, version):
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    before = _state(draft)
    response = holder.post(
        step_url(draft, "logement"), {"version": version, "action": "continue", **HOUSING["logement"]}
    )
    assert response.status_code == 302 and response["Location"] == step_url(draft, "logement")
    assert STALE in followed_messages(holder, response)
    assert _state(draft) == before


def test_a_page_shown_before_a_save_from_another_device_is_refused(holder, fam, new_client):
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    shown = holder.get(step_url(draft, "logement")).content.decode()
    version = shown.split('name="version" value="')[1].split('"')[0]
    other = as_(fam.holder_account, new_client())
    assert post_step(other, draft, "logement", HOUSING["logement"]).status_code == 302
    before = _state(draft)
    response = holder.post(
        step_url(draft, "logement"), {"version": version, "action": "continue", **HOUSING["logement"], "city": "Lyon"}
    )
    assert STALE in followed_messages(holder, response)
    assert _state(draft) == before


@pytest.mark.parametrize("action", ["", "delete", "submit", "remove", "continue\x00", "x" * 10_000])
def test_an_unknown_action_saves_nothing_and_says_what_to_do(holder, fam, action):
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    before = _state(draft)
    response = post_step(holder, draft, "logement", HOUSING["logement"], action=action)
    assert response.status_code == 400
    assert "Choisissez une action : continuer, revenir ou enregistrer." in messages_shown(response)
    assert _state(draft) == before


def test_an_unknown_action_on_the_summary_says_what_to_do(holder, fam):
    draft = housing_draft(fam.holder, fam.case)
    response = post_step(holder, draft, "recapitulatif", {"certify": "on"}, action="envoyer")
    assert response.status_code == 400
    assert "Choisissez une action : envoyer la demande, ou revenir à une étape." in messages_shown(response)
    assert Draft.objects.filter(pk=draft.pk).exists()


def test_submit_without_the_certification_is_refused(holder, fam):
    draft = housing_draft(fam.holder, fam.case)
    response = post_step(holder, draft, "recapitulatif", action="submit")
    assert response.status_code == 400
    assert "Cochez la case « Je certifie sur l'honneur… » pour envoyer votre demande." in messages_shown(response)
    assert Draft.objects.filter(pk=draft.pk).exists()


def test_a_stale_summary_is_not_sent(holder, fam):
    draft = housing_draft(fam.holder, fam.case)
    response = holder.post(step_url(draft, "recapitulatif"), {"version": "1", "action": "submit", "certify": "on"})
    assert response.status_code == 302
    assert STALE in followed_messages(holder, response)
    assert Draft.objects.filter(pk=draft.pk).exists()


# --- The IBAN, long values, NUL bytes --------------------------------------------------------------------------------


def test_an_iban_with_a_wrong_key_is_refused_in_french_and_nothing_is_saved(holder, fam):
    draft = housing_draft(fam.holder, fam.case, upto="banque")
    before = _state(draft)
    response = post_step(holder, draft, "banque", {"account_holder": "Jean Martin", "iban": IBAN_WRONG_KEY})
    assert response.status_code == 400
    assert (
        "La clé de cet IBAN ne correspond pas : une erreur de frappe s'est sans doute glissée. Recopiez-le depuis "
        "votre RIB."
    ) in [" ".join(e.split()) for e in _shown(response)]
    assert _state(draft) == before
    assert 'aria-invalid="true"' in response.content.decode()
    assert IBAN_WRONG_KEY in response.content.decode()  # what was typed, to correct


def _shown(response) -> list[str]:
    import html

    return [html.unescape(e) for e in errors(response)]


def test_ten_thousand_characters_are_refused_with_a_message_not_an_error(holder, fam):
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    before = _state(draft)
    typed = {**HOUSING["logement"], "address": "a" * 10_000, "city": "b" * 10_000, "landlord": "c" * 10_000,
             "surface": "9" * 10_000, "postcode": "7" * 10_000}  # fmt: skip
    response = post_step(holder, draft, "logement", typed)
    assert response.status_code == 400
    assert len(errors(response)) >= 5
    assert _state(draft) == before
    response = post_step(holder, draft, "logement", typed, action="save")  # kept as typed, bounded
    assert response.status_code == 302
    kept = Draft.objects.get(pk=draft.pk).data["logement"]
    assert max(len(value) for value in kept.values()) == 1000


def test_ten_thousand_characters_in_an_amount_or_an_iban(holder, fam):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    response = post_step(holder, draft, "loyer", {"rent": "1" * 10_000, "charges": "€" * 10_000})
    assert response.status_code == 400
    assert "Indiquez un montant en euros, en chiffres, par exemple 1 234,56." in _shown(response)


def test_nul_bytes_in_fields_are_refused_and_saving_for_later_drops_them(holder, fam):
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    typed = {**HOUSING["logement"], "address": "12 rue\x00 des Lilas", "city": "Pa\x00ris", "tenure": "empty\x00"}
    response = post_step(holder, draft, "logement", typed)
    assert response.status_code == 400
    assert "logement" not in Draft.objects.get(pk=draft.pk).completed
    response = post_step(holder, draft, "logement", typed, action="save")
    assert response.status_code == 302
    kept = Draft.objects.get(pk=draft.pk).data["logement"]
    assert kept["address"] == "12 rue des Lilas" and kept["city"] == "Paris"
    assert "\x00" not in repr(kept)
    assert holder.get(step_url(draft, "logement")).status_code == 200


@pytest.mark.parametrize("token", ["%00", "abc%00def", "x" * 200, "%2e%2e", "<script>"])
def test_a_strange_token_is_not_found(holder, token):
    for url in (f"/demarches/en-cours/{token}/", f"/demarches/en-cours/{token}/etape/foyer/"):
        assert holder.get(url).status_code == 404, url


def test_a_nul_byte_in_the_token_of_an_existing_draft_is_not_found(holder, fam):
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    assert holder.get(f"/demarches/en-cours/{draft.token}%00/etape/foyer/").status_code == 404
    assert holder.get(f"/demarches/en-cours/{draft.token[:-1]}/").status_code == 404


@pytest.mark.parametrize("document_id", ["abc", "0", "-1", str(2**64), "1%00", ""])
def test_removing_a_document_that_is_not_there_says_so(holder, fam, document_id):
    draft = housing_draft(fam.holder, fam.case, upto="ressources")
    response = post_step(holder, draft, "loyer", action=f"remove:{document_id}")
    assert response.status_code == 400
    assert "Ce fichier n'est pas (ou plus) dans cette démarche." in messages_shown(response)
    assert draft.documents.count() == 1


# --- Files ----------------------------------------------------------------------------------------------------------


def _file(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_a_file_that_is_not_what_its_name_says_is_refused(holder, fam, media):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    response = post_step(
        holder, draft, "loyer", HOUSING["loyer"], action="upload",
        document_bail=_file("bail.pdf", b"Bonjour, ceci est un texte.\n" * 30),
    )  # fmt: skip
    assert response.status_code == 400
    assert (
        "Le fichier « bail.pdf » n'est pas un PDF, une image JPEG ou PNG lisible (quel que soit son nom). Enregistrez "
        "votre document dans l'un de ces formats et déposez-le à nouveau."
    ) in messages_shown(response)
    assert not Document.objects.exists() and not _files(media)


def test_a_png_named_pdf_is_kept_as_a_png(holder, fam, media):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    response = post_step(holder, draft, "loyer", action="upload", document_bail=_file("bail.pdf", image_bytes("PNG")))
    assert response.status_code == 302 and response["Location"] == step_url(draft, "loyer")
    assert "Votre fichier est déposé." in followed_messages(holder, response)
    document = Document.objects.get()
    assert document.content_type == "image/png" and document.file.name.endswith(".png")
    assert [path.suffix for path in _files(media)] == [".png"]


def test_an_oversized_file_is_refused_with_no_row_and_no_file(holder, fam, media, settings):
    settings.DOCUMENT_MAX_BYTES = 10_000
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    big = pdf_bytes() + b"%" * 20_000 + b"\n%%EOF\n"
    response = post_step(holder, draft, "loyer", HOUSING["loyer"], document_bail=_file("gros.pdf", big))
    assert response.status_code == 400
    assert any(m.startswith("Le fichier « gros.pdf » est trop lourd : 9,8") for m in messages_shown(response))
    assert not Document.objects.exists() and not _files(media)
    assert "loyer" not in Draft.objects.get(pk=draft.pk).completed


def test_an_empty_file_is_refused(holder, fam, media):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    response = post_step(holder, draft, "loyer", action="upload", document_bail=_file("vide.pdf", b""))
    assert response.status_code == 400
    assert "Le fichier « vide.pdf » est vide." in messages_shown(response)
    assert not Document.objects.exists() and not _files(media)


def test_a_missing_required_document_on_continue_stops_at_the_step(holder, fam):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    response = post_step(holder, draft, "loyer", HOUSING["loyer"])
    assert response.status_code == 400
    assert "Déposez la pièce « Bail ou dernière quittance de loyer » pour continuer." in messages_shown(response)
    state = Draft.objects.get(pk=draft.pk)
    assert "loyer" not in state.completed and "loyer" not in state.data


def test_a_file_sent_with_continue_is_kept_and_the_step_completed(holder, fam, media):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    response = post_step(holder, draft, "loyer", HOUSING["loyer"], document_bail=_file("bail.pdf", pdf_bytes()))
    assert response.status_code == 302 and response["Location"] == step_url(draft, "ressources")
    assert Draft.objects.get(pk=draft.pk).completed == ["foyer", "logement", "loyer"]
    assert len(_files(media)) == 1


def test_a_document_is_removed_from_the_step(holder, fam, media):
    draft = housing_draft(fam.holder, fam.case, upto="ressources")
    document = Document.objects.get()
    page = holder.get(step_url(draft, "loyer"))
    assert f'value="remove:{document.pk}"' in page.content.decode()
    with_commit = post_step(holder, draft, "loyer", action=f"remove:{document.pk}")
    assert with_commit.status_code == 302
    assert "Le fichier a été retiré." in followed_messages(holder, with_commit)
    assert not Document.objects.exists()


def test_a_file_in_a_field_the_step_does_not_have_is_ignored(holder, fam, media):
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    response = post_step(holder, draft, "logement", HOUSING["logement"], document_bail=_file("bail.pdf", pdf_bytes()))
    assert response.status_code == 302
    assert not Document.objects.exists() and not _files(media)


def test_a_file_upload_streamed_to_disk_is_checked_the_same(holder, fam, media, settings):
    """Past FILE_UPLOAD_MAX_MEMORY_SIZE Django writes the upload to a temporary file: the check reads it the same."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    file = io.BytesIO(pdf_bytes())
    file.name = "bail.pdf"
    response = post_step(holder, draft, "loyer", action="upload", document_bail=file)
    assert response.status_code == 302
    assert Document.objects.get().content_type == "application/pdf"


def test_the_step_page_says_what_it_accepts(holder, fam, settings):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    page = holder.get(step_url(draft, "loyer"))
    text = page_text(page)
    assert "Formats acceptés : PDF, JPEG ou PNG ; 10 Mo au plus par fichier." in text
    assert 'accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.png"' in page.content.decode()


def test_removing_a_file_from_a_stale_page_removes_nothing(holder, fam, media):
    draft = housing_draft(fam.holder, fam.case, upto="ressources")
    document = Document.objects.get()
    response = holder.post(step_url(draft, "loyer"), {"version": "1", "action": f"remove:{document.pk}"})
    assert STALE in followed_messages(holder, response)
    assert Document.objects.filter(pk=document.pk).exists()
