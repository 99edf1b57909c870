""" "Mes sessions" (issue 3, item 8): the active sessions with device and last activity; sign out one (only one's
own), all the others, or all. A session signed out elsewhere ends at its next request, whatever the session store."""

import datetime
import re
import time

import pytest
from django.conf import settings
from django.utils import timezone

from moncompte.accounts.models import SessionRecord
from moncompte.accounts.sessions import SESSION_RECORD_KEY
from moncompte.journal.context import session_ref
from moncompte.journal.models import Entry
from tests.factories import AccountFactory
from tests.helpers import last_code, page_text
from tests.web.helpers import CHROME_ANDROID, DASHBOARD, END, FIREFOX_WINDOWS, LOGIN, SESSIONS, device, login

LOGOUT = "/deconnexion/"
PASSWORD = "/mon-espace/mot-de-passe/"
RESET = "/mot-de-passe-oublie/"
RESET_CODE = "/mot-de-passe-oublie/code/"
CLOSED = "Cette session a été fermée. Connectez-vous à nouveau."


@pytest.fixture
def two_devices(migrated):
    laptop, phone = device(FIREFOX_WINDOWS, "203.0.113.45"), device(CHROME_ANDROID, "198.51.100.7")
    laptop.record, phone.record = login(laptop, migrated), login(phone, migrated)
    return laptop, phone


# --- Records -------------------------------------------------------------------------------------------------------


def test_a_login_opens_a_record_with_the_way_in_the_device_and_the_address(migrated):
    laptop = device(FIREFOX_WINDOWS, "203.0.113.45")

    record = login(laptop, migrated)

    assert (record.account_id, record.via, record.user_agent) == (migrated.pk, "password", FIREFOX_WINDOWS)
    assert record.ip_address == "203.0.113.45" and record.ended_at is None
    login_entry = Entry.objects.get(kind="login.succeeded")
    assert record.session_ref == login_entry.session_ref != ""


def test_the_list_shows_my_active_sessions_and_marks_this_one(two_devices):
    laptop, _phone = two_devices

    response = laptop.get(SESSIONS)

    assert response.status_code == 200
    body = response.content.decode()
    current = re.search(r'<tr data-testid="current-session">(.*?)</tr>', body, re.S).group(1)
    assert "Firefox sur Windows" in current and "Cette session" in current
    text = page_text(response)
    assert "Chrome sur Android" in text and "198.51.100.••" in text and "203.0.113.••" in text
    assert "198.51.100.7" not in body
    assert text.count("Cette session") == 1


def test_the_list_shows_nothing_of_other_accounts(two_devices, db):
    laptop, _phone = two_devices
    other = AccountFactory()
    login(device("Intrus/1.0 (Amiga)", "192.0.2.1"), other)

    body = laptop.get(SESSIONS).content.decode()

    assert "Intrus" not in body and "Amiga" not in body and "192.0.2." not in body


def test_signing_out_another_session_ends_it_at_its_next_request_with_a_message(two_devices):
    laptop, phone = two_devices

    response = laptop.post(END, {"scope": "one", "record": phone.record.pk}, follow=True)

    assert "1 session a été fermée." in page_text(response)
    assert laptop.get(DASHBOARD).status_code == 200
    answer = phone.get(DASHBOARD)
    assert answer.status_code == 302 and answer["Location"] == LOGIN
    assert CLOSED in page_text(phone.get(LOGIN))
    assert phone.get(DASHBOARD)["Location"] == f"{LOGIN}?next={DASHBOARD}"
    phone.record.refresh_from_db()
    assert phone.record.ended_at is not None and phone.record.end_reason == "signed_out"
    entry = Entry.objects.get(kind="security.sessions_ended")
    assert entry.after == {"scope": "one", "count": 1} and entry.person_id == phone.record.account.person_id
    assert "Chrome sur Android" not in page_text(laptop.get(SESSIONS))


def test_a_signed_out_session_cannot_post_either(two_devices):
    laptop, phone = two_devices
    laptop.post(END, {"scope": "one", "record": phone.record.pk})

    response = phone.post(END, {"scope": "all"})

    assert response["Location"] == LOGIN
    laptop.record.refresh_from_db()
    assert laptop.record.ended_at is None


