"""Bad input never gives a server error (issue 2, "Done when"): oversized or malformed fields, junk characters, a
missing CSRF token, wrong methods, unknown choices. Each gets a clear French message where a form is shown, and
nothing changes in the database."""

import html
import re

import pytest
from axes.models import AccessAttempt
from django.test import Client

from moncompte.accounts.models import Account
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.verification.models import OneTimeCode
from tests.factories import make_nir
from tests.helpers import errors, last_code, page_text

LOGIN = "/connexion/"
LOGOUT = "/deconnexion/"
DASHBOARD = "/mon-espace/"
PASSWORD = "/premiere-connexion/mot-de-passe/"
CONTACT = "/premiere-connexion/coordonnees/"
CONTACT_CODE = "/premiere-connexion/coordonnees/code/"
ONBOARDING = "/premiere-connexion/bienvenue/"
RESET = "/mot-de-passe-oublie/"
RESET_CODE = "/mot-de-passe-oublie/code/"
FORM_HAS_ERRORS = "Le formulaire contient des erreurs : corrigez les champs signalés."
NIR_CHARACTERS = "Le numéro ne peut contenir que des chiffres, sauf 2A ou 2B pour la Corse."
NULL_CHARACTER = "Le caractère nul n\u2019est pas autorisé."
ARABIC_INDIC_NIR = "".join(chr(0x0660 + int(digit)) for digit in "1840575003002")
FULL_WIDTH_NIR = "".join(chr(0xFF10 + int(digit)) for digit in "1840575003002")
ARABIC_INDIC_CODE = "".join(chr(0x0660 + int(digit)) for digit in "123456")


def shown_errors(response) -> list[str]:
    return [html.unescape(message) for message in errors(response)]


def snapshot() -> dict[str, int]:
    return {
        "accounts": Account.objects.count(),
        "entries": Entry.objects.count(),
        "codes": OneTimeCode.objects.count(),
        "messages": OutboxMessage.objects.count(),
        "attempts": AccessAttempt.objects.count(),
    }


@pytest.fixture
def unchanged(db):
    """Asserts, at the end of the test, that no row was added to the tables a form could write to."""
    before = snapshot()
    yield
    assert snapshot() == before


# --- The login form ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("identifier", "message"),
    [
        pytest.param("1" * 10_000, "Ce numéro est trop long", id="10 000 characters"),
        pytest.param("1840575ABC123", NIR_CHARACTERS, id="letters"),
        pytest.param(ARABIC_INDIC_NIR, NIR_CHARACTERS, id="arabic-indic digits"),
        pytest.param(FULL_WIDTH_NIR, NIR_CHARACTERS, id="full-width digits"),
        pytest.param("184057500300😀", NIR_CHARACTERS, id="emoji"),
        pytest.param("1840575\u202e003002", NIR_CHARACTERS, id="right-to-left override"),
        pytest.param("<script>alert(1)</script>", NIR_CHARACTERS, id="markup"),
        pytest.param("' OR 1=1 --", NIR_CHARACTERS, id="sql"),
        pytest.param("1840575003002\x00", NULL_CHARACTER, id="null character"),
        pytest.param("1 84", "Le numéro de Sécurité sociale doit comporter 13 caractères", id="too short"),
        pytest.param("5840575003002", "Le premier chiffre (sexe) doit être 1, 2, 3, 4, 7 ou 8.", id="sex digit"),
        pytest.param("   ", "Saisissez votre numéro de Sécurité sociale.", id="only spaces"),
    ],
)
def test_a_malformed_nir_on_the_login_page_gets_a_french_message_and_changes_nothing(
    client, unchanged, identifier, message
):
    response = client.post(LOGIN, {"identifier": identifier, "password": "Tr0mbone-Vert"})

    assert response.status_code == 400
    shown = shown_errors(response)
    assert any(error.startswith(message) for error in shown), shown
    assert FORM_HAS_ERRORS in shown
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_oversized_nir_is_not_echoed_back_whole(client, unchanged):
    response = client.post(LOGIN, {"identifier": "1" * 10_000, "password": "x"})

    assert len(response.content) < 50_000


@pytest.mark.django_db
def test_an_oversized_password_on_the_login_page_gets_a_french_message(client, migrated, unchanged):
    response = client.post(LOGIN, {"identifier": migrated.person.nir, "password": "A" * 10_000})

    assert response.status_code == 400
    assert "Ce mot de passe est trop long." in shown_errors(response)
    assert "A" * 200 not in response.content.decode()


@pytest.mark.django_db
def test_empty_and_missing_fields_on_the_login_page_get_french_messages(client, unchanged):
    for data in ({"identifier": "", "password": ""}, {}, {"unrelated": "x"}):
        response = client.post(LOGIN, data)
        assert response.status_code == 400
        assert shown_errors(response)[:2] == [
            "Saisissez votre numéro de Sécurité sociale.",
            "Saisissez votre mot de passe.",
        ]


