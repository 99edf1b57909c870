"""Each reversible procedure action undone through the journal (journal.services.undo), as the incident tooling
does."""

import pytest
from django.utils import timezone

from moncompte.journal.models import Entry
from moncompte.journal.services import UndoError, undo
from moncompte.procedures import services
from moncompte.procedures.housing_aid import HOUSING_AID
from moncompte.procedures.models import Document, Draft, Submission
from tests.procedures.helpers import HOUSING, add_lease, housing_draft, save


def _last(kind: str) -> Entry:
    return Entry.objects.filter(kind=kind).order_by("-id").first()


def test_undoing_a_start_deletes_the_draft_and_its_documents(fam, media, django_capture_on_commit_callbacks):
    draft = housing_draft(fam.holder, fam.case, upto="ressources")
    path = media / draft.documents.get().file.name
    with django_capture_on_commit_callbacks(execute=True):
        undo_entry = undo(_last("procedure.started"))
    assert not Draft.objects.exists() and not Document.objects.exists() and not path.exists()
    assert undo_entry.kind == "procedure.started.undone"
    assert _last("procedure.started").undone_by == undo_entry


def test_undoing_a_save_puts_the_step_back_as_it_was(fam):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    before = Draft.objects.get(pk=draft.pk)
    save(draft, "foyer", {"situation": "couple", "children": "3"}, fam.holder)
    undo(_last("procedure.saved"))
    after = Draft.objects.get(pk=draft.pk)
    assert after.data == before.data
    assert (after.completed, after.current_step) == (["foyer", "logement"], "loyer")


def test_undoing_the_first_save_of_a_step_removes_it(fam):
    draft = services.draft_start(kind=HOUSING_AID, person=fam.holder, case=fam.case)
    save(draft, "foyer", HOUSING["foyer"], fam.holder)
    undo(_last("procedure.saved"))
    draft.refresh_from_db()
    assert (draft.data, draft.completed, draft.current_step) == ({}, [], "foyer")


def test_undoing_a_save_of_a_draft_since_deleted_does_nothing(fam):
    draft = housing_draft(fam.holder, fam.case, upto="logement")
    services.draft_delete(draft=draft, person=fam.holder)
    undo(_last("procedure.saved"))
    assert not Draft.objects.exists()


def test_undoing_a_document_removes_it_and_its_file(fam, media, django_capture_on_commit_callbacks):
    draft = housing_draft(fam.holder, fam.case, upto="loyer")
    document = add_lease(draft, fam.holder)
    path = media / document.file.name
    with django_capture_on_commit_callbacks(execute=True):
        undo(_last("procedure.document_added"))
    assert not Document.objects.exists() and not path.exists()


def test_undoing_a_document_since_sent_keeps_it(fam, media, django_capture_on_commit_callbacks):
    draft = housing_draft(fam.holder, fam.case)
    submission = services.draft_submit(draft=draft, person=fam.holder, seen=services.version(draft))
    with django_capture_on_commit_callbacks(execute=True):
        undo(_last("procedure.document_added"))
    assert submission.documents.count() == 1
    assert (media / submission.documents.get().file.name).exists()


@pytest.fixture
def sent(fam):
    draft = housing_draft(fam.partner, fam.case)
    draft = save(draft, "foyer", HOUSING["foyer"], fam.partner)  # back to an earlier step, then to the summary
    assert draft.current_step == "logement"
    draft.refresh_from_db()
    return services.draft_submit(draft=draft, person=fam.holder, seen=services.version(draft))


def test_undoing_a_submission_withdraws_it_and_brings_the_draft_back_at_the_summary(fam, sent):
    undo(_last("procedure.submitted"))
    sent.refresh_from_db()
    assert sent.withdrawn_at is not None
    draft = Draft.objects.get()
    assert draft.author == fam.partner and draft.case == fam.case
    assert draft.current_step == "recapitulatif"
    assert draft.completed == ["foyer", "logement", "loyer", "ressources", "banque"]
    assert draft.data == sent.data["raw"]
    assert draft.expires_at > timezone.now()
    assert list(draft.documents.all()) == list(sent.documents.all())
    services.check_complete(draft, HOUSING_AID, fam.holder)  # ready to be sent again


def test_a_withdrawn_request_can_be_sent_again_with_a_new_reference(fam, sent):
    undo(_last("procedure.submitted"))
    draft = Draft.objects.get()
    again = services.draft_submit(draft=draft, person=fam.holder, seen=services.version(draft))
    assert again.reference != sent.reference
    assert again.documents.count() == 1


def test_a_document_of_a_restored_draft_can_be_removed(fam, sent):
    undo(_last("procedure.submitted"))
    draft = Draft.objects.get()
    services.document_remove(draft=draft, document_id=draft.documents.get().pk, person=fam.holder)
    assert not draft.documents.exists()


def test_a_processed_submission_cannot_be_undone_and_nothing_changes(sent):
    Submission.objects.filter(pk=sent.pk).update(processed_at=timezone.now())
    entry = _last("procedure.submitted")
    with pytest.raises(UndoError) as refused:
        undo(entry)
    assert "déjà été traitée par un agent" in str(refused.value)
    sent.refresh_from_db()
    assert sent.withdrawn_at is None and not Draft.objects.exists()
    entry.refresh_from_db()
    assert entry.undone_at is None
    assert not Entry.objects.filter(kind="procedure.submitted.undone").exists()


def test_an_undone_submission_cannot_be_undone_twice(sent):
    entry = _last("procedure.submitted")
    undo(entry)
    with pytest.raises(UndoError):
        undo(entry)
    assert Draft.objects.count() == 1


@pytest.mark.parametrize(
    "kind",
    ["procedure.document_removed", "procedure.handed_over", "procedure.deleted", "procedure.reminded",
     "procedure.expired"],
)  # fmt: skip
def test_the_other_kinds_are_not_reversible(kind):
    from moncompte.journal import kinds
    from moncompte.journal.services import is_reversible

    assert not is_reversible(kind) and not kinds.get(kind).reversible


@pytest.mark.parametrize(
    "kind", ["procedure.started", "procedure.saved", "procedure.document_added", "procedure.submitted"]
)
def test_the_reversible_kinds_say_so_and_have_a_handler(kind):
    from moncompte.journal import kinds
    from moncompte.journal.services import is_reversible

    assert is_reversible(kind) and kinds.get(kind).reversible