def test_signing_out_the_others_keeps_this_session(two_devices, migrated):
    laptop, phone = two_devices
    tablet = device("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) Version/17.5 Safari/604.1")
    login(tablet, migrated)

    response = laptop.post(END, {"scope": "others"}, follow=True)

    assert "2 sessions ont été fermées." in page_text(response)
    assert laptop.get(DASHBOARD).status_code == 200
    assert phone.get(DASHBOARD)["Location"] == LOGIN
    assert tablet.get(DASHBOARD)["Location"] == LOGIN
    assert Entry.objects.get(kind="security.sessions_ended").after == {"scope": "others", "count": 2}


def test_signing_out_the_others_when_there_are_none_says_so(migrated):
    laptop = device(FIREFOX_WINDOWS)
    login(laptop, migrated)

    response = laptop.post(END, {"scope": "others"}, follow=True)

    assert "Aucune autre session n'était ouverte." in page_text(response)
    assert not Entry.objects.filter(kind="security.sessions_ended").exists()


def test_signing_out_everywhere_ends_this_session_too(two_devices):
    laptop, phone = two_devices

    response = laptop.post(END, {"scope": "all"})

    assert response["Location"] == LOGIN
    assert "Vous êtes déconnecté de toutes vos sessions." in page_text(laptop.get(LOGIN))
    assert laptop.get(DASHBOARD)["Location"] == f"{LOGIN}?next={DASHBOARD}"
    assert phone.get(DASHBOARD)["Location"] == LOGIN
    assert not SessionRecord.objects.filter(ended_at__isnull=True).exists()


def test_signing_out_this_session_by_its_id_is_a_logout(two_devices):
    laptop, phone = two_devices

    response = laptop.post(END, {"scope": "one", "record": laptop.record.pk})

    assert response["Location"] == LOGIN
    assert laptop.get(DASHBOARD)["Location"].startswith(LOGIN)
    assert phone.get(DASHBOARD).status_code == 200


def test_someone_else_s_session_id_is_a_404_and_changes_nothing(two_devices, db):
    laptop, _phone = two_devices
    other = AccountFactory()
    stranger = device(FIREFOX_WINDOWS)
    their_record = login(stranger, other)

    response = laptop.post(END, {"scope": "one", "record": their_record.pk})

    assert response.status_code == 404
    their_record.refresh_from_db()
    assert their_record.ended_at is None
    assert stranger.get(DASHBOARD).status_code == 200
    assert not Entry.objects.filter(kind="security.sessions_ended").exists()


@pytest.mark.parametrize(
    "data",
    [
        {"scope": "one"},
        {"scope": "one", "record": ""},
        {"scope": "one", "record": "abc"},
        {"scope": "one", "record": "-1"},
        {"scope": "one", "record": "99999999"},
        {"scope": "one", "record": "1; DROP TABLE"},
        {"scope": "everything"},
        {},
    ],
)
def test_garbage_is_a_404_and_changes_nothing(two_devices, data):
    laptop, phone = two_devices

    assert laptop.post(END, data).status_code == 404
    assert laptop.get(DASHBOARD).status_code == 200 and phone.get(DASHBOARD).status_code == 200
    assert not SessionRecord.objects.filter(ended_at__isnull=False).exists()


def test_an_ended_session_id_is_a_404(two_devices):
    laptop, phone = two_devices
    laptop.post(END, {"scope": "one", "record": phone.record.pk})

    assert laptop.post(END, {"scope": "one", "record": phone.record.pk}).status_code == 404


def test_signing_out_is_post_only_and_needs_a_signed_in_person(two_devices, client):
    laptop, phone = two_devices

    assert laptop.get(END, {"scope": "all"}).status_code == 405
    assert phone.get(DASHBOARD).status_code == 200
    assert client.post(END, {"scope": "all"})["Location"].startswith(LOGIN)
    assert client.get(SESSIONS)["Location"] == f"{LOGIN}?next={SESSIONS}"


# --- The record follows the session's life -------------------------------------------------------------------------


def test_logout_ends_the_record(migrated):
    laptop = device(FIREFOX_WINDOWS)
    record = login(laptop, migrated)

    laptop.post(LOGOUT)

    record.refresh_from_db()
    assert record.ended_at is not None and record.end_reason == "logout"


def test_an_expired_session_ends_its_record(migrated):
    laptop = device(FIREFOX_WINDOWS)
    record = login(laptop, migrated)
    session = laptop.session
    session["_last_seen"] -= settings.SESSION_IDLE_TIMEOUT + 1
    session.save()

    assert laptop.get(DASHBOARD)["Location"] == LOGIN

    record.refresh_from_db()
    assert record.end_reason == "expired"


