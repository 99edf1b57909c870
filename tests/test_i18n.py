"""French by default, English shipped: what a person reads follows Accept-Language or the header's language switch,
every message of the English catalogue is translated, and outgoing e-mails and SMS stay in French."""

import ast
import gettext as gettext_module
import html
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from moncompte.accounts.throttling import retry_message
from moncompte.messaging.models import OutboxMessage
from moncompte.messaging.services import message_queue
from tests.helpers import errors, page_text

LOGIN = "/connexion/"
SET_LANGUAGE = "/i18n/setlang/"
RESET = "/mot-de-passe-oublie/"
RESET_CODE = "/mot-de-passe-oublie/code/"
LOCALE = Path(settings.BASE_DIR) / "moncompte" / "locale"
PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")

LOGIN_LABELS_FR = [
    "Numéro de Sécurité sociale",
    "13 caractères",
    "Mot de passe",
    "8 à 24 caractères",
    "Se souvenir de moi",
    "J'ai un identifiant provisoire",
    "Mot de passe oublié ?",
    "Se connecter",
    "Tous les champs sont obligatoires, sauf mention contraire.",
]
LOGIN_LABELS_EN = [
    "Social security number",
    "13 characters",
    "Password",
    "8 to 24 characters",
    "Remember me",
    "I have a temporary identifier",
    "Forgot your password?",
    "Sign in",
    "All fields are required unless stated otherwise.",
]


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    """LocaleMiddleware leaves the language of the last request active in the thread: English must not leak into
    the next test of this worker."""
    yield
    translation.deactivate()


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]*)"', response.content.decode()).group(1)


def shown_errors(response) -> list[str]:
    return [html.unescape(message) for message in errors(response)]


# --- The pages ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page_is_in_french_by_default(client):
    response = client.get(LOGIN)
    text = page_text(response)
    assert html_lang(response) == "fr"
    for label in LOGIN_LABELS_FR:
        assert label in text
    assert "Sign in" not in text


@pytest.mark.django_db
def test_the_login_page_is_in_english_for_a_browser_that_asks_for_english(client):
    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    text = page_text(response)
    assert html_lang(response) == "en"
    for label in LOGIN_LABELS_EN:
        assert label in text
    for label in ["Numéro de Sécurité sociale", "Se connecter", "Mot de passe oublié ?"]:
        assert label not in text
    assert "<title>Sign in — Mon Compte</title>" in response.content.decode()


@pytest.mark.django_db
def test_a_language_nobody_translated_falls_back_to_french(client):
    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert html_lang(response) == "fr"
    assert "Se connecter" in page_text(response)


@pytest.mark.django_db
def test_the_header_offers_both_languages_in_one_post_form_to_set_language(client):
    content = client.get(LOGIN + "?next=/mon-espace/").content.decode()
    switch = re.search(r'<nav role="navigation" class="fr-translate fr-nav".*?</nav>', content, re.S).group(0)
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', switch, re.S)
    assert form.group(1) == SET_LANGUAGE
    assert 'name="csrfmiddlewaretoken"' in form.group(2)
    assert '<input type="hidden" name="next" value="/connexion/?next=/mon-espace/">' in form.group(2)
    buttons = re.findall(r'<button type="submit" name="language" value="(\w+)"[^>]*lang="(\w+)"[^>]*>([^<]+)<', switch)
    assert buttons == [("fr", "fr", "FR - Français"), ("en", "en", "EN - English")]
    assert 'value="fr" class="fr-translate__language fr-nav__link" lang="fr" aria-current="true"' in switch


@pytest.mark.django_db
def test_posting_to_set_language_switches_the_pages_to_english_and_back(client):
    response = client.post(SET_LANGUAGE, {"language": "en", "next": LOGIN})
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"
    assert cookie["httponly"] and cookie["samesite"] == "Lax"

    response = client.get(LOGIN)
    assert html_lang(response) == "en"
    assert "Social security number" in page_text(response)

    client.post(SET_LANGUAGE, {"language": "fr", "next": LOGIN})
    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en")  # the choice made on the site wins over the browser's
    assert html_lang(response) == "fr"
    assert "Numéro de Sécurité sociale" in page_text(response)


