"""The calls' records are forgotten PHONE_CALL_DAYS after their last answer; the journal keeps what they did."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from moncompte.journal.models import Entry
from moncompte.phone.models import Call
from moncompte.phone.services import calls_forget
from tests.phone.helpers import identify

pytestmark = pytest.mark.django_db


def test_old_calls_are_forgotten_and_the_journal_keeps_what_they_did(phone, household, settings):
    identify(phone(), household)
    recent = phone()
    recent.dial()
    old = Call.objects.exclude(sid=recent.sid).get()
    Call.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=settings.PHONE_CALL_DAYS, seconds=1)
    )

    assert calls_forget() == 1

    assert list(Call.objects.values_list("sid", flat=True)) == [recent.sid]
    assert Entry.objects.filter(kind="phone.identified").count() == 1
    assert Entry.objects.get(kind="phone.calls_forgotten").after == {"calls": 1, "days": settings.PHONE_CALL_DAYS}


def test_the_command_says_how_many_and_a_second_run_forgets_nothing_more(phone, household, capsys):
    phone().dial()
    Call.objects.update(updated_at=timezone.now() - datetime.timedelta(days=400))

    call_command("calls_housekeeping")
    call_command("calls_housekeeping")

    assert capsys.readouterr().out.splitlines() == ["Appels oubliés : 1.", "Appels oubliés : 0."]
    assert Entry.objects.filter(kind="phone.calls_forgotten").count() == 1
