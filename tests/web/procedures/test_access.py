"""« Mes démarches » for each member of a household, and for someone of another household: who may start, prepare,
send, see a draft or a receipt, and what the page says to those who may not."""

import pytest

from moncompte.messaging.models import OutboxMessage
from moncompte.procedures import services
from moncompte.procedures.models import Draft, Submission
from tests.helpers import page_text
from tests.procedures.helpers import housing_draft
from tests.web.procedures.helpers import (
    INDEX,
    account_of,
    as_,
    delete_url,
    followed_messages,
    messages_shown,
    post_step,
    receipt_pdf_url,
    receipt_url,
    resume_url,
    start_url,
    step_url,
)

CANNOT_SUBMIT = 'data-testid="cannot-submit"'
REFUSED = (
    "Seul l'allocataire (ou son conjoint, s'il a une délégation) peut envoyer cette demande : vous pouvez la "
    "préparer, l'allocataire l'enverra."
)


# --- The list and « Faire une demande » -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["holder", "partner"])
def test_the_holder_and_a_partner_see_the_requests_they_may_start(fam, who):
    client = as_(account_of(getattr(fam, who)))
    response = client.get(INDEX)
    assert response.status_code == 200
    text = page_text(response)
    assert "Faire une demande" in text
    assert "Demande d'aide au logement" in text and "Demande de prime d'activité" in text
    assert f'name="case" value="{fam.case.case_number}"' in response.content.decode()
    assert 'data-testid="limited-access"' not in response.content.decode()


def test_a_child_sees_no_request_to_start_and_the_limited_notice(fam):
    client = as_(account_of(fam.children[0]))
    response = client.get(INDEX)
    assert response.status_code == 200
    text = page_text(response)
    assert "Faire une demande" not in text and "Commencer" not in text
    assert 'data-testid="limited-access"' in response.content.decode()
    assert f"Les demandes de prestation du dossier n° {fam.case.case_number} sont faites par l'allocataire" in text


def test_a_new_applicant_sees_the_requests_and_starts_one_without_a_case(db):
    from tests.factories import AccountFactory

    account = AccountFactory()
    client = as_(account)
    assert "Faire une demande" in page_text(client.get(INDEX))
    response = client.post(start_url(), {})
    draft = Draft.objects.get()
    assert draft.case is None and draft.author == account.person
    assert response["Location"] == step_url(draft, "foyer")


@pytest.mark.parametrize("who", ["holder", "partner"])
def test_the_holder_and_a_partner_start_a_request_for_their_case(fam, who):
    person = getattr(fam, who)
    client = as_(account_of(person))
    response = client.post(start_url(), {"case": fam.case.case_number})
    draft = Draft.objects.get()
    assert (draft.author, draft.case) == (person, fam.case)
    assert response.status_code == 302 and response["Location"] == step_url(draft, "foyer")
    assert client.get(response["Location"]).status_code == 200


def test_a_child_cannot_start_a_request(fam):
    client = as_(account_of(fam.children[0]))
    response = client.post(start_url(), {"case": fam.case.case_number})
    assert response.status_code == 302 and response["Location"] == INDEX
    assert "Vous ne pouvez pas faire cette demande pour ce dossier." in followed_messages(client, response)
    assert not Draft.objects.exists()


@pytest.mark.parametrize("case", ["other", "", "9999999", "1\x00", "x" * 100])
def test_a_request_for_a_case_that_is_not_ones_own_is_not_started(fam, delegated, case):
    client = as_(fam.holder_account)
    response = client.post(start_url(), {"case": delegated.case.case_number if case == "other" else case})
    assert response.status_code == 302 and response["Location"] == INDEX
    assert "Choisissez le dossier pour lequel vous faites cette demande." in followed_messages(client, response)
    assert not Draft.objects.exists()


def test_an_unknown_kind_is_not_found_and_start_wants_a_post(fam):
    client = as_(fam.holder_account)
    assert client.post(start_url("allocation-inconnue"), {"case": fam.case.case_number}).status_code == 404
    assert client.get(start_url()).status_code == 405
    assert not Draft.objects.exists()


