"""Password and case-PIN hashing (issue 2, items 3 and 7): argon2id with parameters from settings, hashes made with
older parameters upgraded at the next successful login, the PIN under its own algorithm and never in clear."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.contrib.sessions.models import Session
from django.core import serializers
from django.test import Client, override_settings

from moncompte.accounts.models import Account
from moncompte.households.models import Case, Role
from moncompte.households.services import PIN_HASHER, hash_case_pin
from moncompte.journal.models import Entry
from moncompte.verification.models import OneTimeCode
from tests.factories import AccountFactory, CaseFactory, MembershipFactory
from tests.helpers import last_code

LOGIN = "/connexion/"
ROOT = Path(__file__).resolve().parents[2]
REAL = {"ARGON2_MEMORY_COST": 19 * 1024, "ARGON2_TIME_COST": 2, "ARGON2_PARALLELISM": 1}
OLD = {"ARGON2_MEMORY_COST": 32, "ARGON2_TIME_COST": 1, "ARGON2_PARALLELISM": 1}


def parameters(encoded: str) -> tuple[str, str, str]:
    """('argon2', 'argon2id', 'm=…,t=…,p=…') from Django's `algorithm$argon2id$v=19$m=…,t=…,p=…$salt$hash`."""
    algorithm, variety, _version, params, *_ = encoded.split("$")
    return algorithm, variety, params


def login(client, nir, secret):
    return client.post(LOGIN, {"identifier": nir, "password": secret})


