"""Who saw what (issue 12, item 3): the access policy notes each case or member it hands out, and the looks are
written once the response is sent, one row per session, subject and hour."""

import datetime

import pytest
from django.test import Client

from moncompte.journal import reads
from moncompte.journal.context import acting
from moncompte.journal.models import Read
from tests.factories import family
from tests.helpers import sign_in_as


def signed_in(account) -> Client:
    return sign_in_as(Client(HTTP_HOST="localhost"), account, account.raw_password)


def looks():
    return list(Read.objects.order_by("id").values_list("viewer_account_id", "case_number", "person_id", "channel"))


@pytest.mark.django_db
def test_the_holder_looking_at_the_household_is_recorded_once_per_session_and_hour():
    f = family()
    client = signed_in(f.holder_account)
    assert not Read.objects.exists()  # signing in shows nobody's data

    for page in ("/mon-foyer/", "/mon-foyer/", f"/mon-foyer/{f.case.case_number}/"):
        assert client.get(page).status_code == 200

    assert looks() == [(f.holder_account.pk, f.case.case_number, None, "web")]
    read = Read.objects.get()
    assert len(read.session_ref) == 16
    assert read.hour == read.at.replace(minute=0, second=0, microsecond=0)


@pytest.mark.django_db
def test_another_session_is_another_look():
    f = family()
    signed_in(f.holder_account).get("/mon-foyer/")
    signed_in(f.holder_account).get("/mon-foyer/")
    assert Read.objects.count() == 2
    assert len(set(Read.objects.values_list("session_ref", flat=True))) == 2


@pytest.mark.django_db
def test_a_partner_without_delegation_sees_only_herself_and_no_look_at_the_case_is_recorded():
    f = family()
    assert signed_in(f.partner_account).get("/mon-foyer/").status_code == 200
    assert not Read.objects.exists()


@pytest.mark.django_db
def test_a_delegated_partner_looking_at_the_case_is_recorded():
    f = family(delegated=True)
    signed_in(f.partner_account).get("/mon-foyer/")
    assert looks() == [(f.partner_account.pk, f.case.case_number, None, "web")]


@pytest.mark.django_db
def test_the_member_a_holder_acts_on_is_recorded_as_a_person():
    f = family(children=1)
    client = signed_in(f.holder_account)
    child = f.children[0]
    assert client.get(f"/mon-foyer/{f.case.case_number}/inviter/{child.pk}/").status_code == 200
    assert (f.holder_account.pk, "", child.pk, "web") in looks()


@pytest.mark.django_db
def test_a_page_that_is_refused_records_nothing():
    f, other = family(), family()
    client = signed_in(f.holder_account)
    assert client.get(f"/mon-foyer/{other.case.case_number}/").status_code == 404
    assert not Read.objects.filter(case_number=other.case.case_number).exists()


@pytest.mark.django_db
def test_outside_a_request_nobody_is_looking():
    reads.seen(case_number="1234567")  # a command, a task: no collection open
    assert not Read.objects.exists()


@pytest.mark.django_db
def test_a_look_written_twice_is_one_row_even_across_processes():
    """Another process (or this one after forgetting) writes the same look: the unique constraint keeps one row."""
    with acting(actor_account_id=7, session_ref="abcdef0123456789"):
        for _ in range(2):
            with reads.collecting() as subjects:
                reads.seen(case_number="1234567")
            assert reads.write(subjects, viewer_account_id=7, session_ref="abcdef0123456789", channel="web") == 1
            reads.forget()
    assert Read.objects.count() == 1


@pytest.mark.django_db
def test_the_looks_of_a_window():
    with reads.collecting() as subjects:
        reads.seen(case_number="1234567")
        reads.seen(person_id=42)
    reads.write(subjects, viewer_account_id=7, session_ref="s", channel="web")
    now = Read.objects.first().at
    minute = datetime.timedelta(minutes=1)
    assert reads.in_window(now - minute, now + minute).count() == 2
    assert reads.in_window(now + minute, now + 2 * minute).count() == 0
