"""Links in messages come from SITE_URL, never from the request's Host (issue 7, item 5; DESIGN §7). ALLOWED_HOSTS
does not check the port: a request sent with `Host: localhost:4444` is served, and its host must not reach a
message sent to someone else."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from moncompte.lib.links import absolute_url
from moncompte.messaging.models import OutboxMessage
from moncompte.web.signup import views as signup_views
from tests.helpers import (
    NEW_EMAIL,
    change_email,
    last_code,
    make_home,
    request_with_typed_contact,
    sign_in,
    sign_in_as,
)

ROOT = Path(__file__).resolve().parents[2]
SITE = "https://moncompte.example"
FOREIGN_HOST = "localhost:4444"
URL = re.compile(r"https?://[^\s\"'<>]+")


@pytest.fixture(autouse=True)
def _site(settings, monkeypatch):
    settings.SITE_URL = SITE
    monkeypatch.setattr(signup_views, "SIGNUP_MIN_DURATION", 0)


@pytest.fixture
def foreign():
    """A client whose requests carry a Host with another port (ALLOWED_HOSTS lets it through)."""
    return Client(HTTP_HOST=FOREIGN_HOST)


def links(message: OutboxMessage) -> list[str]:
    found = URL.findall(message.body)
    assert found, message.body
    return found


def assert_on_site(message: OutboxMessage) -> None:
    for link in links(message):
        assert link.startswith(SITE + "/"), link
        assert "4444" not in link and "localhost" not in link, link


@pytest.mark.django_db
def test_the_holder_is_told_of_a_signup_request_with_a_link_on_site_url(foreign):
    home = make_home()
    home.child.email_on_file = home.child.mobile_on_file = ""
    home.child.save()

    request_with_typed_contact(foreign, home.child)
    done = foreign.post("/creer-mon-compte/code/", {"code": last_code("lea.perso@exemple.fr")})

    assert done.status_code == 302
    to_holder = OutboxMessage.objects.get(template="households/notices/invitation_request_holder")
    assert_on_site(to_holder)
    assert f"{SITE}/mon-foyer/{home.case.case_number}/demandes/" in to_holder.body


@pytest.mark.django_db
def test_an_invitation_link_is_on_site_url(foreign):
    home = make_home()
    sign_in_as(foreign, home.holder_account)

    response = foreign.post(
        f"/mon-foyer/{home.case.case_number}/inviter/{home.child.pk}/",
        {"medium": "email", "email": "lea@exemple.fr", "mobile": ""},
    )

    assert response.status_code == 302
    invitation = OutboxMessage.objects.get(template="households/notices/invitation_holder")
    assert_on_site(invitation)
    assert re.search(rf"{re.escape(SITE)}/invitation/[\w-]+/", invitation.body)


@pytest.mark.django_db
def test_the_not_me_link_of_a_contact_change_notice_is_on_site_url(foreign, migrated):
    sign_in(foreign, migrated)

    change_email(foreign)

    notice = OutboxMessage.objects.get(template="accounts/notices/contact_changed_old", medium="email")
    assert_on_site(notice)
    assert re.search(rf"{re.escape(SITE)}/ce-n-etait-pas-moi/[^/\s]+/", notice.body)
    assert_on_site(OutboxMessage.objects.get(template="accounts/notices/contact_changed_new", to=NEW_EMAIL))


# --- The helper and the setting ------------------------------------------------------------------------------------


def test_absolute_url_puts_a_path_on_site_url(settings):
    settings.SITE_URL = "https://moncompte.example/"
    assert absolute_url("/invitation/abc/") == "https://moncompte.example/invitation/abc/"


@pytest.mark.parametrize("path", ["invitation/abc/", "//evil.example/x", "https://evil.example/"])
def test_absolute_url_takes_only_a_path_of_this_site(path):
    with pytest.raises(ValueError, match="path on this site"):
        absolute_url(path)


def read_site_url(**environ) -> subprocess.CompletedProcess:
    """Import moncompte.settings in a fresh interpreter with only these variables (and a scratch VAR_DIR)."""
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "DEBUG", "PORT", "DJANGO_SETTINGS_MODULE"}}
    env.update(environ)
    return subprocess.run(
        [sys.executable, "-c", "from moncompte import settings; print(settings.SITE_URL)"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_production_settings_refuse_to_start_without_site_url(tmp_path):
    result = read_site_url(DEBUG="false", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "ImproperlyConfigured: SITE_URL must be set" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("bad", ["moncompte.example", "https://moncompte.example/mon-compte/", "ftp://x.example"])
def test_site_url_is_a_scheme_and_a_host_only(tmp_path, bad):
    result = read_site_url(DEBUG="false", SITE_URL=bad, VAR_DIR=str(tmp_path))
    assert result.returncode != 0 and "SITE_URL must be set" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"DEBUG": "true"}, "http://localhost:8000"),
        ({"DEBUG": "true", "PORT": "9001"}, "http://localhost:9001"),
        ({"DEBUG": "false", "SITE_URL": "https://moncompte.example/"}, "https://moncompte.example"),
    ],
)
def test_site_url_defaults_to_the_local_server_under_debug(tmp_path, environ, expected):
    result = read_site_url(VAR_DIR=str(tmp_path), **environ)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