def test_last_activity_is_written_at_most_once_a_minute(migrated):
    laptop = device(FIREFOX_WINDOWS)
    record = login(laptop, migrated)
    first_seen = record.last_seen_at

    laptop.get(DASHBOARD)
    record.refresh_from_db()
    assert record.last_seen_at == first_seen

    SessionRecord.objects.filter(pk=record.pk).update(last_seen_at=first_seen - datetime.timedelta(seconds=61))
    laptop.get(DASHBOARD)
    record.refresh_from_db()
    assert timezone.now() - record.last_seen_at < datetime.timedelta(seconds=5)


def test_a_session_left_without_logout_is_not_listed_once_idle(two_devices):
    laptop, phone = two_devices
    idle = timezone.now() - datetime.timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 120)
    SessionRecord.objects.filter(pk=phone.record.pk).update(last_seen_at=idle)

    assert "Chrome sur Android" not in page_text(laptop.get(SESSIONS))
    assert laptop.post(END, {"scope": "one", "record": phone.record.pk}).status_code == 404


def test_a_password_change_ends_the_other_records_and_keeps_this_one_across_the_key_rotation(two_devices, migrated):
    laptop, phone = two_devices

    response = laptop.post(
        PASSWORD,
        {"current_password": migrated.raw_password, "password1": "Cl4rinette-Jaune", "password2": "Cl4rinette-Jaune"},
    )

    assert response["Location"] == DASHBOARD
    phone.record.refresh_from_db()
    laptop.record.refresh_from_db()
    assert phone.record.end_reason == "password_changed" and laptop.record.ended_at is None
    assert laptop.get(DASHBOARD).status_code == 200
    assert "Firefox sur Windows" in page_text(laptop.get(SESSIONS))
    laptop.record.refresh_from_db()
    assert laptop.record.session_ref == session_ref(laptop.session.session_key)  # follows the rotated key
    # A second change in the same session still keeps it: the record follows the rotated session key.
    laptop.post(
        PASSWORD,
        {"current_password": "Cl4rinette-Jaune", "password1": "Tr0mpette-Rouge", "password2": "Tr0mpette-Rouge"},
    )
    assert laptop.get(DASHBOARD).status_code == 200
    laptop.record.refresh_from_db()
    assert laptop.record.ended_at is None


def test_a_password_reset_ends_every_record_and_opens_a_new_one(two_devices, migrated):
    laptop, phone = two_devices
    helper = device(FIREFOX_WINDOWS)
    helper.post(RESET, {"identifier": migrated.person.nir, "medium": "email"})

    helper.post(RESET_CODE, {"code": last_code(), "password1": "Cl4rinette-Jaune", "password2": "Cl4rinette-Jaune"})

    assert SessionRecord.objects.filter(ended_at__isnull=True).count() == 1
    assert SessionRecord.objects.get(ended_at__isnull=True).pk == helper.session[SESSION_RECORD_KEY]
    assert set(SessionRecord.objects.filter(ended_at__isnull=False).values_list("end_reason", flat=True)) == {
        "password_changed"
    }
    assert laptop.get(DASHBOARD)["Location"].startswith(LOGIN) and phone.get(DASHBOARD)["Location"].startswith(LOGIN)
    assert helper.get(DASHBOARD).status_code == 200


def test_a_session_opened_without_the_login_page_gets_its_record(migrated):
    admin_like = device(FIREFOX_WINDOWS)
    admin_like.force_login(migrated)

    assert admin_like.get(DASHBOARD).status_code == 200

    record = SessionRecord.objects.get(account=migrated)
    assert record.user_agent == FIREFOX_WINDOWS
    assert "Cette session" in page_text(admin_like.get(SESSIONS))


def test_a_session_whose_record_is_gone_is_signed_out(migrated):
    laptop = device(FIREFOX_WINDOWS)
    record = login(laptop, migrated)
    SessionRecord.objects.filter(pk=record.pk).delete()

    assert laptop.get(DASHBOARD)["Location"] == LOGIN


def test_the_session_keeps_no_secret(migrated):
    laptop = device(FIREFOX_WINDOWS)
    login(laptop, migrated)

    stored = repr(dict(laptop.session.items()))
    assert migrated.person.nir not in stored and migrated.raw_password not in stored
    assert time.time() - laptop.session["_last_seen"] < 5
