"""Login throttling (issue 2, item 10): django-axes on identifier AND address with a finite cool-off, our limits per
identifier across addresses and per address across identifiers, a French message saying when to try again, and
never a permanent lock."""

import html
import re
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client, override_settings
from django.utils import formats, timezone

from moncompte.accounts import throttling
from moncompte.accounts.models import Account
from moncompte.journal.models import Entry
from moncompte.lib import counters
from tests.factories import AccountFactory, make_nir
from tests.helpers import errors, page_text

LOGIN = "/connexion/"
DASHBOARD = "/mon-espace/"
WRONG = "Pas-le-bon-1"
LOGIN_FAILED = (
    "Numéro de Sécurité sociale ou mot de passe incorrect. Si vous ne vous êtes jamais connecté avec votre numéro "
    "de Sécurité sociale, saisissez le mot de passe à 8 chiffres de votre dossier."
)
RETRY = re.compile(r"Vous pourrez réessayer à (\d{2}) h (\d{2}) \(dans (\d+) minutes?\)\.")


def login(client, nir, password, ip="192.0.2.1", **extra):
    return client.post(LOGIN, {"identifier": nir, "password": password}, REMOTE_ADDR=ip, **extra)


def fail(client, nir, times, ip="192.0.2.1", **extra):
    return [login(client, nir, WRONG, ip, **extra).status_code for _ in range(times)]


def move_axes_attempts_back(minutes):
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=minutes))


# --- axes: one identifier from one address -------------------------------------------------------------------------


def test_the_configuration_never_locks_for_good():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.LOGIN_LIMIT_WINDOW > 0


@pytest.mark.django_db
def test_after_five_failures_even_the_right_password_gets_429_and_a_french_message_saying_when(client, migrated):
    nir = migrated.person.nir

    statuses = fail(client, nir, 5)
    response = login(client, nir, migrated.raw_password)

    # The fifth failure already shows the lock; the sixth try is refused whatever the password.
    assert statuses == [400, 400, 400, 400, 429]
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    text = page_text(response)
    assert "Trop de mots de passe incorrects ont été saisis pour ce numéro depuis votre connexion internet." in text
    assert "depuis cet appareil" not in text
    match = RETRY.search(text)
    assert match, text
    hours, minutes, delay = match.groups()
    until = AccessAttempt.objects.get().attempt_time + settings.AXES_COOLOFF_TIME
    assert f"{hours} h {minutes}" == formats.time_format(timezone.localtime(until), "H \\h i")
    assert delay == "15"
    assert "Mot de passe oublié ?" in text


@pytest.mark.django_db
def test_the_first_four_failures_show_the_usual_message(client, migrated):
    for _ in range(4):
        response = login(client, migrated.person.nir, WRONG)
        assert response.status_code == 400
        assert [html.unescape(e) for e in errors(response)] == [LOGIN_FAILED]


@pytest.mark.django_db
def test_every_failure_is_journaled_including_the_one_that_locks(client, migrated):
    fail(client, migrated.person.nir, 5)

    assert Entry.objects.filter(kind="login.failed", person_id=migrated.person_id).count() == 5


@pytest.mark.django_db
def test_the_same_nir_from_another_address_still_signs_in(client, migrated):
    fail(client, migrated.person.nir, 5, ip="192.0.2.1")

    response = login(client, migrated.person.nir, migrated.raw_password, ip="192.0.2.99")

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD


@pytest.mark.django_db
def test_another_nir_from_the_same_address_still_signs_in(client, migrated):
    fail(client, make_nir(seq=31_337), 5)

    response = login(client, migrated.person.nir, migrated.raw_password)

    assert response.status_code == 302


@pytest.mark.django_db
def test_the_nir_signs_in_again_after_the_cool_off(client, migrated):
    fail(client, migrated.person.nir, 6)
    assert login(client, migrated.person.nir, migrated.raw_password).status_code == 429

    move_axes_attempts_back(minutes=16)
    response = login(client, migrated.person.nir, migrated.raw_password)

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD


@pytest.mark.django_db
def test_a_lock_never_becomes_permanent_even_after_many_rounds(client, migrated):
    for _ in range(3):
        fail(client, migrated.person.nir, 6)
        assert login(client, migrated.person.nir, migrated.raw_password).status_code == 429
        move_axes_attempts_back(minutes=16)

    assert login(client, migrated.person.nir, migrated.raw_password).status_code == 302


@pytest.mark.django_db
def test_the_nir_is_counted_whatever_the_spaces_typed(client, migrated):
    nir = migrated.person.nir
    spaced = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:]}"
    for typed in (nir, spaced, nir, spaced):
        login(client, typed, WRONG)

    assert login(client, f"{nir[:7]}.{nir[7:]}", WRONG).status_code == 429


@pytest.mark.django_db
def test_a_success_before_the_limit_starts_the_count_again(client, migrated):
    fail(client, migrated.person.nir, 4)
    assert login(client, migrated.person.nir, migrated.raw_password).status_code == 302
    client.post("/deconnexion/")

    assert fail(client, migrated.person.nir, 4) == [400] * 4
    assert login(client, migrated.person.nir, migrated.raw_password).status_code == 302


