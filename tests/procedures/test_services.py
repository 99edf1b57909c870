"""The procedure services: start, save a step (complete or « to finish later »), documents, hand over, submit."""

import datetime

import pytest
from django.core.files.storage import default_storage
from django.utils import formats, timezone

from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.procedures import services
from moncompte.procedures.activity_bonus import last_quarter
from moncompte.procedures.documents import DocumentRefused
from moncompte.procedures.housing_aid import HOUSING_AID
from moncompte.procedures.models import Document, Draft, Submission
from moncompte.procedures.services import DraftGone, DraftIncomplete, ProcedureError, StaleDraft
from moncompte.procedures.steps import raw_from
from tests.factories import AccountFactory, PersonFactory
from tests.procedures.helpers import (
    HOUSING,
    activity_answers,
    activity_draft,
    add_lease,
    housing_draft,
    image_bytes,
    pdf_bytes,
    save,
    upload,
)

SUBMITTED = "procedures/notices/submitted"
WAITING = "procedures/notices/draft_waiting"


def _snapshot(draft: Draft) -> tuple:
    draft = Draft.objects.get(pk=draft.pk)
    return draft.data, draft.completed, draft.current_step, draft.saved_at, draft.expires_at, draft.reminded_at


def _kinds() -> list[str]:
    return list(Entry.objects.order_by("id").values_list("kind", flat=True))


# --- Starting -------------------------------------------------------------------------------------------------------


def test_a_holder_starts_a_request_at_its_first_step_and_it_is_journaled(fam):
    draft = services.draft_start(kind=HOUSING_AID, person=fam.holder, case=fam.case)
    assert (draft.kind, draft.case, draft.author, draft.current_step) == (
        "aide-au-logement",
        fam.case,
        fam.holder,
        "foyer",
    )
    assert draft.completed == [] and draft.data == {}
    assert abs(draft.expires_at - timezone.now() - datetime.timedelta(days=90)) < datetime.timedelta(minutes=1)
    entry = Entry.objects.get(kind="procedure.started")
    assert entry.person_id == fam.holder.pk and entry.case_number == fam.case.case_number
    assert entry.after == {"draft_id": draft.pk, "kind": "aide-au-logement"}


def test_the_expiry_follows_the_setting(fam, settings):
    settings.PROCEDURE_DRAFT_DAYS = 10
    draft = services.draft_start(kind=HOUSING_AID, person=fam.holder, case=fam.case)
    assert draft.expires_at - draft.saved_at == datetime.timedelta(days=10)


def test_a_partner_without_delegation_may_prepare_a_household_request(fam):
    draft = services.draft_start(kind=HOUSING_AID, person=fam.partner, case=fam.case)
    assert draft.author == fam.partner


def test_a_child_may_not_start_a_request_and_nothing_is_recorded(fam):
    with pytest.raises(ProcedureError) as refused:
        services.draft_start(kind=HOUSING_AID, person=fam.children[0], case=fam.case)
    assert refused.value.message == "Vous ne pouvez pas faire cette demande pour ce dossier."
    assert not Draft.objects.exists() and not Entry.objects.exists()


def test_nobody_starts_a_request_for_a_case_they_do_not_belong_to(fam, delegated):
    with pytest.raises(ProcedureError):
        services.draft_start(kind=HOUSING_AID, person=delegated.holder, case=fam.case)


def test_a_new_applicant_starts_their_own_request_without_a_case(db):
    person = AccountFactory(person=PersonFactory()).person
    draft = services.draft_start(kind=HOUSING_AID, person=person, case=None)
    assert draft.case is None
    assert services.may_submit(person, draft)


def test_a_member_of_a_case_may_not_start_a_request_without_a_case(fam):
    with pytest.raises(ProcedureError):
        services.draft_start(kind=HOUSING_AID, person=fam.holder, case=None)


# --- Saving steps ---------------------------------------------------------------------------------------------------


