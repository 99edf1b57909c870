"""The periodic task: a reminder a week before a draft expires (once), then the expired drafts deleted with their
files. Both journaled."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from moncompte.journal.models import Channel, Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.procedures import services
from moncompte.procedures.models import Document, Draft
from moncompte.procedures.services import drafts_expire, drafts_remind
from moncompte.procedures.tasks import drafts_housekeeping
from tests.procedures.helpers import housing_draft

REMINDER = "procedures/notices/draft_reminder"


def _expiring_in(draft: Draft, delta: datetime.timedelta) -> Draft:
    Draft.objects.filter(pk=draft.pk).update(expires_at=timezone.now() + delta)
    draft.refresh_from_db()
    return draft


@pytest.fixture
def drafts(fam):
    """Four drafts of the holder: expiring in 3 days, in exactly 7 days less a minute, in 8 days, expired."""
    make = lambda delta: _expiring_in(housing_draft(fam.holder, fam.case, upto="logement"), delta)  # noqa: E731
    return {
        "in_3_days": make(datetime.timedelta(days=3)),
        "in_7_days": make(datetime.timedelta(days=7) - datetime.timedelta(minutes=1)),
        "in_8_days": make(datetime.timedelta(days=8)),
        "expired": make(-datetime.timedelta(minutes=1)),
    }


def test_only_drafts_expiring_within_a_week_are_reminded_and_only_once(fam, drafts):
    assert drafts_remind() == 2
    reminded = set(Draft.objects.filter(reminded_at__isnull=False).values_list("pk", flat=True))
    assert reminded == {drafts["in_3_days"].pk, drafts["in_7_days"].pk}
    notices = OutboxMessage.objects.filter(template=REMINDER)
    assert {m.person_id for m in notices} == {fam.holder.pk}
    count = notices.count()
    assert count == 2 * len({m.medium for m in notices})  # two drafts, on every validated contact
    email = notices.filter(medium="email").first()
    assert "Demande d'aide au logement" in email.body
    assert drafts_remind() == 0
    assert OutboxMessage.objects.filter(template=REMINDER).count() == count
    entries = Entry.objects.filter(kind="procedure.reminded")
    assert {e.after["draft_id"] for e in entries} == reminded
    assert all(e.person_id == fam.holder.pk and e.case_number == fam.case.case_number for e in entries)


def test_a_draft_saved_after_its_reminder_is_reminded_again_before_its_new_expiry(fam, drafts):
    drafts_remind()
    draft = drafts["in_3_days"]
    from tests.procedures.helpers import HOUSING, save

    draft = save(draft, "logement", HOUSING["logement"], fam.holder, complete=False)
    assert draft.reminded_at is None
    assert drafts_remind() == 0  # 90 days ahead now
    _expiring_in(draft, datetime.timedelta(days=2))
    assert drafts_remind() == 1


def test_expired_drafts_are_deleted_with_their_files_and_journaled(fam, media, django_capture_on_commit_callbacks):
    old = housing_draft(fam.holder, fam.case, upto="ressources")  # with its lease
    path = media / old.documents.get().file.name
    kept = housing_draft(fam.holder, fam.case, upto="ressources")
    kept_path = media / kept.documents.get().file.name
    _expiring_in(old, -datetime.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_expire() == 1
    assert list(Draft.objects.all()) == [kept]
    assert list(Document.objects.values_list("draft", flat=True)) == [kept.pk]
    assert not path.exists() and kept_path.exists()
    entry = Entry.objects.get(kind="procedure.expired")
    assert entry.person_id == fam.holder.pk and entry.before["draft_id"] == old.pk
    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_expire() == 0


def test_an_expired_draft_is_not_reminded(fam, drafts):
    drafts_remind()
    assert Draft.objects.get(pk=drafts["expired"].pk).reminded_at is None


def test_the_files_of_a_submitted_request_survive_the_housekeeping(fam, media, django_capture_on_commit_callbacks):
    draft = housing_draft(fam.holder, fam.case)
    submission = services.draft_submit(draft=draft, person=fam.holder, seen=services.version(draft))
    path = media / submission.documents.get().file.name
    with django_capture_on_commit_callbacks(execute=True):
        drafts_expire(now=timezone.now() + datetime.timedelta(days=400))
    assert path.exists()


def test_the_task_and_the_command_run_both_as_the_system(fam, drafts, django_capture_on_commit_callbacks, capsys):
    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_housekeeping() == {"reminded": 2, "expired": 1}
    assert set(Entry.objects.filter(kind__in=["procedure.reminded", "procedure.expired"]).values_list(
        "channel", flat=True)) == {Channel.SYSTEM}  # fmt: skip
    _expiring_in(drafts["in_3_days"], -datetime.timedelta(seconds=1))
    call_command("drafts_housekeeping")
    out = capsys.readouterr().out
    assert "Rappels envoyés : 0 ; démarches expirées supprimées : 1." in out