@pytest.mark.django_db
def test_an_unknown_nir_is_locked_exactly_like_a_known_one(client, migrated):
    known = fail(client, migrated.person.nir, 6)
    unknown = fail(client, make_nir(seq=31_338), 6)

    assert known == unknown == [400, 400, 400, 400, 429, 429]


@pytest.mark.django_db
def test_a_person_still_migrating_with_the_pin_is_protected_too(client, household):
    fail(client, household.holder.nir, 5)

    response = login(client, household.holder.nir, household.case.pin)

    assert response.status_code == 429
    assert not Account.objects.filter(person=household.holder).exists()


# --- Our limits: one identifier from many addresses, one address for many identifiers ------------------------------


@pytest.mark.django_db
@override_settings(LOGIN_LIMIT_PER_IDENTIFIER=3)
def test_one_nir_tried_from_many_addresses_steps_up_an_untrusted_client_instead_of_refusing_it(client, migrated):
    for n in range(2):
        assert login(client, migrated.person.nir, WRONG, ip=f"198.51.100.{n + 1}").status_code == 400
    # The third failure reaches the ceiling: from now on every password leads to the code page.
    assert login(client, migrated.person.nir, WRONG, ip="198.51.100.3")["Location"] == "/connexion/code/"

    response = login(client, migrated.person.nir, migrated.raw_password, ip="198.51.100.50")

    # The right password from a new device: not refused, but a code completes the login.
    assert response.status_code == 302
    assert response["Location"] == "/connexion/code/"
    assert "_auth_user_id" not in client.session
    # Another NIR from that last address is not concerned.
    other = AccountFactory()
    assert (
        login(Client(HTTP_HOST="localhost"), other.person.nir, other.raw_password, ip="198.51.100.50")["Location"]
        == DASHBOARD
    )


@pytest.mark.django_db
@override_settings(LOGIN_LIMIT_PER_IP=3)
def test_one_address_trying_many_nirs_is_held_back_with_a_french_message(client, migrated):
    for n in range(3):
        assert login(client, make_nir(seq=40_000 + n), WRONG, ip="203.0.113.5").status_code == 400

    response = login(client, migrated.person.nir, migrated.raw_password, ip="203.0.113.5")

    assert response.status_code == 429
    assert RETRY.search(page_text(response))
    # The same person from another address is not concerned.
    assert login(client, migrated.person.nir, migrated.raw_password, ip="203.0.113.6").status_code == 302


@pytest.mark.django_db
@override_settings(LOGIN_LIMIT_PER_IP=3)
def test_a_forged_forwarded_for_header_does_not_get_around_the_address_limit(client, migrated):
    """Regression: the address was read from X-Forwarded-For, which any client can set to a new value each try."""
    for n in range(3):
        login(client, make_nir(seq=40_100 + n), WRONG, ip="203.0.113.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 10}")

    response = login(
        client, migrated.person.nir, migrated.raw_password, ip="203.0.113.7", HTTP_X_FORWARDED_FOR="192.0.2.200"
    )

    assert response.status_code == 429


@pytest.mark.django_db
@override_settings(LOGIN_LIMIT_PER_IDENTIFIER=3)
def test_the_step_up_outlasts_the_window_and_a_successful_reset_lifts_it(client, migrated, monkeypatch):
    for n in range(3):
        login(client, migrated.person.nir, WRONG, ip=f"198.51.100.{n + 1}")
    later = time.time() + settings.LOGIN_LIMIT_WINDOW
    monkeypatch.setattr(counters, "time", SimpleNamespace(time=lambda: later))

    # The next window: still stepped up (LOGIN_STEP_UP_HOURS), so a password found during the attack needs a code.
    response = login(client, migrated.person.nir, migrated.raw_password, ip="198.51.100.9")
    assert response["Location"] == "/connexion/code/"

    throttling.login_failures_clear(migrated.person.nir)  # what a successful reset does
    response = login(Client(HTTP_HOST="localhost"), migrated.person.nir, migrated.raw_password, ip="198.51.100.9")
    assert response["Location"] == DASHBOARD


@pytest.mark.django_db
@override_settings(LOGIN_LIMIT_PER_IP=3)
def test_the_message_of_the_address_limit_gives_a_time_within_the_window(client, migrated):
    for n in range(3):
        login(client, make_nir(seq=41_000 + n), WRONG, ip="198.51.100.9")

    response = login(client, migrated.person.nir, WRONG, ip="198.51.100.9")

    text = page_text(response)
    assert "depuis votre connexion internet" in text
    assert "depuis cet appareil" not in text
    hours, minutes, delay = RETRY.search(text).groups()
    assert 1 <= int(delay) <= settings.LOGIN_LIMIT_WINDOW // 60
    now = timezone.localtime()
    retry_at = now.replace(hour=int(hours), minute=int(minutes), second=0, microsecond=0)
    if retry_at < now - timedelta(minutes=1):
        retry_at += timedelta(days=1)
    assert retry_at - now <= timedelta(seconds=settings.LOGIN_LIMIT_WINDOW)


@pytest.mark.django_db
def test_a_malformed_nir_is_refused_by_the_form_and_counts_for_nothing(client):
    for _ in range(6):
        response = login(client, "123", WRONG)
        assert response.status_code == 400

    assert not AccessAttempt.objects.exists()
    assert not Entry.objects.filter(kind="login.failed").exists()