def test_a_completed_step_moves_the_draft_to_the_next_one(fam):
    draft = services.draft_start(kind=HOUSING_AID, person=fam.holder, case=fam.case)
    draft = save(draft, "foyer", HOUSING["foyer"], fam.holder)
    assert draft.completed == ["foyer"] and draft.current_step == "logement"
    assert draft.data == {"foyer": HOUSING["foyer"]}
    entry = Entry.objects.get(kind="procedure.saved")
    assert entry.after == {"draft_id": draft.pk, "step": "foyer", "complete": True}
    assert entry.before == {"step": "foyer", "values": None, "completed": [], "current_step": "foyer", "prefill": None}


def test_the_completed_steps_keep_the_order_of_the_kind_whatever_the_order_of_the_saves(fam):
    draft = housing_draft(fam.holder, fam.case, upto="ressources")
    assert draft.completed == ["foyer", "logement", "loyer"]
    draft = save(draft, "logement", HOUSING["logement"], fam.holder, complete=False)
    assert draft.completed == ["foyer", "loyer"] and draft.current_step == "logement"
    draft = save(draft, "logement", HOUSING["logement"], fam.holder)
    assert draft.completed == ["foyer", "logement", "loyer"]
    assert draft.current_step == "loyer"  # the step after the one just completed


def test_save_for_later_keeps_what_was_typed_even_if_invalid_and_resumes_there(fam):
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    typed = {**HOUSING["logement"], "postcode": "7501", "surface": "beaucoup"}
    draft = save(draft, "logement", typed, fam.holder, complete=False)
    assert draft.data["logement"] == typed
    assert draft.current_step == "logement" and draft.completed == ["foyer"]
    assert Entry.objects.filter(kind="procedure.saved").first().after["complete"] is False


def test_saving_an_earlier_step_for_later_takes_it_out_of_the_completed_ones(fam):
    draft = housing_draft(fam.holder, fam.case)
    draft = save(draft, "foyer", {"situation": ""}, fam.holder, complete=False)
    assert "foyer" not in draft.completed and draft.current_step == "foyer"
    with pytest.raises(DraftIncomplete) as incomplete:
        services.check_complete(draft, HOUSING_AID, fam.holder)
    assert incomplete.value.step == "foyer"


def test_a_save_extends_the_expiry_and_allows_a_new_reminder(fam):
    draft = services.draft_start(kind=HOUSING_AID, person=fam.holder, case=fam.case)
    soon = timezone.now() + datetime.timedelta(days=3)
    Draft.objects.filter(pk=draft.pk).update(expires_at=soon, reminded_at=timezone.now())
    draft = save(draft, "foyer", HOUSING["foyer"], fam.holder, complete=False)
    assert draft.reminded_at is None
    assert draft.expires_at > timezone.now() + datetime.timedelta(days=89)
    draft.refresh_from_db()
    assert draft.reminded_at is None and draft.expires_at > soon


def test_a_save_from_a_page_shown_before_another_save_is_refused_and_changes_nothing(fam):
    draft = services.draft_start(kind=HOUSING_AID, person=fam.holder, case=fam.case)
    old = services.version(draft)
    draft = save(draft, "foyer", HOUSING["foyer"], fam.holder)  # another tab
    before = _snapshot(draft)
    entries = Entry.objects.count()
    with pytest.raises(StaleDraft) as stale:
        services.step_save(
            draft=draft, step=HOUSING_AID.step("foyer"), raw={"situation": "couple"}, person=fam.holder, seen=old,
            complete=True,
        )  # fmt: skip
    assert "rien n'a été enregistré" in stale.value.message
    assert _snapshot(draft) == before and Entry.objects.count() == entries


@pytest.mark.parametrize("seen", ["", "0", "abc", "1" * 30, "\x00"])
def test_a_tampered_version_is_refused(fam, seen):
    draft = services.draft_start(kind=HOUSING_AID, person=fam.holder, case=fam.case)
    before = _snapshot(draft)
    with pytest.raises(StaleDraft):
        services.step_save(
            draft=draft, step=HOUSING_AID.step("foyer"), raw=HOUSING["foyer"], person=fam.holder, seen=seen,
            complete=True,
        )  # fmt: skip
    assert _snapshot(draft) == before