# --- The real parameters -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_default_parameters_are_the_owasp_minimum_for_argon2id():
    """Read in a fresh interpreter without the ARGON2_* variables, so an environment that overrides them (a bench,
    a deployment) still checks the defaults instead of skipping."""
    env = {k: v for k, v in os.environ.items() if k not in REAL and k != "DJANGO_SETTINGS_MODULE"}
    script = (
        "from moncompte import settings as s\n"
        "print(s.ARGON2_MEMORY_COST, s.ARGON2_TIME_COST, s.ARGON2_PARALLELISM, s.PASSWORD_HASHERS[0])"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert output == ["19456", "2", "1", "moncompte.accounts.hashers.ConfiguredArgon2PasswordHasher"]


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(**REAL)
def test_with_the_real_parameters_a_new_password_is_hashed_with_argon2id_19_mib_t2_p1(client, household):
    login(client, household.holder.nir, household.case.pin)

    response = client.post(
        "/premiere-connexion/mot-de-passe/", {"password1": "Tr0mbone-Vert", "password2": "Tr0mbone-Vert"}
    )

    assert response.status_code == 302
    encoded = Account.objects.get(person=household.holder).password
    assert parameters(encoded) == ("argon2", "argon2id", "m=19456,t=2,p=1")
    assert check_password("Tr0mbone-Vert", encoded)


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(**REAL)
def test_with_the_real_parameters_a_case_pin_is_hashed_with_argon2id_19_mib_t2_p1():
    encoded = hash_case_pin("24681357")

    assert parameters(encoded) == (PIN_HASHER, "argon2id", "m=19456,t=2,p=1")
    assert check_password("24681357", encoded)


# --- Upgrades at login ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_password_hashed_with_older_parameters_is_upgraded_at_the_next_successful_login(client):
    with override_settings(**OLD):
        account = AccountFactory()
    assert parameters(account.password)[2] == "m=32,t=1,p=1"

    response = login(client, account.person.nir, account.raw_password)

    assert response.status_code == 302
    account.refresh_from_db()
    assert parameters(account.password) == ("argon2", "argon2id", "m=64,t=1,p=1")
    assert account.check_password(account.raw_password or "Tr0mbone-Vert")
    # The session survives the new hash: the person stays signed in.
    assert client.get("/mon-espace/").status_code == 200


@pytest.mark.django_db
def test_a_failed_login_does_not_touch_an_old_hash(client):
    with override_settings(**OLD):
        account = AccountFactory()
    old_hash = account.password

    login(client, account.person.nir, "Pas-le-bon-1")

    account.refresh_from_db()
    assert account.password == old_hash


@pytest.mark.django_db
def test_a_password_from_an_older_hasher_is_moved_to_argon2id_at_login(client):
    account = AccountFactory(password="")
    Account.objects.filter(pk=account.pk).update(password=_pbkdf2("Tr0mbone-Vert"))

    assert login(client, account.person.nir, "Tr0mbone-Vert").status_code == 302

    account.refresh_from_db()
    assert parameters(account.password)[:2] == ("argon2", "argon2id")


def _pbkdf2(raw: str) -> str:
    return make_password(raw, hasher="pbkdf2_sha256")


@pytest.mark.django_db
def test_a_case_pin_is_hashed_with_its_own_algorithm(household):
    case = Case.objects.get(pk=household.case.pk)

    assert identify_hasher(case.pin_hash).algorithm == "case_pin_argon2"
    assert parameters(case.pin_hash) == ("case_pin_argon2", "argon2id", "m=64,t=1,p=1")


@pytest.mark.django_db
def test_a_case_pin_hashed_with_older_parameters_is_upgraded_at_the_next_pin_login(client):
    with override_settings(**OLD):
        case = CaseFactory()
    holder = MembershipFactory(case=case, role=Role.HOLDER).person
    assert parameters(Case.objects.get(pk=case.pk).pin_hash)[2] == "m=32,t=1,p=1"

    assert login(client, holder.nir, case.pin).status_code == 302

    pin_hash = Case.objects.get(pk=case.pk).pin_hash
    assert parameters(pin_hash) == ("case_pin_argon2", "argon2id", "m=64,t=1,p=1")
    assert check_password(case.pin, pin_hash)
    assert Entry.objects.filter(kind="case.pin_rehashed", case_number=case.case_number).count() == 1


@pytest.mark.django_db
def test_a_wrong_pin_does_not_touch_an_old_pin_hash(client):
    with override_settings(**OLD):
        case = CaseFactory()
    holder = MembershipFactory(case=case, role=Role.HOLDER).person
    old_hash = Case.objects.get(pk=case.pk).pin_hash

    login(client, holder.nir, f"{(int(case.pin) + 1) % 10**8:08d}")

    assert Case.objects.get(pk=case.pk).pin_hash == old_hash


# --- Never in clear ------------------------------------------------------------------------------------------------


def _everything_stored() -> str:
    """Every row of every model of the project (and the sessions), serialised."""
    chunks = []
    for model in apps.get_models():
        if model._meta.app_label in {"contenttypes", "auth", "admin"}:
            continue
        chunks.append(serializers.serialize("json", model.objects.all()))
    chunks.extend(repr(session.get_decoded()) for session in Session.objects.all())
    return "\n".join(chunks)


@pytest.mark.django_db
def test_the_pin_and_the_password_are_never_stored_in_clear_anywhere(client, household):
    pin = household.case.pin
    login(client, household.holder.nir, pin)
    client.post("/premiere-connexion/mot-de-passe/", {"password1": "Tr0mbone-Vert", "password2": "Tr0mbone-Vert"})
    client.post("/premiere-connexion/coordonnees/", {"medium": "email", "email": "paul@exemple.fr"})
    code = last_code()
    client.post("/premiere-connexion/coordonnees/code/", {"code": code})
    assert login(Client(HTTP_HOST="localhost"), household.partner.nir, pin).status_code == 302

    stored = _everything_stored()
    assert pin not in stored
    assert "Tr0mbone-Vert" not in stored
    # The code is only in the message that carried it (the local outbox), never in the code table or the journal.
    assert code not in serializers.serialize("json", Entry.objects.all())
    assert code not in serializers.serialize("json", OneTimeCode.objects.all())
