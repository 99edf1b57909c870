"""Issue 8, item 4 (OWASP ASVS 5.0, V7): a new session key at re-authentication (7.2.4), a recent password before
ending other sessions (7.5.2), and timeouts held within the bounds docs/sessions.md gives against NIST SP 800-63B-4
(7.1.1)."""

import os
import re
import subprocess
import sys
import time
from importlib import import_module
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings

from moncompte.accounts.models import SessionRecord
from moncompte.accounts.sessions import SESSION_AUTH_AT, SESSION_RECORD_KEY, SESSION_STARTED_AT
from moncompte.journal.context import session_ref
from moncompte.journal.models import Entry
from tests.helpers import page_text, password_typed_long_ago
from tests.web.helpers import CHROME_ANDROID, DASHBOARD, END, FIREFOX_WINDOWS, LOGIN, SESSIONS, device, login

REAUTH = "/mon-espace/confirmer-mot-de-passe/"
ROOT = Path(settings.BASE_DIR)
ASKED = "Pour fermer une autre session que celle-ci, confirmez d'abord votre mot de passe."
NOTICE = "Pour fermer une autre session que celle-ci, nous vous demanderons de confirmer votre mot de passe."


@pytest.fixture
def two_devices(migrated):
    laptop, phone = device(FIREFOX_WINDOWS, "203.0.113.45"), device(CHROME_ANDROID, "198.51.100.7")
    laptop.record, phone.record = login(laptop, migrated), login(phone, migrated)
    return laptop, phone


def reauth(client, account, next_url: str):
    return client.post(REAUTH, {"password": account.raw_password, "next": next_url})


def current_row(response) -> str:
    return re.search(r'<tr data-testid="current-session">(.*?)</tr>', response.content.decode(), re.S).group(1)


def session_exists(key: str) -> bool:
    return import_module(settings.SESSION_ENGINE).SessionStore().exists(key)


# --- 7.2.4: a new key at re-authentication -------------------------------------------------------------------------


def test_re_authenticating_gives_a_new_session_key_and_keeps_the_session_and_its_record(two_devices, migrated):
    laptop, phone = two_devices
    session = laptop.session
    session["chosen_before"] = "gardé"
    session.save()
    password_typed_long_ago(laptop)
    old_key, started = laptop.session.session_key, laptop.session[SESSION_STARTED_AT]

    response = reauth(laptop, migrated, SESSIONS)

    assert response.status_code == 302 and response["Location"] == SESSIONS
    new = laptop.session
    assert new.session_key != old_key and not session_exists(old_key)
    assert new["chosen_before"] == "gardé" and new[SESSION_RECORD_KEY] == laptop.record.pk
    assert new[SESSION_STARTED_AT] == started  # the absolute lifetime still counts from the login
    assert time.time() - new[SESSION_AUTH_AT] < 5
    laptop.record.refresh_from_db()
    assert laptop.record.session_ref == session_ref(new.session_key) and laptop.record.ended_at is None
    # The old key opens nothing any more.
    thief = device(FIREFOX_WINDOWS)
    thief.cookies[settings.SESSION_COOKIE_NAME] = old_key
    assert thief.get(DASHBOARD)["Location"] == f"{LOGIN}?next={DASHBOARD}"
    # "Mes sessions" still marks this session as the current one, once.
    listing = laptop.get(SESSIONS)
    assert "Firefox sur Windows" in current_row(listing) and page_text(listing).count("Cette session") == 1
    assert SessionRecord.objects.filter(account=migrated, ended_at__isnull=True).count() == 2
    # Another device can still end it.
    phone.post(END, {"scope": "one", "record": laptop.record.pk})
    assert laptop.get(DASHBOARD)["Location"] == LOGIN


# --- 7.5.2: a recent password before ending other sessions ---------------------------------------------------------


