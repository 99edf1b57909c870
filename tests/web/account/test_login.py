"""The login page of the seed, the NIR as people type it, remember-me, and the journal of logins (issue 2, items 5
and 6). Everything goes through HTTP with Django's test client."""

import html
import re

import pytest
from django.conf import settings
from django.core import signing
from django.http import HttpRequest

from moncompte.accounts.models import Account
from moncompte.households.models import Role
from moncompte.identity.nir import nir_key
from moncompte.journal.context import session_ref
from moncompte.journal.models import Channel, Entry
from moncompte.web.account.views import REMEMBER_SALT
from tests.factories import CaseFactory, MembershipFactory, PersonFactory, make_nir
from tests.helpers import errors

LOGIN = "/connexion/"
DASHBOARD = "/mon-espace/"
MIGRATION_PASSWORD = "/premiere-connexion/mot-de-passe/"
LOGIN_FAILED = (
    "Numéro de Sécurité sociale ou mot de passe incorrect. Si vous ne vous êtes jamais connecté avec votre numéro "
    "de Sécurité sociale, saisissez le mot de passe à 8 chiffres de votre dossier."
)
REMEMBER = settings.REMEMBER_ME_COOKIE_NAME


def page_text(response) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def shown_errors(response) -> list[str]:
    return [html.unescape(message) for message in errors(response)]


def login(client, identifier, password, *, remember=False, **extra):
    data = {"identifier": identifier, "password": password}
    if remember:
        data["remember"] = "on"
    return client.post(LOGIN, data, **extra)


def logout(client):
    return client.post("/deconnexion/")


# --- The page ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_shows_the_labels_hints_links_and_button_of_the_seed(client):
    response = client.get(LOGIN)

    assert response.status_code == 200
    text = page_text(response)
    assert "Numéro de Sécurité sociale" in text
    assert "13 caractères" in text
    assert "Mot de passe" in text
    assert "8 à 24 caractères" in text
    assert "Se souvenir de moi" in text
    assert "J'ai un identifiant provisoire" in text
    assert "Mot de passe oublié ?" in text
    assert re.search(r'<button class="fr-btn" type="submit">\s*Se connecter\s*</button>', response.content.decode())
    assert "Tous les champs sont obligatoires, sauf mention contraire." in text


@pytest.mark.django_db
def test_login_page_labels_are_tied_to_their_fields(client):
    content = client.get(LOGIN).content.decode()

    for field, label in (
        ("id_identifier", "Numéro de Sécurité sociale"),
        ("id_password", "Mot de passe"),
        ("id_remember", "Se souvenir de moi"),
    ):
        assert re.search(rf'<label class="fr-label" for="{field}">\s*{label}', content), field
        assert f'id="{field}"' in content
    assert 'type="password"' in content
    assert 'type="checkbox" name="remember"' in content


@pytest.mark.django_db
def test_login_page_is_in_french(client):
    response = client.get(LOGIN)

    assert response["Content-Language"] == "fr"
    assert '<html lang="fr"' in response.content.decode()


@pytest.mark.django_db
def test_provisional_id_link_opens_the_login_with_a_provisional_identifier(client):
    content = client.get(LOGIN).content.decode()
    assert 'href="/identifiant-provisoire/"' in content

    response = client.get("/identifiant-provisoire/")

    assert response.status_code == 200
    text = page_text(response)
    assert "J'ai un identifiant provisoire" in text
    assert "Identifiant provisoire" in text and "Se connecter" in text


@pytest.mark.django_db
def test_forgotten_password_link_opens_the_reset_page(client):
    content = client.get(LOGIN).content.decode()
    assert 'href="/mot-de-passe-oublie/"' in content

    response = client.get("/mot-de-passe-oublie/")

    assert response.status_code == 200
    assert "Mot de passe oublié" in page_text(response)


@pytest.mark.django_db
def test_the_home_page_sends_a_visitor_to_the_login_page(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == LOGIN


@pytest.mark.django_db
def test_a_signed_in_person_who_opens_the_login_page_goes_to_the_dashboard(client, migrated):
    login(client, migrated.person.nir, migrated.raw_password)

    response = client.get(LOGIN)

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD


# --- The NIR as people type it -------------------------------------------------------------------------------------


def _spaced(nir: str) -> str:
    return f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(lambda nir: nir, id="13 characters"),
        pytest.param(_spaced, id="grouped with spaces as on the carte Vitale"),
        pytest.param(lambda nir: ".".join([nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:]]), id="dots"),
        pytest.param(lambda nir: f"{nir}{nir_key(nir):02d}", id="15 characters with the key"),
        pytest.param(lambda nir: f"{_spaced(nir)} {nir_key(nir):02d}", id="15 characters with spaces"),
        pytest.param(lambda nir: f"  {nir}\u00a0", id="surrounding and non-breaking spaces"),
    ],
)
def test_a_nir_is_accepted_with_spaces_dots_or_its_key(client, migrated, typed):
    response = login(client, typed(migrated.person.nir), migrated.raw_password)

    assert response.status_code == 302, shown_errors(response)
    assert response["Location"] == DASHBOARD


