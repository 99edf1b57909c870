"""Issue 8, item 5 (OWASP ASVS 5.0 6.2.11, 6.2.12): every page where a password is chosen refuses a breached password
and a password built on a word tied to the service, with the French message, and changes nothing. All of them go
through `validate_password`, hence AUTH_PASSWORD_VALIDATORS: first login with the case PIN, forgotten password,
password change and signup are tested here; the invitation (signup.invitation_accept, InvitationAcceptForm, a
NewPasswordForm) takes the same path."""

import html

import pytest

from moncompte.accounts.models import Account
from moncompte.web.signup import views as signup_views
from tests.helpers import errors, last_code, sign_in_as, start

MIGRATION_PASSWORD = "/premiere-connexion/mot-de-passe/"
RESET = "/mot-de-passe-oublie/"
RESET_CODE = "/mot-de-passe-oublie/code/"
PASSWORD_CHANGE = "/mon-espace/mot-de-passe/"
SIGNUP_CODE = "/creer-mon-compte/code/"
GOOD_PASSWORD = "Cl4rinette-Jaune"

REFUSED = [
    pytest.param(
        "Letmein22",
        "Ce mot de passe figure parmi les plus répandus dans les fuites de données : choisissez-en un autre.",
        id="breached",
    ),
    pytest.param(
        "Sunshine2024!",
        "Ce mot de passe est construit sur l'un des mots de passe les plus répandus dans les fuites de données :"
        " choisissez-en un autre.",
        id="breached with digits and a symbol",
    ),
    pytest.param(
        "Ma-C@f-Tortue-42",
        "Votre mot de passe contient « caf », un mot lié au service : choisissez un mot de passe sans ce mot.",
        id="context word",
    ),
    pytest.param(
        "M0n-Compte-Vert9",
        "Votre mot de passe contient « moncompte », un mot lié au service : choisissez un mot de passe sans ce mot.",
        id="context word in leetspeak",
    ),
]


@pytest.fixture(autouse=True)
def _no_signup_minimum_duration(monkeypatch):
    monkeypatch.setattr(signup_views, "SIGNUP_MIN_DURATION", 0)


def shown_errors(response) -> list[str]:
    return [html.unescape(message) for message in errors(response)]


def choose(client, url, password, **fields):
    return client.post(url, {**fields, "password1": password, "password2": password})


def assert_refused(response, password, message):
    assert response.status_code == 400
    assert message in shown_errors(response)
    assert password not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_the_first_password_after_the_case_pin_refuses_it(client, household, password, message):
    client.post("/connexion/", {"identifier": household.holder.nir, "password": household.case.pin})

    assert_refused(choose(client, MIGRATION_PASSWORD, password), password, message)
    assert Account.objects.get(person=household.holder).needs_password
    assert choose(client, MIGRATION_PASSWORD, GOOD_PASSWORD).status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_a_password_change_refuses_it(client, migrated, password, message):
    sign_in_as(client, migrated, migrated.raw_password)

    response = choose(client, PASSWORD_CHANGE, password, current_password=migrated.raw_password)

    assert_refused(response, password, message)
    migrated.refresh_from_db()
    assert migrated.check_password(migrated.raw_password)


@pytest.mark.django_db
@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_a_forgotten_password_reset_refuses_it(client, migrated, password, message):
    client.post(RESET, {"identifier": migrated.person.nir, "medium": "email"})
    code = last_code()

    assert_refused(choose(client, RESET_CODE, password, code=code), password, message)
    migrated.refresh_from_db()
    assert migrated.check_password(migrated.raw_password)
    assert choose(client, RESET_CODE, GOOD_PASSWORD, code=code).status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_a_signup_refuses_it(client, home, password, message):
    start(client, home.child)
    code = last_code(home.child.email_on_file)

    assert_refused(choose(client, SIGNUP_CODE, password, code=code), password, message)
    assert not Account.objects.filter(person=home.child).exists()
    assert choose(client, SIGNUP_CODE, GOOD_PASSWORD, code=code).status_code == 302
