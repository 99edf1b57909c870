"""Whole requests through the pages: saved for later and resumed on another device, a prime d'activité from start to
receipt, and the headers every page sends."""

import datetime

from django.utils import formats, timezone

from moncompte.procedures.activity_bonus import last_quarter
from moncompte.procedures.models import Draft, Submission
from tests.helpers import page_text, sign_in_as
from tests.procedures.helpers import HOUSING, activity_answers, housing_draft, pdf_bytes, upload
from tests.web.procedures.helpers import (
    INDEX,
    as_,
    delete_url,
    followed_messages,
    post_step,
    receipt_pdf_url,
    receipt_url,
    resume_url,
    start_url,
    step_url,
)


def _input_value(response, name: str) -> str:
    content = response.content.decode()
    tag = content.split(f'name="{name}"')[1].split(">")[0]
    return tag.split('value="')[1].split('"')[0] if 'value="' in tag else ""


# --- « Enregistrer et reprendre plus tard » --------------------------------------------------------------------------


def test_save_for_later_from_an_invalid_step_keeps_what_was_typed_and_resumes_there_on_another_device(
    client, fam, new_client
):
    sign_in_as(client, fam.holder_account)
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    typed = {**HOUSING["logement"], "postcode": "750", "surface": ""}
    response = post_step(client, draft, "logement", typed, action="save")
    assert response.status_code == 302 and response["Location"] == INDEX
    saved = followed_messages(client, response)
    assert any(m.startswith("Votre démarche est enregistrée. Vous la reprendrez à cette étape") for m in saved)
    listing = page_text(client.get(INDEX))
    assert "Étape 2 sur 6 : Votre logement" in listing

    other = sign_in_as(new_client(), fam.holder_account)
    response = other.get(resume_url(draft))
    assert response.status_code == 302 and response["Location"] == step_url(draft, "logement")
    page = other.get(response["Location"])
    assert page.status_code == 200
    assert _input_value(page, "postcode") == "750"
    assert _input_value(page, "address") == "12 rue des Lilas"
    assert _input_value(page, "surface") == ""
    # Finish it from there.
    response = post_step(other, draft, "logement", HOUSING["logement"])
    assert response["Location"] == step_url(draft, "loyer")


def test_the_list_says_when_a_draft_was_saved_and_when_it_will_be_deleted(fam):
    client = as_(fam.holder_account)
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    text = page_text(client.get(INDEX))
    assert formats.date_format(draft.expires_at, "j F Y") in text
    assert "Une démarche en cours est gardée 90 jours après son dernier enregistrement" in text
    assert "Reprendre Demande d'aide au logement" in text


def test_previous_from_an_invalid_step_keeps_what_was_typed(fam):
    client = as_(fam.holder_account)
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    response = post_step(client, draft, "loyer", {"rent": "six cents"}, action="previous")
    assert response["Location"] == step_url(draft, "logement")
    assert Draft.objects.get(pk=draft.pk).data["loyer"] == {"rent": "six cents"}
    assert _input_value(client.get(step_url(draft, "loyer")), "rent") == "six cents"


def test_a_draft_is_deleted_from_its_page(fam, media):
    client = as_(fam.holder_account)
    draft = housing_draft(fam.holder, fam.case, upto="ressources")
    page = client.get(delete_url(draft))
    assert page.status_code == 200 and "Rien n'a encore été envoyé à la Caf." in page_text(page)
    response = client.post(delete_url(draft))
    assert response["Location"] == INDEX
    assert "La démarche en cours a été supprimée." in followed_messages(client, response)
    assert not Draft.objects.exists()


def test_what_was_typed_survives_a_document_upload(fam):
    client = as_(fam.holder_account)
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    response = post_step(client, draft, "loyer", {"rent": "650", "charges": "50"}, action="upload",
                         document_bail=upload("bail.pdf", pdf_bytes()))  # fmt: skip
    assert response.status_code == 302
    assert _input_value(client.get(step_url(draft, "loyer")), "rent") == "650"


# --- Prime d'activité -----------------------------------------------------------------------------------------------


