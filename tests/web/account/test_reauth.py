"""Re-authentication before a security change (DESIGN §7): a recent password entry, else "Confirmez votre mot de
passe" and back to the page that asked."""

import time

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from moncompte.accounts.sessions import SESSION_AUTH_AT
from moncompte.journal.models import Entry
from moncompte.web.helpers import recent_auth_required
from tests.helpers import errors, password_typed_long_ago

LOGIN = "/connexion/"
REAUTH = "/mon-espace/confirmer-mot-de-passe/"


@pytest.fixture
def signed_in(client, migrated):
    response = client.post(LOGIN, {"identifier": migrated.person.nir, "password": migrated.raw_password})
    assert response.status_code == 302
    return migrated


def test_a_password_typed_at_login_counts_as_recent(client, signed_in):
    response = client.get(REAUTH, {"next": "/mon-foyer/"})
    assert response.status_code == 302 and response["Location"] == "/mon-foyer/"


def test_an_old_password_entry_asks_for_the_password_again_and_goes_back(client, signed_in):
    password_typed_long_ago(client, 3600)
    assert client.get(REAUTH, {"next": "/mon-foyer/"}).status_code == 200
    response = client.post(REAUTH, {"password": signed_in.raw_password, "next": "/mon-foyer/"})
    assert response.status_code == 302 and response["Location"] == "/mon-foyer/"
    assert time.time() - client.session[SESSION_AUTH_AT] < 5


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "mon-espace", ""])
def test_it_only_goes_back_to_a_page_of_this_site(client, signed_in, next_url):
    password_typed_long_ago(client, 3600)
    response = client.post(REAUTH, {"password": signed_in.raw_password, "next": next_url})
    assert response["Location"] == "/mon-espace/"


def test_a_wrong_password_is_refused_and_journaled(client, signed_in):
    password_typed_long_ago(client, 3600)
    response = client.post(REAUTH, {"password": "pas-le-bon", "next": "/mon-foyer/"})
    assert response.status_code == 400
    assert "Mot de passe incorrect." in errors(response)
    assert Entry.objects.filter(kind="reauth.failed", person_id=signed_in.person_id).count() == 1
    assert client.session[SESSION_AUTH_AT] < time.time() - 3000


def test_five_wrong_passwords_end_the_session(client, signed_in):
    password_typed_long_ago(client, 3600)
    for _ in range(4):
        assert client.post(REAUTH, {"password": "pas-le-bon"}).status_code == 400
    response = client.post(REAUTH, {"password": "pas-le-bon"})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert client.get("/mon-espace/").status_code == 302


def test_an_empty_form_says_what_is_missing(client, signed_in):
    password_typed_long_ago(client, 3600)
    response = client.post(REAUTH, {})
    assert response.status_code == 400 and "Saisissez votre mot de passe." in errors(response)


def test_signed_out_people_are_sent_to_the_login_page(client, db):
    response = client.get(REAUTH)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_the_decorator_redirects_with_the_path_to_come_back_to(signed_in, rf: RequestFactory):
    view = recent_auth_required(lambda request: HttpResponse("ok"))
    request = rf.get("/mon-foyer/1234567/delegation/")
    request.user = signed_in
    request.session = {SESSION_AUTH_AT: time.time() - 3600}
    response = view(request)
    assert response.status_code == 302
    assert response["Location"] == f"{REAUTH}?next=%2Fmon-foyer%2F1234567%2Fdelegation%2F"
    request.session = {SESSION_AUTH_AT: time.time()}
    assert view(request).content == b"ok"