@pytest.mark.django_db
def test_set_language_only_redirects_to_this_site(client):
    response = client.post(SET_LANGUAGE, {"language": "en", "next": "https://elsewhere.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_set_language_refuses_a_post_without_csrf_token():
    guarded = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")
    response = guarded.post(SET_LANGUAGE, {"language": "en", "next": LOGIN})
    assert response.status_code == 403
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


@pytest.mark.django_db
def test_the_switch_works_in_the_middle_of_the_first_login_migration(client, household):
    """The migration gate lets no other page open until the password is created: set_language is the exception."""
    response = client.post(LOGIN, {"identifier": household.holder.nir, "password": household.case.pin})
    assert response.status_code == 302
    step = "/premiere-connexion/mot-de-passe/"
    assert client.get("/mon-espace/")["Location"] == step

    response = client.post(SET_LANGUAGE, {"language": "en", "next": step})
    assert response.status_code == 302
    assert response["Location"] == step
    response = client.get(step)
    assert html_lang(response) == "en"
    assert "Create your personal password" in page_text(response)


# --- Messages built in Python ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_nir_and_form_errors_are_translated(client):
    response = client.post(LOGIN, {"identifier": "1 84 05 75 1X3 456", "password": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    assert shown_errors(response) == [
        "The number can only contain digits, except 2A or 2B for Corsica.",
        "The form contains errors: please correct the flagged fields.",
    ]
    response = client.post(LOGIN, {"identifier": "18405751", "password": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert shown_errors(response) == [
        "A social security number has 13 characters (or 15 with the key): you entered 8.",
        "Enter your password.",
        "The form contains errors: please correct the flagged fields.",
    ]


@pytest.mark.django_db
def test_a_refused_login_is_explained_in_english(client, migrated):
    response = client.post(LOGIN, {"identifier": migrated.person.nir, "password": "not-it"}, HTTP_ACCEPT_LANGUAGE="en")
    assert shown_errors(response) == [
        "Incorrect social security number or password. If you have never signed in with your social security "
        "number, enter the 8-digit password of your case."
    ]


@pytest.mark.django_db
def test_a_wrong_code_and_the_tries_left_are_translated_with_their_plural(client):
    client.post(SET_LANGUAGE, {"language": "en", "next": RESET})
    client.post(RESET, {"identifier": "1840575009009", "medium": "sms"})
    shown = []
    for _try in range(5):
        response = client.post(
            RESET_CODE, {"code": "00000000", "password1": "Cl4rinette-Jaune", "password2": "Cl4rinette-Jaune"}
        )
        shown.append(next(e for e in shown_errors(response) if e.startswith("Incorrect code")))
    assert shown == [
        "Incorrect code. You have 4 attempts left.",
        "Incorrect code. You have 3 attempts left.",
        "Incorrect code. You have 2 attempts left.",
        "Incorrect code. You have 1 attempt left.",
        "Incorrect code. You have no attempts left: ask for a new code.",
    ]
    response = client.post(RESET_CODE, {"resend": "1"}, follow=True)
    assert re.search(r"A code has just been sent\. You can ask for a new one in \d+ seconds\.", page_text(response))


@pytest.mark.django_db
def test_the_same_wrong_codes_read_in_french_by_default(client):
    client.post(RESET, {"identifier": "1840575009009", "medium": "sms"})
    shown = []
    for _try in range(4):
        response = client.post(
            RESET_CODE, {"code": "00000000", "password1": "Cl4rinette-Jaune", "password2": "Cl4rinette-Jaune"}
        )
        shown.append(next(e for e in shown_errors(response) if e.startswith("Code incorrect")))
    assert shown[2:] == ["Code incorrect. Il vous reste 2 essais.", "Code incorrect. Il vous reste 1 essai."]


def test_the_lockout_message_gives_the_time_the_way_each_language_writes_it():
    until = timezone.now() + timedelta(minutes=15)
    at = timezone.localtime(until)
    with translation.override("fr"):
        french = retry_message(until)
    with translation.override("en"):
        english = retry_message(until)
    assert f"Vous pourrez réessayer à {at:%H} h {at:%M} (dans 15 minutes)." in french
    assert f"You can try again at {at:%H}:{at:%M} (in 15 minutes)." in english
    with translation.override("en"):
        assert "(in 1 minute)" in retry_message(timezone.now() + timedelta(seconds=30))


@pytest.mark.django_db
def test_the_dashboard_names_roles_in_the_reader_s_language(client, migrated):
    client.force_login(migrated)
    assert "Allocataire (responsable de dossier)" in page_text(client.get("/mon-espace/"))
    text = page_text(client.get("/mon-espace/", HTTP_ACCEPT_LANGUAGE="en"))
    assert f"Case no. {migrated.case.case_number}" in text
    assert "Your role: Case holder (claimant)" in text


@pytest.mark.django_db
def test_e_mails_and_sms_stay_in_french_when_the_page_was_in_english(migrated):
    when = timezone.make_aware(datetime(2024, 3, 5, 14, 30))
    with translation.override("en"):
        message_queue(
            medium="email",
            to="personne@exemple.fr",
            template="accounts/notices/password_changed",
            context={"person": migrated.person, "when": when},
        )
    message = OutboxMessage.objects.get()
    assert message.subject == "Votre mot de passe Mon Compte a été modifié"
    assert "a été modifié le 5 mars 2024 à 14:30." in message.body


# --- The catalogue --------------------------------------------------------------------------------------------------


def parse_po(text: str) -> list[dict]:
    """The entries of a .po file: {"flags": [...], "msgid": ..., "msgid_plural": ..., "msgstr": [...]}.
    Obsolete entries (#~) are skipped."""
    entries = []
    for block in text.strip().split("\n\n"):
        entry, field = {"flags": [], "msgstr": []}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif match := re.match(r'^(msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line):
                field = match.group(1)
                value = ast.literal_eval(match.group(2))
                if field.startswith("msgstr"):
                    entry["msgstr"].append(value)
                else:
                    entry[field] = value
            elif line.startswith('"'):
                value = ast.literal_eval(line)
                if field.startswith("msgstr"):
                    entry["msgstr"][-1] += value
                else:
                    entry[field] += value
        if "msgid" in entry:
            entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def catalogue() -> list[dict]:
    return parse_po(PO.read_text(encoding="utf-8"))


def messages_of(catalogue):
    return [entry for entry in catalogue if entry["msgid"]]  # without the header


def test_every_english_message_is_translated_and_none_is_fuzzy(catalogue):
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8")
    assert len(messages_of(catalogue)) > 200
    untranslated = [entry["msgid"] for entry in catalogue if not entry["msgstr"] or not all(entry["msgstr"])]
    assert not untranslated, untranslated
    assert not [entry["msgid"] for entry in catalogue if "fuzzy" in entry["flags"]]
    header = catalogue[0]["msgstr"][0]
    assert "Language: en\n" in header and "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header


def test_translations_keep_their_placeholders(catalogue):
    for entry in messages_of(catalogue):
        expected = set(PLACEHOLDER.findall(entry["msgid"] + entry.get("msgid_plural", "")))
        for msgstr in entry["msgstr"]:
            assert set(PLACEHOLDER.findall(msgstr)) <= expected, entry["msgid"]
            if "msgid_plural" not in entry:  # a singular may leave its count out ("1 minute")
                assert set(PLACEHOLDER.findall(msgstr)) == expected, entry["msgid"]
            assert msgstr.count("<strong>") == entry["msgid"].count("<strong>"), entry["msgid"]


def test_the_committed_mo_file_is_compiled_from_the_po_file(catalogue):
    """A fresh machine may lack msgfmt: the .mo is committed, and must say what the .po says."""
    with MO.open("rb") as handle:
        compiled = gettext_module.GNUTranslations(handle)
    for entry in messages_of(catalogue):
        if "msgid_plural" in entry:
            assert compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1) == entry["msgstr"][0]
            assert compiled.ngettext(entry["msgid"], entry["msgid_plural"], 2) == entry["msgstr"][1]
        else:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]
    assert len(compiled._catalog) == len(catalogue) + sum("msgid_plural" in e for e in catalogue)


def test_no_catalogue_of_another_app_turns_our_french_into_something_else(catalogue):
    """The French text is the msgid: in French every message must come out unchanged, even where a third-party
    app's French catalogue happens to hold the same msgid."""
    with translation.override("fr"):
        for entry in messages_of(catalogue):
            if "msgid_plural" in entry:
                for count, msgid in ((1, entry["msgid"]), (2, entry["msgid_plural"])):
                    assert translation.ngettext(entry["msgid"], entry["msgid_plural"], count) == msgid
            else:
                assert translation.gettext(entry["msgid"]) == entry["msgid"]


@pytest.mark.slow
def test_the_po_file_holds_every_message_of_the_code_and_templates(tmp_path, catalogue):
    """Run makemessages on a copy of the sources: a message added to the code or a template without running
    `make messages` (and translating it) fails here. `make test` installs GNU gettext, which makemessages needs."""
    assert shutil.which("xgettext"), "makemessages needs GNU gettext: run `make system-packages`"
    root = Path(settings.BASE_DIR)
    shutil.copytree(root / "moncompte", tmp_path / "moncompte", ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "moncompte.settings_test",
        "PYTHONPATH": str(tmp_path),
        "VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "makemessages-only",
    }
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "en", "--ignore=var", "--no-obsolete"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    extracted = parse_po((tmp_path / "moncompte" / "locale" / "en" / "LC_MESSAGES" / "django.po").read_text())
    missing = {e["msgid"] for e in extracted} - {e["msgid"] for e in catalogue}
    assert not missing, f"run `make messages` and translate: {sorted(missing)}"
    untranslated = [e["msgid"] for e in messages_of(extracted) if not all(e["msgstr"]) or "fuzzy" in e["flags"]]
    assert not untranslated, untranslated