@pytest.mark.django_db
def test_a_nir_with_a_wrong_key_is_refused_with_a_message_about_the_key(client, migrated):
    nir = migrated.person.nir
    wrong_key = nir_key(nir) % 97 + 1

    response = login(client, f"{nir}{wrong_key:02d}", migrated.raw_password)

    assert response.status_code == 400
    assert any("clé de contrôle" in message for message in shown_errors(response))
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("nir", "label"),
    [
        (make_nir(sex="1", department="2A", seq=4321), "born in Corse-du-Sud (2A)"),
        (make_nir(sex="2", department="2B", seq=4322), "born in Haute-Corse (2B)"),
        (make_nir(sex="7", department="99", seq=4323), "NIA holder, sex digit 7"),
        (make_nir(sex="8", department="99", seq=4324), "NIA holder, sex digit 8"),
    ],
)
def test_corsican_and_nia_holders_can_migrate_with_the_case_pin(client, nir, label):
    case = CaseFactory()
    MembershipFactory(case=case, role=Role.HOLDER, person=PersonFactory(nir=nir))

    response = login(client, f"{_spaced(nir)} {nir_key(nir):02d}", case.pin)

    assert response.status_code == 302, (label, shown_errors(response))
    assert client.get(DASHBOARD)["Location"] == MIGRATION_PASSWORD
    assert Account.objects.get(person__nir=nir).login_id == nir


# --- Failures ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_wrong_password_and_an_unknown_nir_get_the_same_answer(client, migrated):
    wrong = login(client, migrated.person.nir, "Pas-le-bon-1")
    unknown = login(client, make_nir(seq=987_654), "Pas-le-bon-1")

    assert wrong.status_code == unknown.status_code == 400
    assert shown_errors(wrong) == shown_errors(unknown) == [LOGIN_FAILED]
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_failed_login_keeps_the_typed_nir_but_never_the_password(client, migrated):
    response = login(client, migrated.person.nir, "Pas-le-bon-1")

    content = response.content.decode()
    assert f'value="{migrated.person.nir}"' in content
    assert "Pas-le-bon-1" not in content


@pytest.mark.django_db
def test_empty_fields_get_one_french_message_each(client):
    response = login(client, "", "")

    assert response.status_code == 400
    assert shown_errors(response) == [
        "Saisissez votre numéro de Sécurité sociale.",
        "Saisissez votre mot de passe.",
        "Le formulaire contient des erreurs : corrigez les champs signalés.",
    ]


@pytest.mark.django_db
def test_an_inactive_account_cannot_sign_in(client, migrated):
    Account.objects.filter(pk=migrated.pk).update(is_active=False)

    response = login(client, migrated.person.nir, migrated.raw_password)

    assert response.status_code == 400
    assert shown_errors(response) == [LOGIN_FAILED]


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", ["https://exemple.org/piege", "//exemple.org/piege", "javascript:alert(1)"])
def test_login_never_redirects_to_another_site(client, migrated, next_url):
    response = client.post(
        f"{LOGIN}?next={next_url}", {"identifier": migrated.person.nir, "password": migrated.raw_password}
    )

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD


@pytest.mark.django_db
def test_login_returns_to_the_page_asked_for(client, migrated):
    assert client.get(DASHBOARD)["Location"] == f"{LOGIN}?next={DASHBOARD}"

    response = client.post(
        f"{LOGIN}?next={DASHBOARD}", {"identifier": migrated.person.nir, "password": migrated.raw_password}
    )

    assert response["Location"] == DASHBOARD


# --- Remember me ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_remember_me_keeps_a_signed_httponly_cookie_restricted_to_the_login_page_without_the_nir(client, migrated):
    response = login(client, migrated.person.nir, migrated.raw_password, remember=True)

    cookie = response.cookies[REMEMBER]
    assert cookie["path"] == LOGIN
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == settings.REMEMBER_ME_MAX_AGE
    # Issue 7, item 8: the NIR is not readable in the cookie, in clear or encoded; the cookie names the account.
    nir = migrated.person.nir
    assert nir not in cookie.value
    request = HttpRequest()
    request.COOKIES[REMEMBER] = cookie.value
    assert request.get_signed_cookie(REMEMBER, salt=REMEMBER_SALT) == str(migrated.pk)
    # Signed: another account's id with this signature is refused.
    request.COOKIES[REMEMBER] = f"{migrated.pk + 1}:{cookie.value.split(':', 1)[1]}"
    assert request.get_signed_cookie(REMEMBER, default=None, salt=REMEMBER_SALT) is None