def test_the_pages_want_a_signed_in_person(fam):
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    anonymous = as_(fam.holder_account)
    anonymous.logout()
    for url in (
        INDEX,
        resume_url(draft),
        step_url(draft, "foyer"),
        delete_url(draft),
        receipt_url("AL-2026-0000-000"),
    ):
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/connexion/"), url
    assert anonymous.post(start_url(), {"case": fam.case.case_number}).status_code == 302
    assert Draft.objects.count() == 1


# --- Who sees a draft -----------------------------------------------------------------------------------------------


def _draft_pages(draft) -> list[str]:
    return [resume_url(draft), step_url(draft, "foyer"), step_url(draft, "recapitulatif"), delete_url(draft)]


def test_the_holder_opens_a_draft_the_partner_prepared_and_the_list_says_who(fam):
    draft = housing_draft(fam.partner, fam.case)
    client = as_(fam.holder_account)
    listing = page_text(client.get(INDEX))
    assert f"Préparée par {fam.partner.first_name}" in listing
    for url in _draft_pages(draft):
        assert client.get(url).status_code in (200, 302), url
    summary = client.get(step_url(draft, "recapitulatif"))
    assert summary.status_code == 200 and CANNOT_SUBMIT not in summary.content.decode()
    assert "Envoyer ma demande" in page_text(summary)


def test_a_delegated_partner_opens_the_holders_draft(delegated):
    draft = housing_draft(delegated.holder, delegated.case)
    client = as_(delegated.partner_account)
    assert client.get(step_url(draft, "logement")).status_code == 200
    assert "Envoyer ma demande" in page_text(client.get(step_url(draft, "recapitulatif")))


@pytest.mark.parametrize("who", ["partner", "child", "outsider"])
def test_a_draft_is_not_found_by_those_who_may_not_see_it(fam, delegated, who):
    """The holder's draft: a partner without delegation sees only their own, a child none, another household's
    holder none. The token alone proves nothing."""
    draft = housing_draft(fam.holder, fam.case)
    account = {"partner": fam.partner_account, "child": account_of(fam.children[0]),
               "outsider": delegated.holder_account}[who]  # fmt: skip
    client = as_(account)
    for url in _draft_pages(draft):
        assert client.get(url).status_code == 404, url
    assert post_step(client, draft, "foyer", {"situation": "couple", "children": "5"}).status_code == 404
    assert post_step(client, draft, "recapitulatif", {"certify": "on"}, action="submit").status_code == 404
    assert client.post(delete_url(draft)).status_code == 404
    assert Draft.objects.get(pk=draft.pk).data["foyer"]["children"] == "1"
    assert not Submission.objects.exists()
    assert draft.token not in page_text(client.get(INDEX))


# --- The partner without delegation: prepares, cannot send, tells the holder ----------------------------------------


@pytest.fixture
def prepared(fam):
    return housing_draft(fam.partner, fam.case)


def test_the_partner_without_delegation_sees_why_they_cannot_send(fam, prepared):
    client = as_(fam.partner_account)
    summary = client.get(step_url(prepared, "recapitulatif"))
    assert summary.status_code == 200
    content = summary.content.decode()
    assert CANNOT_SUBMIT in content
    assert "L'allocataire enverra cette demande" in page_text(summary)
    assert 'value="submit"' not in content and 'name="certify"' not in content
    assert "Prévenir l'allocataire" in page_text(summary)


def test_the_partner_without_delegation_posting_submit_is_refused_and_nothing_changes(fam, prepared):
    client = as_(fam.partner_account)
    before = Draft.objects.get(pk=prepared.pk)
    response = post_step(client, prepared, "recapitulatif", {"certify": "on"}, action="submit")
    assert response.status_code == 400
    assert REFUSED in messages_shown(response)
    after = Draft.objects.get(pk=prepared.pk)
    assert (after.data, after.saved_at, after.completed) == (before.data, before.saved_at, before.completed)
    assert not Submission.objects.exists()
    assert not OutboxMessage.objects.filter(template="procedures/notices/submitted").exists()


def test_the_partner_without_delegation_tells_the_holder(fam, prepared):
    client = as_(fam.partner_account)
    response = post_step(client, prepared, "recapitulatif", action="hand_over")
    assert response.status_code == 302 and response["Location"] == "/demarches/"
    assert "L'allocataire est prévenu : la demande l'attend dans son espace." in followed_messages(client, response)
    told = OutboxMessage.objects.filter(template="procedures/notices/draft_waiting")
    assert told.exists() and {m.person_id for m in told} == {fam.holder.pk}
    summary = client.get(step_url(prepared, "recapitulatif"))
    assert "L'allocataire a été prévenu le" in page_text(summary)
    assert "Prévenir à nouveau l'allocataire" in page_text(summary)