@pytest.mark.parametrize("scope", ["one", "others", "all"])
def test_ending_other_sessions_without_a_recent_password_asks_for_it_and_ends_nothing(two_devices, scope):
    laptop, phone = two_devices
    password_typed_long_ago(laptop)
    data = {"scope": scope, "record": phone.record.pk} if scope == "one" else {"scope": scope}

    response = laptop.post(END, data)

    back = f"{SESSIONS}?{urlencode({'end': scope, **({'record': phone.record.pk} if scope == 'one' else {})})}"
    assert response.status_code == 302 and response["Location"] == f"{REAUTH}?{urlencode({'next': back})}"
    assert ASKED in page_text(laptop.get(response["Location"]))
    assert not SessionRecord.objects.filter(ended_at__isnull=False).exists()
    assert not Entry.objects.filter(kind="security.sessions_ended").exists()
    assert laptop.get(DASHBOARD).status_code == 200 and phone.get(DASHBOARD).status_code == 200


@pytest.mark.parametrize(
    ("scope", "confirm_text", "button", "outcome"),
    [
        ("one", "Fermer la session Chrome sur Android, ouverte le", "Fermer cette session", "1 session a été fermée."),
        (
            "others",
            "Fermer toutes vos autres sessions ?",
            "Fermer toutes mes autres sessions",
            "1 session a été fermée.",
        ),
        (
            "all",
            "Vous déconnecter de toutes vos sessions, celle-ci comprise ?",
            "Me déconnecter partout",
            "Vous êtes déconnecté de toutes vos sessions.",
        ),
    ],
)
def test_after_the_password_the_list_offers_the_same_closing_and_it_works(
    two_devices, migrated, scope, confirm_text, button, outcome
):
    laptop, phone = two_devices
    password_typed_long_ago(laptop)
    data = {"scope": scope, "record": phone.record.pk} if scope == "one" else {"scope": scope}
    asked = laptop.post(END, data)
    back = parse_qs(urlsplit(asked["Location"]).query)["next"][0]

    response = reauth(laptop, migrated, back)

    listing = laptop.get(response["Location"])
    assert listing.status_code == 200
    callout = re.search(r'data-testid="confirm-closing">(.*?)</form>', listing.content.decode(), re.S).group(1)
    assert confirm_text in callout and button in callout and 'value="' + scope + '"' in callout
    assert not SessionRecord.objects.filter(ended_at__isnull=False).exists()  # a GET ends nothing
    done = laptop.post(END, data, follow=True)
    assert outcome in page_text(done)
    assert phone.get(DASHBOARD)["Location"] == LOGIN
    assert (laptop.get(DASHBOARD).status_code == 200) is (scope != "all")


def test_the_closing_is_offered_only_after_a_recent_password_and_for_an_open_session(two_devices):
    laptop, phone = two_devices
    marker = 'data-testid="confirm-closing"'

    assert marker in laptop.get(SESSIONS, {"end": "others"}).content.decode()  # the login's password is recent
    for query in (
        {"end": "one", "record": laptop.record.pk},  # this session: "Me déconnecter" needs no confirmation
        {"end": "one", "record": "999999"},
        {"end": "one", "record": "abc"},
        {"end": "everything"},
    ):
        assert marker not in laptop.get(SESSIONS, query).content.decode(), query
    password_typed_long_ago(laptop)
    assert marker not in laptop.get(SESSIONS, {"end": "others"}).content.decode()
    assert phone.get(DASHBOARD).status_code == 200


def test_the_page_says_the_password_will_be_asked_and_signing_out_of_this_session_never_asks(two_devices):
    laptop, phone = two_devices
    assert NOTICE not in page_text(laptop.get(SESSIONS))  # the password typed at login is recent
    password_typed_long_ago(laptop)
    assert NOTICE in page_text(laptop.get(SESSIONS))

    response = laptop.post(END, {"scope": "one", "record": laptop.record.pk})

    assert response["Location"] == LOGIN
    assert laptop.get(DASHBOARD)["Location"].startswith(LOGIN) and phone.get(DASHBOARD).status_code == 200
    # Alone now: "Me déconnecter partout" only signs this session out, without the password either.
    password_typed_long_ago(phone)
    assert NOTICE not in page_text(phone.get(SESSIONS))
    assert phone.post(END, {"scope": "all"})["Location"] == LOGIN
    assert phone.get(DASHBOARD)["Location"].startswith(LOGIN)


# --- 7.1.1: the timeouts' bounds -----------------------------------------------------------------------------------