@pytest.mark.django_db
def test_junk_in_the_password_is_just_a_wrong_password(client, migrated):
    for junk in ("😀" * 20, "\u202e" * 8, "' OR 1=1 --", "é" * 128, "\t\n\r "):
        response = client.post(LOGIN, {"identifier": migrated.person.nir, "password": junk})
        assert response.status_code in (400, 429)
    assert not Account.objects.exclude(pk=migrated.pk).exists()


@pytest.mark.django_db
def test_a_body_that_is_not_utf8_is_refused_without_a_server_error(client, unchanged):
    response = client.generic(
        "POST", LOGIN, b"identifier=\xff\xfe\xfd&password=\xc3\x28", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400


@pytest.mark.django_db
def test_too_many_fields_get_a_french_bad_request_page(client, unchanged):
    data = {f"champ{n}": "x" for n in range(1_500)}

    response = client.post(LOGIN, data)

    assert response.status_code == 400
    assert "Demande incorrecte" in page_text(response)
    assert "Rien n'a été modifié." in page_text(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "next_url", ["\x00", "/" * 5000, "http://[::1", "%00", "dashboard", "accounts:dashboard", "\\\\exemple.org"]
)
def test_a_strange_next_parameter_leads_to_the_dashboard(client, migrated, next_url):
    response = client.post(
        LOGIN, {"identifier": migrated.person.nir, "password": migrated.raw_password, "next": next_url}
    )

    assert response.status_code == 302
    assert response["Location"] in (DASHBOARD, next_url) and response["Location"].startswith("/")
    assert not response["Location"].startswith("//")


# --- CSRF and methods ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "data"),
    [
        (LOGIN, {"identifier": "1840575003002", "password": "x"}),
        (RESET, {"identifier": "1840575003002", "medium": "sms"}),
    ],
)
def test_a_post_without_csrf_token_gets_a_french_403_page_and_changes_nothing(household, unchanged, url, data):
    browser = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")
    if url == LOGIN:
        data = {"identifier": household.holder.nir, "password": household.case.pin}

    response = browser.post(url, data)

    assert response.status_code == 403
    text = page_text(response)
    assert "Ce formulaire n'est plus valable" in text
    assert "Rechargez la page, puis recommencez. Rien n'a été modifié." in text
    assert '<html lang="fr"' in response.content.decode()
    assert "CSRF" not in text


@pytest.mark.django_db
def test_a_post_with_a_forged_csrf_token_is_refused_too(household, unchanged):
    browser = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")
    browser.get(LOGIN)  # receives a real CSRF cookie

    response = browser.post(
        LOGIN,
        {"identifier": household.holder.nir, "password": household.case.pin, "csrfmiddlewaretoken": "x" * 64},
    )

    assert response.status_code == 403


@pytest.mark.django_db
def test_a_post_with_the_page_s_csrf_token_works(household):
    browser = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")
    content = browser.get(LOGIN).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', content).group(1)

    response = browser.post(
        LOGIN, {"identifier": household.holder.nir, "password": household.case.pin, "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302


@pytest.mark.django_db
def test_logout_without_csrf_token_is_refused(migrated):
    browser = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")
    browser.force_login(migrated, backend="moncompte.accounts.authentication.NirBackend")

    assert browser.post(LOGOUT).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", LOGOUT),
        ("put", LOGIN),
        ("delete", LOGIN),
        ("patch", RESET),
        ("put", RESET_CODE),
        ("put", "/identifiant-provisoire/"),
        ("post", DASHBOARD),
    ],
)
def test_a_wrong_method_gets_405_and_changes_nothing(client, migrated, unchanged, method, url):
    client.force_login(migrated, backend="moncompte.accounts.authentication.NirBackend")

    response = getattr(client, method)(url)

    assert response.status_code == 405


@pytest.mark.django_db
def test_an_unknown_address_gets_a_french_404_page(client):
    response = client.get("/page-qui-n-existe-pas/")

    assert response.status_code == 404
    assert "Page introuvable" in page_text(response)


# --- Migration forms -----------------------------------------------------------------------------------------------


@pytest.fixture
def at_password_step(client, household):
    client.post(LOGIN, {"identifier": household.holder.nir, "password": household.case.pin})
    return household


@pytest.mark.django_db
def test_an_oversized_new_password_gets_a_french_message_and_changes_nothing(client, at_password_step, unchanged):
    response = client.post(PASSWORD, {"password1": "Aa1!" * 2_500, "password2": "Aa1!" * 2_500})

    assert response.status_code == 400
    assert "Ce mot de passe est trop long." in shown_errors(response)
    assert Account.objects.get(person=at_password_step.holder).needs_password


@pytest.mark.django_db
def test_junk_characters_in_a_new_password_are_refused_or_accepted_without_a_server_error(client, at_password_step):
    for junk in ("\x00Tromb0ne-Vert", "Trömb0ne-\u202eVert", "😀😀Tr0mbone", "Tr0mbone\tVert"):
        response = client.post(PASSWORD, {"password1": junk, "password2": junk})
        assert response.status_code in (302, 400), junk
        if response.status_code == 302:
            break