def test_the_holder_sends_what_the_partner_prepared_and_both_see_the_receipt(fam, prepared):
    holder = as_(fam.holder_account)
    response = post_step(holder, prepared, "recapitulatif", {"certify": "on"}, action="submit")
    submission = Submission.objects.get()
    assert response["Location"] == receipt_url(submission.reference)
    assert submission.prepared_by == fam.partner and submission.author == fam.holder
    partner = as_(fam.partner_account)
    for client in (holder, partner):
        assert client.get(receipt_url(submission.reference)).status_code == 200
        assert client.get(receipt_pdf_url(submission.reference)).content.startswith(b"%PDF")


def test_the_holder_cannot_hand_over_to_themselves(fam):
    draft = housing_draft(fam.holder, fam.case)
    response = post_step(as_(fam.holder_account), draft, "recapitulatif", action="hand_over")
    assert response.status_code == 400
    assert "Vous pouvez envoyer cette demande vous-même." in messages_shown(response)
    assert not OutboxMessage.objects.filter(template="procedures/notices/draft_waiting").exists()


def test_a_delegated_partner_sends_the_request(delegated):
    draft = housing_draft(delegated.partner, delegated.case)
    client = as_(delegated.partner_account)
    summary = client.get(step_url(draft, "recapitulatif"))
    assert CANNOT_SUBMIT not in summary.content.decode()
    response = post_step(client, draft, "recapitulatif", {"certify": "on"}, action="submit")
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.author == delegated.partner


# --- Receipts -------------------------------------------------------------------------------------------------------


@pytest.fixture
def sent_by_partner(delegated):
    draft = housing_draft(delegated.partner, delegated.case)
    return services.draft_submit(draft=draft, person=delegated.partner, seen=services.version(draft))


@pytest.mark.parametrize("who", ["partner", "holder"])
def test_the_author_and_the_holder_see_the_receipt_and_its_pdf(delegated, sent_by_partner, who):
    client = as_(getattr(delegated, f"{who}_account"))
    page = client.get(receipt_url(sent_by_partner.reference))
    assert page.status_code == 200
    text = page_text(page)
    assert sent_by_partner.reference in text and "Récépissé de votre demande" in text
    assert "FR76 •••• •••• 0189" in text and "30006000011234567890189" not in text
    pdf = client.get(receipt_pdf_url(sent_by_partner.reference))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"] == f'attachment; filename="recepisse-{sent_by_partner.reference}.pdf"'
    assert "no-store" in pdf["Cache-Control"] and "private" in pdf["Cache-Control"]


def test_a_receipt_is_found_in_lower_case_too(delegated, sent_by_partner):
    client = as_(delegated.holder_account)
    assert client.get(receipt_url(sent_by_partner.reference.lower())).status_code == 200


@pytest.mark.parametrize("who", ["outsider", "child"])
def test_another_persons_receipt_is_not_found(fam, delegated, sent_by_partner, who):
    """Another household's holder, and a child of the household (who sees only their own data)."""
    from tests.factories import MembershipFactory, PersonFactory

    if who == "outsider":
        account = fam.holder_account
    else:
        account = account_of(
            MembershipFactory(case=delegated.case, role="child", person=PersonFactory(child=True)).person
        )
    client = as_(account)
    assert client.get(receipt_url(sent_by_partner.reference)).status_code == 404
    assert client.get(receipt_pdf_url(sent_by_partner.reference)).status_code == 404
    assert sent_by_partner.reference not in page_text(client.get(INDEX))


@pytest.mark.parametrize("reference", ["AL-2026-0000-000", "x" * 30, "AL-2026-%00", "%00", "..%2F..%2Fetc"])
def test_a_receipt_that_does_not_exist_is_not_found(fam, reference):
    assert as_(fam.holder_account).get(f"/demarches/recus/{reference}/").status_code == 404


def test_the_list_shows_the_sent_requests_with_their_receipt(delegated, sent_by_partner):
    text = page_text(as_(delegated.holder_account).get(INDEX))
    assert sent_by_partner.reference in text and "Reçue par la Caf" in text