CLOCKS = {
    "SESSION_IDLE_TIMEOUT": "SESSION_IDLE_TIMEOUT_BOUNDS",
    "SESSION_ABSOLUTE_LIFETIME": "SESSION_ABSOLUTE_LIFETIME_BOUNDS",
    "REAUTH_MAX_AGE": "REAUTH_MAX_AGE_BOUNDS",
}
DEFAULTS = {"SESSION_IDLE_TIMEOUT": 1800, "SESSION_ABSOLUTE_LIFETIME": 43200, "REAUTH_MAX_AGE": 300}


def test_the_bounds_stated_in_the_docs_and_the_readme_are_the_settings_bounds():
    docs = (ROOT / "docs" / "sessions.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for name, bounds_name in CLOCKS.items():
        low, high = getattr(settings, bounds_name)
        row = re.search(rf"^\| `{name}` \| (\d+) \| (\d+) \| (\d+) \|", docs, re.M)
        assert row is not None, name
        assert (int(row[1]), int(row[2]), int(row[3])) == (DEFAULTS[name], low, high), name
        assert f"| `{name}` | `{DEFAULTS[name]}` (floor {low}, ceiling {high}) |" in readme, name
    # NIST SP 800-63B-4 §2.2.3 (AAL2): inactivity at most 1 hour, overall at most 24 hours.
    assert settings.SESSION_IDLE_TIMEOUT_BOUNDS[1] <= 3600 and settings.SESSION_ABSOLUTE_LIFETIME_BOUNDS[1] <= 86400
    assert settings.REAUTH_MAX_AGE_BOUNDS[1] < settings.SESSION_IDLE_TIMEOUT_BOUNDS[1]
    assert settings.SESSION_ABSOLUTE_LIFETIME_BOUNDS[0] >= settings.SESSION_IDLE_TIMEOUT_BOUNDS[1]


def clocks_in_subprocess(**environ) -> dict[str, int]:
    """Load the settings in a fresh interpreter with these variables, and read the three clocks."""
    env = {k: v for k, v in os.environ.items() if k not in CLOCKS and k != "DJANGO_SETTINGS_MODULE"}
    env.update(DJANGO_SETTINGS_MODULE="moncompte.settings_test", **{k: str(v) for k, v in environ.items()})
    script = "from django.conf import settings\n" + "".join(
        f"print('{name}=' + str(settings.{name}))\n" for name in (*CLOCKS, "SESSION_COOKIE_AGE")
    )
    output = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return {name: int(value) for name, value in (line.split("=", 1) for line in output.splitlines())}


@pytest.mark.slow
def test_a_clock_set_outside_its_bounds_is_brought_back_to_the_nearest_bound():
    assert clocks_in_subprocess() == {**DEFAULTS, "SESSION_COOKIE_AGE": 1800}
    assert clocks_in_subprocess(SESSION_IDLE_TIMEOUT=10, SESSION_ABSOLUTE_LIFETIME=10**7, REAUTH_MAX_AGE=0) == {
        "SESSION_IDLE_TIMEOUT": 300,
        "SESSION_ABSOLUTE_LIFETIME": 86400,
        "REAUTH_MAX_AGE": 60,
        "SESSION_COOKIE_AGE": 300,
    }
    assert clocks_in_subprocess(SESSION_IDLE_TIMEOUT=10**6, SESSION_ABSOLUTE_LIFETIME=60, REAUTH_MAX_AGE=86400) == {
        "SESSION_IDLE_TIMEOUT": 3600,
        "SESSION_ABSOLUTE_LIFETIME": 3600,
        "REAUTH_MAX_AGE": 900,
        "SESSION_COOKIE_AGE": 3600,
    }
    assert clocks_in_subprocess(SESSION_IDLE_TIMEOUT=1200, SESSION_ABSOLUTE_LIFETIME=7200, REAUTH_MAX_AGE=120) == {
        "SESSION_IDLE_TIMEOUT": 1200,
        "SESSION_ABSOLUTE_LIFETIME": 7200,
        "REAUTH_MAX_AGE": 120,
        "SESSION_COOKIE_AGE": 1200,
    }