def test_a_prime_d_activite_from_start_to_receipt(fam):
    client = as_(fam.holder_account)
    response = client.post(start_url("prime-d-activite"), {"case": fam.case.case_number})
    draft = Draft.objects.get()
    assert response["Location"] == step_url(draft, "foyer")
    answers = activity_answers()
    foyer = client.get(step_url(draft, "foyer"))
    assert 'value="couple" checked' in " ".join(foyer.content.decode().split())  # the case has a partner
    for step, following in (("foyer", "activite"), ("activite", "ressources"), ("ressources", "recapitulatif")):
        page = client.get(step_url(draft, step))
        assert page.status_code == 200, step
        response = post_step(client, draft, step, answers[step])
        assert response.status_code == 302 and response["Location"] == step_url(draft, following), page_text(response)
    summary = client.get(step_url(draft, "recapitulatif"))
    assert summary.status_code == 200
    assert "Boulangerie Dupont" in page_text(summary)
    response = post_step(client, draft, "recapitulatif", {"certify": "on"}, action="submit")
    submission = Submission.objects.get()
    assert submission.reference.startswith("PA-")
    receipt = client.get(response["Location"])
    assert "Demande de prime d'activité" in page_text(receipt)
    assert client.get(receipt_pdf_url(submission.reference)).content.startswith(b"%PDF")


def test_the_three_months_fields_are_named_after_the_months(fam):
    client = as_(fam.holder_account)
    client.post(start_url("prime-d-activite"), {"case": fam.case.case_number})
    draft = Draft.objects.get()
    answers = activity_answers()
    post_step(client, draft, "foyer", answers["foyer"])
    post_step(client, draft, "activite", answers["activite"])
    page = client.get(step_url(draft, "ressources"))
    content, text = page.content.decode(), page_text(page)
    months = last_quarter()
    assert months == sorted(months) and len(months) == 3
    assert months[-1] < timezone.localdate().replace(day=1)
    for month in months:
        for prefix in ("salary", "allowance", "other"):
            assert f'name="{prefix}_{month:%Y_%m}"' in content
        assert f"Salaires ou revenus d'activité en {formats.date_format(month, 'F Y')} (€)" in text
    response = post_step(client, draft, "ressources", {f"salary_{months[0]:%Y_%m}": "1 200"})
    assert response.status_code == 400
    expected = f"Indiquez vos revenus d'activité en {formats.date_format(months[1], 'F Y')} (0 si aucun)."
    assert expected in page_text(response)


def test_a_draft_resumed_in_a_later_month_asks_again_for_the_months_that_now_count(fam, monkeypatch):
    from moncompte.procedures import activity_bonus

    client = as_(fam.holder_account)
    client.post(start_url("prime-d-activite"), {"case": fam.case.case_number})
    draft = Draft.objects.get()
    answers = activity_answers()
    for step in ("foyer", "activite", "ressources"):
        post_step(client, draft, step, answers[step])
    assert client.get(step_url(draft, "recapitulatif")).status_code == 200
    later = last_quarter()[-1] + datetime.timedelta(days=62)  # two months on
    monkeypatch.setattr(activity_bonus, "last_quarter", lambda today=None: _quarter_of(later))
    response = client.get(step_url(draft, "recapitulatif"))
    assert response.status_code == 302 and response["Location"] == step_url(draft, "ressources")


def _quarter_of(day: datetime.date) -> list[datetime.date]:
    months, first = [], day.replace(day=1)
    for _ in range(3):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
        months.insert(0, first)
    return months


# --- Headers ---------------------------------------------------------------------------------------------------------


def test_every_page_is_private_and_not_stored(fam):
    client = as_(fam.holder_account)
    draft = housing_draft(fam.holder, fam.case)
    pages = [INDEX, resume_url(draft), delete_url(draft)]
    pages += [
        step_url(draft, step) for step in ("foyer", "logement", "loyer", "ressources", "banque", "recapitulatif")
    ]
    responses = [client.get(url) for url in pages]
    responses.append(client.post(start_url(), {"case": fam.case.case_number}))
    responses.append(post_step(client, draft, "banque", {"iban": "FR00"}))
    responses.append(client.get(step_url(draft, "inconnue")))
    response = post_step(client, draft, "recapitulatif", {"certify": "on"}, action="submit")
    reference = Submission.objects.get().reference
    responses += [response, client.get(receipt_url(reference)), client.get(receipt_pdf_url(reference))]
    for response in responses:
        cache_control = response["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, (
            response.request["PATH_INFO"],
            cache_control,
        )
        assert "Cookie" in response["Vary"]