@pytest.mark.django_db
def test_a_remember_me_cookie_of_the_earlier_format_holding_the_nir_is_ignored(client, migrated):
    client.cookies[REMEMBER] = signing.get_cookie_signer(salt=REMEMBER + REMEMBER_SALT).sign(migrated.person.nir)

    content = client.get(LOGIN).content.decode()

    assert _spaced(migrated.person.nir) not in content


@pytest.mark.django_db
def test_remember_me_prefills_the_nir_on_the_next_visit(client, migrated):
    login(client, migrated.person.nir, migrated.raw_password, remember=True)
    logout(client)

    content = client.get(LOGIN).content.decode()

    assert f'value="{_spaced(migrated.person.nir)}"' in content
    assert re.search(r'<input type="checkbox" name="remember"[^>]* checked', content)


@pytest.mark.django_db
def test_the_password_is_never_in_any_cookie(client, migrated):
    response = login(client, migrated.person.nir, migrated.raw_password, remember=True)

    assert response.status_code == 302
    for name, morsel in client.cookies.items():
        assert migrated.raw_password not in morsel.value, name
        assert migrated.raw_password not in morsel.OutputString(), name
    for morsel in response.cookies.values():
        assert migrated.raw_password not in morsel.OutputString()


@pytest.mark.django_db
def test_the_remembered_nir_is_never_in_the_password_field(client, migrated):
    login(client, migrated.person.nir, migrated.raw_password, remember=True)
    logout(client)

    content = client.get(LOGIN).content.decode()

    password_input = re.search(r'<input type="password"[^>]*>', content).group(0)
    assert "value=" not in password_input


@pytest.mark.django_db
def test_unchecking_remember_me_deletes_the_cookie(client, migrated):
    login(client, migrated.person.nir, migrated.raw_password, remember=True)
    logout(client)

    response = login(client, migrated.person.nir, migrated.raw_password)

    cookie = response.cookies[REMEMBER]
    assert cookie.value == ""
    assert cookie["path"] == LOGIN
    assert cookie["max-age"] == 0
    logout(client)
    assert _spaced(migrated.person.nir) not in client.get(LOGIN).content.decode()


@pytest.mark.django_db
def test_a_tampered_remember_me_cookie_is_ignored(client, migrated):
    client.cookies[REMEMBER] = f"{migrated.person.nir}:forged-signature"

    response = client.get(LOGIN)

    assert response.status_code == 200
    assert migrated.person.nir not in response.content.decode()
    assert _spaced(migrated.person.nir) not in response.content.decode()


@pytest.mark.django_db
def test_a_failed_login_does_not_remember_the_nir(client, migrated):
    response = login(client, migrated.person.nir, "Pas-le-bon-1", remember=True)

    assert REMEMBER not in response.cookies


# --- Journal -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_successful_login_is_journaled_with_actor_person_channel_session_and_ip(client, migrated):
    login(client, migrated.person.nir, migrated.raw_password, REMOTE_ADDR="203.0.113.7")

    entry = Entry.objects.get(kind="login.succeeded")
    assert entry.actor_account_id == migrated.pk
    assert entry.person_id == migrated.person_id
    assert entry.channel == Channel.WEB
    assert entry.ip_address == "203.0.113.7"
    assert entry.after == {"via": "password"}
    assert entry.session_ref == session_ref(client.session.session_key)


@pytest.mark.django_db
def test_a_failed_login_is_journaled_for_the_person_without_an_actor(client, migrated):
    login(client, migrated.person.nir, "Pas-le-bon-1", REMOTE_ADDR="203.0.113.8")

    entry = Entry.objects.get(kind="login.failed")
    assert entry.actor_account_id is None
    assert entry.person_id == migrated.person_id
    assert entry.channel == Channel.WEB
    assert entry.ip_address == "203.0.113.8"


@pytest.mark.django_db
def test_a_failed_login_with_an_unknown_nir_is_journaled_without_a_person(client):
    login(client, make_nir(seq=987_655), "Pas-le-bon-1", REMOTE_ADDR="203.0.113.9")

    entry = Entry.objects.get(kind="login.failed")
    assert entry.person_id is None
    assert entry.ip_address == "203.0.113.9"


@pytest.mark.django_db
def test_the_journal_holds_neither_the_nir_nor_the_password(client, migrated):
    login(client, migrated.person.nir, "Pas-le-bon-1")
    login(client, migrated.person.nir, migrated.raw_password)

    for entry in Entry.objects.all():
        dumped = repr((entry.before, entry.after, entry.session_ref, entry.user_agent))
        assert migrated.person.nir not in dumped
        assert migrated.raw_password not in dumped
        assert "Pas-le-bon-1" not in dumped
