"""A submission is frozen once sent: only its withdrawal (an undo) and its processing (an agent) change it."""

import pytest
from django.utils import timezone

from moncompte.procedures import services
from moncompte.procedures.models import Document, Submission
from tests.procedures.helpers import housing_draft


@pytest.fixture
def submission(fam) -> Submission:
    draft = housing_draft(fam.holder, fam.case)
    return services.draft_submit(draft=draft, person=fam.holder, seen=services.version(draft))


def test_a_submission_saved_again_without_update_fields_raises(submission):
    submission.data = {"raw": {}}
    with pytest.raises(ValueError, match="immutable"):
        submission.save()
    submission.refresh_from_db()
    assert submission.data["raw"]["foyer"] == {"situation": "alone", "children": "1"}


@pytest.mark.parametrize("fields", [["data"], ["corrections"], ["withdrawn_at", "data"], ["reference"], ["author"]])
def test_a_submission_refuses_any_field_but_its_withdrawal_and_processing(submission, fields):
    with pytest.raises(ValueError):
        submission.save(update_fields=fields)


def test_a_submission_may_be_withdrawn_and_processed(submission):
    now = timezone.now()
    submission.withdrawn_at = now
    submission.save(update_fields=["withdrawn_at"])
    submission.processed_at = now
    submission.save(update_fields=["processed_at"])
    submission.refresh_from_db()
    assert submission.withdrawn_at == now and submission.processed_at == now


def test_a_submission_cannot_be_deleted_while_it_holds_documents(submission):
    from django.db.models import ProtectedError

    assert Document.objects.filter(submission=submission).count() == 1
    with pytest.raises(ProtectedError):
        submission.delete()


def test_a_document_is_stored_under_a_random_name_with_the_extension_of_its_content(fam):
    draft = housing_draft(fam.holder, fam.case)
    document = draft.documents.get()
    assert document.file.name.startswith("pieces/")
    assert document.file.name.endswith(".pdf")
    assert "bail" not in document.file.name
    assert document.original_name == "bail.pdf"