@pytest.fixture
def at_contact_step(client, at_password_step):
    client.post(PASSWORD, {"password1": "Tr0mbone-Vert", "password2": "Tr0mbone-Vert"})
    return at_password_step


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"medium": "pigeon", "email": "a@exemple.fr"}, "Choisissez l'e-mail ou le SMS."),
        ({"medium": "email\x00", "email": "a@exemple.fr"}, "Choisissez l'e-mail ou le SMS."),
        ({"medium": "email", "email": "a" * 10_000 + "@exemple.fr"}, "Assurez-vous que cette valeur comporte au plus"),
        ({"medium": "email", "email": "<script>@exemple.fr"}, "Saisissez une adresse e-mail valide"),
        ({"medium": "sms", "mobile": "6" * 10_000}, "Assurez-vous que cette valeur comporte au plus"),
        ({"medium": "sms", "mobile": "zéro six douze"}, "Ce numéro de mobile n'est pas valide."),
        ({"medium": "sms", "mobile": "+1 212 555 0100"}, "Ce numéro de mobile n'est pas valide."),
    ],
)
def test_a_bad_contact_gets_a_french_message_and_sends_nothing(client, at_contact_step, data, message):
    before = snapshot()

    response = client.post(CONTACT, data)

    assert response.status_code == 400
    assert any(error.startswith(message) for error in shown_errors(response)), shown_errors(response)
    assert snapshot() == before


@pytest.fixture
def at_code_step(client, at_contact_step):
    client.post(CONTACT, {"medium": "email", "email": "paul@exemple.fr"})
    return at_contact_step


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code", ["12a456", "abcdef", "1234567", "12345", "1" * 10_000, ARABIC_INDIC_CODE, "1 2  3456", "", "123456\x00"]
)
def test_a_malformed_code_gets_a_french_message_and_costs_no_try(client, at_code_step, code):
    before = snapshot()

    response = client.post(CONTACT_CODE, {"code": code})

    assert response.status_code == 400
    shown = shown_errors(response)
    assert shown[0] in (
        "Le code est composé de 6 chiffres.",
        "Saisissez le code à 6 chiffres que vous avez reçu.",
        NULL_CHARACTER,
    ), shown
    assert OneTimeCode.objects.get().attempts == 0
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("step", ["0", "-1", "99", "abc", chr(0x0661), "9" * 5000, ""])
def test_a_strange_onboarding_step_shows_a_real_step(client, at_code_step, step):
    client.post(CONTACT_CODE, {"code": last_code()})

    response = client.get(ONBOARDING, {"etape": step})

    assert response.status_code == 200
    assert re.search(r"Écran [123] sur 3", page_text(response))


# --- Reset forms ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"identifier": "1" * 10_000, "medium": "sms"}, "Ce numéro est trop long"),
        ({"identifier": "18405750030ZZ", "medium": "sms"}, NIR_CHARACTERS),
        ({"identifier": "", "medium": ""}, "Saisissez votre numéro de Sécurité sociale."),
        ({"identifier": "1840575003002", "medium": "telegramme"}, "Choisissez le SMS ou l'e-mail."),
    ],
)
def test_a_bad_reset_request_gets_a_french_message_and_changes_nothing(client, unchanged, data, message):
    response = client.post(RESET, data)

    assert response.status_code == 400
    assert any(error.startswith(message) for error in shown_errors(response)), shown_errors(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "abcdef", "password1": "Cl4rinette-Jaune", "password2": "Cl4rinette-Jaune"}, "Le code est composé"),
        ({"code": "123456", "password1": "A" * 10_000, "password2": "A" * 10_000}, "Ce mot de passe est trop long."),
        ({}, "Saisissez le code à 8 chiffres que vous avez reçu."),
    ],
)
def test_a_bad_reset_completion_gets_a_french_message_and_changes_nothing(client, migrated, data, message):
    client.post(RESET, {"identifier": migrated.person.nir, "medium": "email"})
    before = snapshot()
    password_hash = migrated.password

    response = client.post(RESET_CODE, data)

    assert response.status_code == 400
    assert any(error.startswith(message) for error in shown_errors(response)), shown_errors(response)
    assert snapshot() == before
    assert OneTimeCode.objects.get().attempts == 0
    migrated.refresh_from_db()
    assert migrated.password == password_hash


@pytest.mark.django_db
def test_a_tampered_reset_session_cannot_point_at_another_person(client, migrated, household):
    """The reset state lives in the signed-in session on the server; the browser only holds the session key."""
    client.post(RESET, {"identifier": make_unknown_nir(), "medium": "email"})
    cookie = client.cookies["moncompte_session"].value

    client.cookies["moncompte_session"] = cookie[:-1] + ("a" if cookie[-1] != "a" else "b")
    response = client.post(
        RESET_CODE, {"code": "123456", "password1": "Cl4rinette-Jaune", "password2": "Cl4rinette-Jaune"}
    )

    assert response["Location"] == RESET
    assert not Account.objects.filter(person=household.holder).exists()


def make_unknown_nir() -> str:
    return make_nir(seq=777_777)