def test_an_expired_draft_cannot_be_saved(fam):
    draft = services.draft_start(kind=HOUSING_AID, person=fam.holder, case=fam.case)
    Draft.objects.filter(pk=draft.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    draft.refresh_from_db()
    with pytest.raises(DraftGone) as gone:
        services.step_save(
            draft=draft, step=HOUSING_AID.step("foyer"), raw=HOUSING["foyer"], person=fam.holder,
            seen=services.version(draft), complete=True,
        )  # fmt: skip
    assert "son délai de conservation est passé" in gone.value.message
    assert Draft.objects.get(pk=draft.pk).data == {}


def test_a_deleted_draft_cannot_be_saved(fam):
    draft = services.draft_start(kind=HOUSING_AID, person=fam.holder, case=fam.case)
    seen = services.version(draft)
    Draft.objects.filter(pk=draft.pk).delete()
    with pytest.raises(DraftGone):
        services.step_save(
            draft=draft, step=HOUSING_AID.step("foyer"), raw={}, person=fam.holder, seen=seen, complete=False
        )


def test_a_draft_of_a_kind_withdrawn_from_the_catalogue_is_gone(fam):
    draft = services.draft_start(kind=HOUSING_AID, person=fam.holder, case=fam.case)
    Draft.objects.filter(pk=draft.pk).update(kind="ancienne-demarche")
    draft.refresh_from_db()
    with pytest.raises(DraftGone):
        services.kind_of(draft)


def test_what_is_kept_of_a_post_is_the_steps_fields_only_and_bounded():
    from django.http import QueryDict

    from moncompte.procedures.housing_aid import HousingForm
    from moncompte.procedures.registry import StepContext

    post = QueryDict(mutable=True)
    post.update({"address": "x" * 10_000, "city": "Paris", "csrfmiddlewaretoken": "t", "version": "1", "evil": "1"})
    form = HousingForm(data=post, ctx=StepContext(person=None, case=None, data={}, sees_household=False))
    raw = raw_from(form, post)
    assert set(raw) == {"address", "city"}
    assert len(raw["address"]) == 1000


def test_a_nul_byte_typed_in_a_field_is_not_kept_in_the_draft():
    """PostgreSQL refuses \\u0000 in a jsonb value: « Enregistrer et reprendre plus tard » would fail on it."""
    from django.http import QueryDict

    from moncompte.procedures.housing_aid import HousingForm
    from moncompte.procedures.registry import StepContext

    post = QueryDict(mutable=True)
    post.update({"address": "12 rue\x00 des Lilas", "city": "\x00"})
    form = HousingForm(data=post, ctx=StepContext(person=None, case=None, data={}, sees_household=False))
    raw = raw_from(form, post)
    assert "\x00" not in repr(raw)
    assert raw["address"] == "12 rue des Lilas"


# --- Documents ------------------------------------------------------------------------------------------------------


def test_a_document_is_kept_in_storage_with_its_checked_type(fam, media):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    document = add_lease(draft, fam.holder, content=image_bytes("PNG"), name="quittance.pdf")
    assert (document.content_type, document.original_name, document.purpose) == ("image/png", "quittance.pdf", "bail")
    assert document.file.name.endswith(".png")
    with default_storage.open(document.file.name) as stored:
        assert stored.read() == image_bytes("PNG")
    assert (media / document.file.name).exists()
    assert Entry.objects.filter(kind="procedure.document_added").first().after["document_id"] == document.pk


def test_a_refused_document_leaves_no_row_and_no_file(fam, media):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    with pytest.raises(DocumentRefused):
        add_lease(draft, fam.holder, content=b"MZ not a pdf", name="bail.pdf")
    assert not Document.objects.exists()
    assert not (media / "pieces").exists() or not any((media / "pieces").rglob("*.*"))


def test_a_document_added_with_a_stale_version_leaves_no_row_and_no_file(fam, media):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    with pytest.raises(StaleDraft):
        services.document_add(
            draft=draft, step=HOUSING_AID.step("loyer"), slot="bail", upload=upload("bail.pdf", pdf_bytes()),
            person=fam.holder, seen="1",
        )  # fmt: skip
    assert not Document.objects.exists()
    assert not any(media.rglob("*.pdf"))


def test_a_document_for_a_slot_the_step_does_not_ask_for_is_refused(fam):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    with pytest.raises(ProcedureError):
        services.document_add(
            draft=draft, step=HOUSING_AID.step("loyer"), slot="rib", upload=upload("rib.pdf", pdf_bytes()),
            person=fam.holder,
        )  # fmt: skip


def test_at_most_five_documents_per_slot(fam):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    for _ in range(5):
        add_lease(draft, fam.holder)
    with pytest.raises(ProcedureError) as refused:
        add_lease(draft, fam.holder)
    assert "5 fichiers" in refused.value.message
    assert draft.documents.count() == 5


def test_adding_a_document_changes_the_version(fam):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    before = services.version(draft)
    document = add_lease(draft, fam.holder)
    assert services.version(document.draft) != before
    document.draft.refresh_from_db()
    assert services.version(document.draft) == services.version(Draft.objects.get(pk=draft.pk))


def test_a_removed_document_leaves_the_storage_after_the_commit(fam, media, django_capture_on_commit_callbacks):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    document = add_lease(draft, fam.holder)
    path = media / document.file.name
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.document_remove(draft=draft, document_id=str(document.pk), person=fam.holder)
    assert not Document.objects.exists() and not path.exists()
    assert Entry.objects.filter(kind="procedure.document_removed").first().before["document_id"] == document.pk


@pytest.mark.parametrize("document_id", ["", "abc", "-1", "0", str(2**63), "1\x00", None])
def test_removing_a_document_that_is_not_one_of_the_draft_says_so(fam, delegated, document_id):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    add_lease(draft, fam.holder)
    with pytest.raises(ProcedureError) as refused:
        services.document_remove(draft=draft, document_id=document_id, person=fam.holder)
    assert refused.value.message == "Ce fichier n'est pas (ou plus) dans cette démarche."
    assert draft.documents.count() == 1


def test_a_document_of_another_draft_cannot_be_removed_through_this_one(fam, delegated):
    mine = housing_draft(fam.holder, fam.case, upto="loyer")
    other = housing_draft(delegated.holder, delegated.case, upto="loyer")
    theirs = add_lease(other, delegated.holder)
    with pytest.raises(ProcedureError):
        services.document_remove(draft=mine, document_id=theirs.pk, person=fam.holder)
    assert Document.objects.filter(pk=theirs.pk).exists()


def test_a_deleted_draft_takes_its_documents_and_files_with_it(fam, media, django_capture_on_commit_callbacks):
    draft = housing_draft(fam.holder, fam.case)
    path = media / draft.documents.get().file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.draft_delete(draft=draft, person=fam.holder)
    assert not Draft.objects.exists() and not Document.objects.exists() and not path.exists()
    assert Entry.objects.filter(kind="procedure.deleted").first().before["draft_id"] == draft.pk


# --- Checking everything again before sending -----------------------------------------------------------------------


def test_a_complete_draft_passes_the_check(fam):
    draft = housing_draft(fam.holder, fam.case)
    forms = services.check_complete(draft, HOUSING_AID, fam.holder)
    assert [step.name for step, _ in forms] == ["foyer", "logement", "loyer", "ressources", "banque"]


def test_a_step_whose_stored_data_became_invalid_sends_the_person_back_to_it(fam):
    draft = housing_draft(fam.holder, fam.case)
    Draft.objects.filter(pk=draft.pk).update(data={**draft.data, "logement": {**HOUSING["logement"], "postcode": "X"}})
    draft.refresh_from_db()
    assert "logement" in draft.completed
    with pytest.raises(DraftIncomplete) as incomplete:
        services.check_complete(draft, HOUSING_AID, fam.holder)
    assert incomplete.value.step == "logement"
    assert incomplete.value.message == "L'étape « Votre logement » est à compléter avant l'envoi."


def test_a_date_valid_when_typed_may_be_checked_again_later(fam):
    """The couple step changed after the resources step: the resources step now asks for the partner's income."""
    draft = housing_draft(fam.holder, fam.case)
    Draft.objects.filter(pk=draft.pk).update(data={**draft.data, "foyer": {"situation": "couple", "children": "1"}})
    draft.refresh_from_db()
    with pytest.raises(DraftIncomplete) as incomplete:
        services.check_complete(draft, HOUSING_AID, fam.holder)
    assert incomplete.value.step == "ressources"


def test_a_missing_required_document_sends_the_person_back_to_its_step(fam):
    draft = housing_draft(fam.holder, fam.case)
    draft.documents.all().delete()
    with pytest.raises(DraftIncomplete) as incomplete:
        services.check_complete(draft, HOUSING_AID, fam.holder)
    assert incomplete.value.step == "loyer"
    assert "pièce justificative manque" in incomplete.value.message


# --- Sending ---------------------------------------------------------------------------------------------------------


def _submit(draft: Draft, person) -> Submission:
    draft.refresh_from_db()
    return services.draft_submit(draft=draft, person=person, seen=services.version(draft))


def test_a_holder_sends_their_request(fam, media):
    draft = housing_draft(fam.holder, fam.case)
    document = draft.documents.get()
    submission = _submit(draft, fam.holder)
    assert (submission.author, submission.prepared_by, submission.case) == (fam.holder, None, fam.case)
    assert submission.data["raw"] == draft.data
    assert [s["step"] for s in submission.data["summary"]] == ["foyer", "logement", "loyer", "ressources", "banque"]
    assert not Draft.objects.exists()
    document.refresh_from_db()
    assert document.submission == submission and document.draft is None
    assert (media / document.file.name).exists()  # the file stays: the submission holds it now
    assert Entry.objects.filter(kind="procedure.submitted").get().after["reference"] == submission.reference
    notices = OutboxMessage.objects.filter(template=SUBMITTED)
    assert {m.person_id for m in notices} == {fam.holder.pk}
    assert all(submission.reference in m.body for m in notices)


def test_the_summary_kept_with_the_submission_masks_the_iban_and_is_in_french(fam):
    from django.utils import translation

    draft = housing_draft(fam.holder, fam.case)
    with translation.override("en"):
        submission = _submit(draft, fam.holder)
    bank = next(s for s in submission.data["summary"] if s["step"] == "banque")
    assert bank["title"] == "Vos coordonnées bancaires"
    assert ["IBAN", "FR76 •••• •••• 0189"] in bank["rows"]
    loyer = next(s for s in submission.data["summary"] if s["step"] == "loyer")
    assert loyer["documents"] == [["Bail ou dernière quittance de loyer", ["bail.pdf"]]]


def test_a_partner_without_delegation_cannot_send_and_nothing_changes(fam):
    draft = housing_draft(fam.partner, fam.case)
    before, entries = _snapshot(draft), _kinds()
    with pytest.raises(ProcedureError) as refused:
        _submit(draft, fam.partner)
    assert refused.value.message.startswith("Seul l'allocataire (ou son conjoint, s'il a une délégation)")
    assert _snapshot(draft) == before and _kinds() == entries
    assert not Submission.objects.exists() and not OutboxMessage.objects.filter(template=SUBMITTED).exists()
    assert draft.documents.get().submission is None


def test_a_partner_with_the_delegation_sends_the_request(delegated):
    draft = housing_draft(delegated.partner, delegated.case)
    submission = _submit(draft, delegated.partner)
    assert submission.author == delegated.partner and submission.prepared_by is None


def test_the_holder_sends_a_request_the_partner_prepared(fam):
    draft = housing_draft(fam.partner, fam.case)
    submission = _submit(draft, fam.holder)
    assert submission.author == fam.holder and submission.prepared_by == fam.partner
    notices = OutboxMessage.objects.filter(template=SUBMITTED)
    assert {m.person_id for m in notices} == {fam.holder.pk, fam.partner.pk}
    assert not Draft.objects.exists()


def test_a_child_cannot_send_a_request_of_the_case(fam):
    draft = housing_draft(fam.holder, fam.case)
    with pytest.raises(ProcedureError):
        _submit(draft, fam.children[0])
    assert Draft.objects.exists()


def test_a_new_applicant_sends_their_own_request(db):
    person = AccountFactory().person
    draft = housing_draft(person, None)
    submission = _submit(draft, person)
    assert submission.case is None and submission.author == person
    assert OutboxMessage.objects.filter(template=SUBMITTED, person_id=person.pk).exists()


def test_a_request_cannot_be_sent_twice(fam):
    draft = housing_draft(fam.holder, fam.case)
    seen = services.version(draft)
    services.draft_submit(draft=draft, person=fam.holder, seen=seen)
    with pytest.raises(DraftGone):
        services.draft_submit(draft=draft, person=fam.holder, seen=seen)
    assert Submission.objects.count() == 1


def test_a_request_sent_from_a_stale_summary_is_refused(fam):
    draft = housing_draft(fam.holder, fam.case)
    seen = services.version(draft)
    save(draft, "foyer", HOUSING["foyer"], fam.holder)
    with pytest.raises(StaleDraft):
        services.draft_submit(draft=draft, person=fam.holder, seen=seen)
    assert not Submission.objects.exists()


def test_an_incomplete_request_cannot_be_sent(fam):
    draft = housing_draft(fam.holder, fam.case, upto="banque")
    with pytest.raises(DraftIncomplete) as incomplete:
        _submit(draft, fam.holder)
    assert incomplete.value.step == "banque"
    assert not Submission.objects.exists()


def test_a_prime_d_activite_is_sent_with_the_months_named(fam):
    draft = activity_draft(fam.holder, fam.case)
    submission = _submit(draft, fam.holder)
    assert submission.reference.startswith("PA-")
    resources = next(s for s in submission.data["summary"] if s["step"] == "ressources")
    labels = [label for label, _value in resources["rows"]]
    assert len(labels) == 9
    for month in last_quarter():
        name = formats.date_format(month, "F Y")
        assert f"Salaires ou revenus d'activité en {name} (€)" in labels
    assert set(submission.data["raw"]["ressources"]) == set(activity_answers()["ressources"])


# --- Handing over to the holder --------------------------------------------------------------------------------------


def test_a_partner_without_delegation_hands_a_complete_draft_over_and_the_holder_is_told_each_time(fam):
    draft = housing_draft(fam.partner, fam.case)
    services.draft_hand_over(draft=draft, person=fam.partner)
    waiting = OutboxMessage.objects.filter(template=WAITING)
    assert {m.person_id for m in waiting} == {fam.holder.pk}
    once = waiting.count()
    assert once >= 1 and all(fam.case.case_number in m.body for m in waiting)
    draft.refresh_from_db()
    assert draft.holder_told_at is not None
    assert Entry.objects.get(kind="procedure.handed_over").after == {"draft_id": draft.pk, "holder_id": fam.holder.pk}
    services.draft_hand_over(draft=draft, person=fam.partner)
    assert OutboxMessage.objects.filter(template=WAITING).count() == 2 * once


def test_the_holder_or_a_delegated_partner_cannot_hand_over_they_send_it_themselves(fam, delegated):
    for person, case in ((fam.holder, fam.case), (delegated.partner, delegated.case)):
        draft = housing_draft(person, case)
        with pytest.raises(ProcedureError) as refused:
            services.draft_hand_over(draft=draft, person=person)
        assert refused.value.message == "Vous pouvez envoyer cette demande vous-même."
        assert Draft.objects.get(pk=draft.pk).holder_told_at is None
    assert not OutboxMessage.objects.filter(template=WAITING).exists()


def test_an_incomplete_draft_is_not_handed_over(fam):
    draft = housing_draft(fam.partner, fam.case, upto="banque")
    with pytest.raises(DraftIncomplete):
        services.draft_hand_over(draft=draft, person=fam.partner)
    assert not OutboxMessage.objects.filter(template=WAITING).exists()


def test_a_case_without_a_holder_cannot_be_handed_over(fam):
    draft = housing_draft(fam.partner, fam.case)
    fam.case.memberships.filter(person=fam.holder).delete()
    with pytest.raises(ProcedureError) as refused:
        services.draft_hand_over(draft=draft, person=fam.partner)
    assert "pas d'allocataire" in refused.value.message


def test_the_holder_sees_the_draft_a_partner_prepared_and_the_partner_sees_only_their_own(fam):
    from moncompte.procedures import selectors

    by_partner = housing_draft(fam.partner, fam.case, upto="logement")
    by_holder = housing_draft(fam.holder, fam.case, upto="logement")
    assert set(selectors.drafts_visible(fam.holder)) == {by_partner, by_holder}
    assert set(selectors.drafts_visible(fam.partner)) == {by_partner}
    assert set(selectors.drafts_visible(fam.children[0])) == set()
