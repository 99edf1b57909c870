"""Security baseline (issue 2, item 13; DESIGN §7): session rotated at login, idle timeout and absolute lifetime, a
password change ends the other sessions, logout by POST only, no-store and Vary: Cookie, CSP with nonces."""

import re
import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import override_settings

from tests.helpers import last_code, page_text, sign_in

LOGIN = "/connexion/"
LOGOUT = "/deconnexion/"
DASHBOARD = "/mon-espace/"
RESET = "/mot-de-passe-oublie/"
RESET_CODE = "/mot-de-passe-oublie/code/"
EXPIRED = "Votre session a expiré. Connectez-vous à nouveau."


def session_key(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def age_session(client, **seconds_by_key):
    session = client.session
    for key, seconds in seconds_by_key.items():
        session[key] = session[key] - seconds
    session.save()


# --- Session rotation ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_session_key_changes_at_login(client, migrated):
    before = client.session
    before["marker"] = "visite anonyme"
    before.save()
    old_key = before.session_key

    sign_in(client, migrated)

    assert session_key(client) != old_key
    assert not Session.objects.filter(session_key=old_key).exists()
    assert client.session["marker"] == "visite anonyme"  # data kept, key changed
    assert client.get(DASHBOARD).status_code == 200


@pytest.mark.django_db
def test_the_session_key_changes_when_a_password_reset_signs_the_person_in(client, migrated):
    client.post(RESET, {"identifier": migrated.person.nir, "medium": "email"})
    key_during_reset = session_key(client)

    code = last_code()
    response = client.post(
        RESET_CODE, {"code": code, "password1": "Cl4rinette-Jaune", "password2": "Cl4rinette-Jaune"}
    )

    assert response["Location"] == DASHBOARD
    assert session_key(client) != key_during_reset
    assert not Session.objects.filter(session_key=key_during_reset).exists()


@pytest.mark.django_db
def test_an_old_session_key_replayed_after_login_opens_nothing(client, migrated, new_client):
    before = client.session
    before.save()
    fixed_key = before.session_key
    sign_in(client, migrated)

    attacker = new_client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = fixed_key

    assert attacker.get(DASHBOARD)["Location"] == f"{LOGIN}?next={DASHBOARD}"


@pytest.mark.django_db
def test_the_session_cookie_is_httponly_lax_and_ends_with_the_browser(client, migrated):
    response = sign_in(client, migrated)

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["expires"]
    assert not cookie["max-age"]


@pytest.mark.django_db
def test_the_session_holds_neither_the_password_nor_the_nir(client, migrated):
    sign_in(client, migrated)

    stored = repr(dict(client.session.items()))
    assert migrated.raw_password not in stored
    assert migrated.person.nir not in stored


# --- Cache and headers ---------------------------------------------------------------------------------------------


def assert_private_no_store(response):
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control, response["Cache-Control"]
    assert "Cookie" in {part.strip() for part in response["Vary"].split(",")}, response["Vary"]


@pytest.mark.django_db
def test_authenticated_pages_are_private_no_store_and_vary_on_cookie(client, migrated):
    sign_in(client, migrated)

    for url in (DASHBOARD, "/premiere-connexion/mot-de-passe/", "/"):
        response = client.get(url)
        assert_private_no_store(response)
    assert client.get(DASHBOARD).status_code == 200


@pytest.mark.django_db
def test_pages_of_a_person_still_migrating_are_private_no_store(client, household):
    client.post(LOGIN, {"identifier": household.holder.nir, "password": household.case.pin})

    response = client.get("/premiere-connexion/mot-de-passe/")

    assert response.status_code == 200
    assert_private_no_store(response)


@pytest.mark.django_db
def test_the_login_and_reset_pages_are_not_stored_either(client):
    for url in (LOGIN, RESET, "/identifiant-provisoire/"):
        assert_private_no_store(client.get(url))


@pytest.mark.django_db
def test_redirects_and_error_answers_are_not_stored(client, migrated):
    assert_private_no_store(client.get(DASHBOARD))  # redirect to the login page
    assert_private_no_store(client.post(LOGIN, {"identifier": migrated.person.nir, "password": "x"}))
    assert_private_no_store(client.get(LOGOUT))  # 405


@pytest.mark.django_db
def test_security_headers_are_set(client):
    response = client.get(LOGIN)

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
@pytest.mark.parametrize("url", [LOGIN, "/premiere-connexion/mot-de-passe/"])
def test_the_csp_header_carries_a_nonce_and_every_script_has_it_or_comes_from_this_site(client, household, url):
    if url != LOGIN:
        client.post(LOGIN, {"identifier": household.holder.nir, "password": household.case.pin})

    response = client.get(url)

    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    nonce = re.search(r"'nonce-([^']+)'", directives["script-src"]).group(1)
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert any(f'nonce="{nonce}"' in tag for tag in scripts), scripts
    for tag in scripts:
        src = re.search(r'src="([^"]+)"', tag)
        assert f'nonce="{nonce}"' in tag or (src and src.group(1).startswith("/static/")), tag


@pytest.mark.django_db
def test_each_response_gets_its_own_nonce(client):
    first = re.search(r"'nonce-([^']+)'", client.get(LOGIN)["Content-Security-Policy"]).group(1)
    second = re.search(r"'nonce-([^']+)'", client.get(LOGIN)["Content-Security-Policy"]).group(1)

    assert first != second


# --- Idle timeout and absolute lifetime ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_thirty_minutes_without_activity_end_the_session_with_a_message(client, migrated):
    sign_in(client, migrated)
    age_session(client, _last_seen=settings.SESSION_IDLE_TIMEOUT + 1)

    response = client.get(DASHBOARD)

    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    page = client.get(LOGIN)
    assert page.status_code == 200
    assert EXPIRED in page_text(page)
    assert client.get(DASHBOARD)["Location"] == f"{LOGIN}?next={DASHBOARD}"


@pytest.mark.django_db
def test_activity_within_thirty_minutes_keeps_the_session_and_restarts_the_idle_clock(client, migrated):
    sign_in(client, migrated)
    age_session(client, _last_seen=settings.SESSION_IDLE_TIMEOUT - 60)

    assert client.get(DASHBOARD).status_code == 200
    assert time.time() - client.session["_last_seen"] < 5


@pytest.mark.django_db
def test_the_absolute_lifetime_ends_even_an_active_session(client, migrated):
    sign_in(client, migrated)
    age_session(client, _started_at=settings.SESSION_ABSOLUTE_LIFETIME + 1)

    response = client.get(DASHBOARD)

    assert response["Location"] == LOGIN
    assert EXPIRED in page_text(client.get(LOGIN))
    assert client.get(DASHBOARD)["Location"] == f"{LOGIN}?next={DASHBOARD}"


@pytest.mark.django_db
@override_settings(SESSION_ABSOLUTE_LIFETIME=60, SESSION_IDLE_TIMEOUT=3600)
def test_the_absolute_lifetime_comes_from_settings(client, migrated):
    sign_in(client, migrated)
    for _ in range(3):
        assert client.get(DASHBOARD).status_code == 200
    age_session(client, _started_at=61)

    assert client.get(DASHBOARD)["Location"] == LOGIN


@pytest.mark.django_db
def test_an_expired_session_during_the_migration_ends_the_same_way(client, household):
    client.post(LOGIN, {"identifier": household.holder.nir, "password": household.case.pin})
    age_session(client, _last_seen=settings.SESSION_IDLE_TIMEOUT + 1)

    response = client.get("/premiere-connexion/mot-de-passe/")

    assert response["Location"] == LOGIN
    assert EXPIRED in page_text(client.get(LOGIN))


@pytest.mark.django_db
def test_an_expired_session_on_a_post_changes_nothing(client, household):
    client.post(LOGIN, {"identifier": household.holder.nir, "password": household.case.pin})
    age_session(client, _last_seen=settings.SESSION_IDLE_TIMEOUT + 1)

    response = client.post(
        "/premiere-connexion/mot-de-passe/", {"password1": "Tr0mbone-Vert", "password2": "Tr0mbone-Vert"}
    )

    assert response["Location"] == LOGIN
    from moncompte.accounts.models import Account

    assert Account.objects.get(person=household.holder).needs_password


# --- A password change ends the other sessions ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_password_reset_ends_the_other_sessions_of_the_account(migrated, new_client):
    laptop, phone = new_client(), new_client()
    sign_in(laptop, migrated)
    assert laptop.get(DASHBOARD).status_code == 200

    phone.post(RESET, {"identifier": migrated.person.nir, "medium": "email"})
    phone.post(RESET_CODE, {"code": last_code(), "password1": "Cl4rinette-Jaune", "password2": "Cl4rinette-Jaune"})

    assert phone.get(DASHBOARD).status_code == 200
    assert laptop.get(DASHBOARD)["Location"] == f"{LOGIN}?next={DASHBOARD}"


@pytest.mark.django_db
def test_creating_the_password_keeps_the_current_session_but_ends_the_others(household, new_client):
    first, second = new_client(), new_client()
    pin_login = {"identifier": household.holder.nir, "password": household.case.pin}
    first.post(LOGIN, pin_login)
    second.post(LOGIN, pin_login)

    response = second.post(
        "/premiere-connexion/mot-de-passe/", {"password1": "Tr0mbone-Vert", "password2": "Tr0mbone-Vert"}
    )

    assert response["Location"] == "/premiere-connexion/coordonnees/"
    assert second.get("/premiere-connexion/coordonnees/").status_code == 200
    assert first.get("/premiere-connexion/coordonnees/")["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_two_people_of_one_household_never_see_each_other_s_session(household, new_client):
    holder_client, partner_client = new_client(), new_client()
    holder_client.post(LOGIN, {"identifier": household.holder.nir, "password": household.case.pin})
    partner_client.post(LOGIN, {"identifier": household.partner.nir, "password": household.case.pin})

    assert holder_client.session["_auth_user_id"] != partner_client.session["_auth_user_id"]
    assert session_key(holder_client) != session_key(partner_client)


# --- Logout --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_logout_is_post_only(client, migrated):
    sign_in(client, migrated)

    response = client.get(LOGOUT)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert client.get(DASHBOARD).status_code == 200


@pytest.mark.django_db
def test_logout_ends_the_session_on_the_server_and_says_so(client, migrated):
    sign_in(client, migrated)
    key = session_key(client)

    response = client.post(LOGOUT)

    assert response["Location"] == LOGIN
    assert not Session.objects.filter(session_key=key).exists()
    assert "Vous êtes déconnecté. À bientôt !" in page_text(client.get(LOGIN))
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    assert client.get(DASHBOARD)["Location"] == f"{LOGIN}?next={DASHBOARD}"


@pytest.mark.django_db
def test_the_logout_button_is_a_form_with_a_csrf_token(client, migrated):
    sign_in(client, migrated)

    content = client.get(DASHBOARD).content.decode()

    form = re.search(r'<form method="post" action="/deconnexion/">(.*?)</form>', content, re.S).group(1)
    assert 'name="csrfmiddlewaretoken"' in form
    assert "Se déconnecter" in form


@pytest.mark.django_db
def test_typing_the_password_again_does_not_extend_the_absolute_lifetime(client, migrated):
    sign_in(client, migrated)
    age_session(client, _started_at=settings.SESSION_ABSOLUTE_LIFETIME + 1, _auth_at=settings.REAUTH_MAX_AGE + 1)
    response = client.post("/mon-espace/confirmer-mot-de-passe/", {"password": migrated.raw_password})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert client.get(DASHBOARD).status_code == 302
