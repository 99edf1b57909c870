"""Issue 7, items 1 and 2: nobody who knows only a NIR may keep its owner out.

The attack of the review, played through HTTP (Django's test client, addresses on the loopback range): 40 wrong
passwords from 8 addresses, reset requests from several sessions until the quota of anonymous requests is spent,
and wrong codes typed in the attacker's sessions. The owner still signs in from a trusted device, and from a new
device with a code; their own code is neither burned nor replaced; their trusted device's reset request sends.
"""

import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import override_settings

from moncompte.accounts.models import TrustedDevice
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.verification.models import OneTimeCode, Purpose
from moncompte.web.account import views
from tests.accounts import login_attack
from tests.accounts.login_attack import (
    DASHBOARD,
    LOGIN,
    LOGIN_CODE,
    LOGOUT,
    NEW_PASSWORD,
    RESET_CODE,
    WRONG,
    browser,
    login,
    other_code,
    reset_complete,
    reset_request,
)
from tests.factories import AccountFactory, make_nir
from tests.helpers import errors, last_code, page_text

ATTACKER_ADDRESSES = [f"127.0.1.{n}" for n in range(1, 9)]


@pytest.fixture
def owner(db):
    """The person the attacker targets: a migrated account with a validated e-mail."""
    return AccountFactory()


@pytest.fixture
def trusted(owner):
    """The owner's own browser, where they signed in once before the attack."""
    client = browser("127.0.0.2")
    assert login(client, owner.person.nir, owner.raw_password)["Location"] == DASHBOARD
    assert client.cookies[settings.DEVICE_COOKIE_NAME].value
    client.post(LOGOUT)
    return client


def attack_passwords(nir: str) -> list[int]:
    """40 wrong passwords from 8 addresses, 5 from each (axes cools each address off at its fifth)."""
    return login_attack.attack_passwords(nir, ATTACKER_ADDRESSES)


def attack_codes(nir: str, sessions: int = 6, tries: int = 5) -> None:
    """Reset requests from new sessions, each followed by wrong codes typed in that session (the NIR's ceilings,
    verification.ceilings, refuse those past its back-off and daily budget)."""
    for n in range(sessions):
        attacker = browser(ATTACKER_ADDRESSES[n % len(ATTACKER_ADDRESSES)])
        reset_request(attacker, nir)
        for guess in range(tries):
            reset_complete(attacker, f"{guess:08d}")


@pytest.mark.django_db
def test_the_owner_still_gets_in_after_the_attack_from_a_trusted_device_and_from_a_new_one_with_a_code(owner, trusted):
    nir = owner.person.nir
    statuses = attack_passwords(nir)
    attack_codes(nir)

    # The fifth try of each address shows its cool-off until the NIR is stepped up (its 20th failure, the fourth
    # address's fifth try): from then on every try leads to the code page, the one that locks an address included.
    assert statuses.count(429) == settings.LOGIN_LIMIT_PER_IDENTIFIER // settings.AXES_FAILURE_LIMIT - 1
    assert Entry.objects.filter(kind="login.failed", person_id=owner.person_id).count() == 40

    # The trusted device: straight in, as if nothing happened.
    assert login(trusted, nir, owner.raw_password)["Location"] == DASHBOARD
    trusted.post(LOGOUT)

    # A new device: the right password leads to a code, sent to the owner's validated contact.
    new_device = browser("127.0.2.1")
    response = login(new_device, nir, owner.raw_password)
    assert response["Location"] == LOGIN_CODE
    assert "_auth_user_id" not in new_device.session
    page = page_text(new_device.get(LOGIN_CODE))
    assert "Si le mot de passe saisi est le bon, un code à 6 chiffres vient de vous être envoyé" in page
    code = last_code(to=owner.email)
    assert OutboxMessage.objects.filter(template="verification/login").count() == 1
    signed_in = new_device.post(LOGIN_CODE, {"code": code})
    assert signed_in["Location"] == DASHBOARD
    assert new_device.get(DASHBOARD).status_code == 200
    # That device is trusted from now on.
    assert TrustedDevice.objects.filter(account=owner).count() == 2


@pytest.mark.django_db
def test_the_attacker_never_reaches_the_code_step_so_cannot_make_the_login_code_leave(owner):
    nir = owner.person.nir
    attack_passwords(nir)
    for ip in ATTACKER_ADDRESSES:
        attacker = browser(ip.replace("127.0.1.", "127.0.3."))
        # The same code page as for the right password (no guess confirmed), but nothing leaves.
        assert login(attacker, nir, WRONG)["Location"] == LOGIN_CODE
        assert attacker.post(LOGIN_CODE, {"code": "123456"}).status_code == 400

    assert not OutboxMessage.objects.filter(template="verification/login").exists()
    assert browser("127.0.3.9").get(LOGIN_CODE)["Location"] == LOGIN


@pytest.mark.django_db
def test_the_trusted_device_s_reset_request_sends_a_code_even_when_attackers_spent_the_anonymous_quota(owner, trusted):
    nir = owner.person.nir
    attack_codes(nir, sessions=settings.OTP_MAX_SENDS_PER_HOUR + 2)
    sent_by_attackers = OutboxMessage.objects.filter(template="verification/reset").count()
    assert sent_by_attackers == settings.OTP_MAX_SENDS_PER_HOUR  # the anti-spam ceiling of the anonymous lane holds

    reset_request(trusted, nir)

    assert OutboxMessage.objects.filter(template="verification/reset").count() == sent_by_attackers + 1
    assert "Un code à 8 chiffres vient de vous être envoyé par e-mail." in page_text(trusted.get(RESET_CODE))
    assert reset_complete(trusted, last_code(to=owner.email))["Location"] == DASHBOARD


@pytest.mark.django_db
def test_wrong_codes_typed_in_other_sessions_neither_burn_nor_replace_the_owner_s_live_code(owner, trusted):
    nir = owner.person.nir
    reset_request(trusted, nir)
    owner_code = last_code(to=owner.email)

    attack_codes(nir, sessions=3)  # three new codes asked for, and fifteen wrong ones typed, elsewhere

    assert reset_complete(trusted, owner_code)["Location"] == DASHBOARD


@pytest.mark.django_db
def test_a_code_can_only_be_checked_in_the_session_that_asked_for_it(owner):
    asking, other = browser("127.0.4.1"), browser("127.0.4.2")
    reset_request(asking, owner.person.nir)
    code = last_code(to=owner.email)
    reset_request(other, owner.person.nir)  # the other session holds a code of its own (or none)

    refused = reset_complete(other, code)

    assert refused.status_code == 400
    assert errors(refused)[0].startswith("Code incorrect.")
    assert reset_complete(asking, code)["Location"] == DASHBOARD


@pytest.mark.django_db
def test_the_trusted_device_is_not_caught_by_the_cool_off_of_its_own_address(owner, trusted):
    """An attacker behind the same address (a shared network) cools that address off for the NIR."""
    nir = owner.person.nir
    neighbour = browser("127.0.0.2")
    assert [login(neighbour, nir, WRONG).status_code for _ in range(5)][-1] == 429
    assert AccessAttempt.objects.filter(ip_address="127.0.0.2").exists()

    assert login(trusted, nir, owner.raw_password)["Location"] == DASHBOARD


@pytest.mark.django_db
@override_settings(LOGIN_LIMIT_PER_DEVICE=3)
def test_a_trusted_device_has_its_own_small_limit_which_says_it_is_about_this_device(owner, trusted):
    nir = owner.person.nir
    for _ in range(3):
        assert login(trusted, nir, WRONG).status_code == 400

    refused = login(trusted, nir, owner.raw_password)

    assert refused.status_code == 429
    assert "sur cet appareil" in page_text(refused)
    # Nobody else is concerned: not a new device of the owner, which is not stepped up either.
    assert login(browser("127.0.5.1"), nir, owner.raw_password)["Location"] == DASHBOARD


@pytest.mark.django_db
def test_the_lock_message_of_an_address_does_not_say_this_device(owner):
    attacker = browser("127.0.6.1")
    response = [login(attacker, owner.person.nir, WRONG) for _ in range(5)][-1]

    assert response.status_code == 429
    text = page_text(response)
    assert "depuis cet appareil" not in text
    assert "depuis votre connexion internet" in text


@pytest.mark.django_db
def test_a_device_cookie_of_another_account_or_forged_gives_no_trust(owner, trusted):
    other = AccountFactory()
    attack_passwords(owner.person.nir)
    thief = browser("127.0.7.1")
    # A cookie copied from another account's device, or altered, is not this account's trust.
    assert login(thief, other.person.nir, other.raw_password)["Location"] == DASHBOARD
    thief.post(LOGOUT)
    assert login(thief, owner.person.nir, owner.raw_password)["Location"] == LOGIN_CODE
    forged = browser("127.0.7.2")
    forged.cookies[settings.DEVICE_COOKIE_NAME] = trusted.cookies[settings.DEVICE_COOKIE_NAME].value[:-2] + "xx"
    assert login(forged, owner.person.nir, owner.raw_password)["Location"] == LOGIN_CODE


@pytest.mark.django_db
def test_a_stepped_up_login_refuses_wrong_codes_with_the_usual_answers(owner):
    attack_passwords(owner.person.nir)
    device = browser("127.0.8.1")
    login(device, owner.person.nir, owner.raw_password)
    code = last_code(to=owner.email)

    answers = [errors(device.post(LOGIN_CODE, {"code": other_code(code)}))[0] for _ in range(5)]

    assert answers[0] == "Code incorrect. Il vous reste 4 essais."
    assert answers[-1] == "Code incorrect. Vous avez épuisé vos essais : demandez un nouveau code."
    assert device.post(LOGIN_CODE, {"code": code}).status_code == 400
    assert "_auth_user_id" not in device.session


@pytest.mark.django_db
def test_a_successful_reset_clears_the_failures_counted_against_the_nir(owner):
    nir = owner.person.nir
    attack_passwords(nir)
    device = browser("127.0.9.1")
    reset_request(device, nir)
    assert reset_complete(device, last_code(to=owner.email))["Location"] == DASHBOARD
    device.post(LOGOUT)

    assert login(browser("127.0.9.2"), nir, NEW_PASSWORD)["Location"] == DASHBOARD
    assert not AccessAttempt.objects.filter(username=nir).exists()


# --- Item 2: the tries counter behaves the same for known and unknown NIRs -----------------------------------------


def _second_session_answer(nir: str) -> str:
    first = browser("127.0.10.1")
    reset_request(first, nir)
    reset_complete(first, "00000100")
    reset_complete(first, "00000200")
    second = browser("127.0.10.2")
    reset_request(second, nir)
    return errors(reset_complete(second, "00000300"))[0]


@pytest.mark.django_db
def test_the_remaining_tries_are_the_same_for_a_known_and_an_unknown_nir_across_sessions(owner):
    known = _second_session_answer(owner.person.nir)
    unknown = _second_session_answer(make_nir(seq=777_001))

    assert known == unknown == "Code incorrect. Il vous reste 4 essais."


@pytest.mark.django_db
def test_the_remaining_tries_are_the_same_once_the_quota_is_spent(owner):
    nir = owner.person.nir
    # Requests only: the tries of a NIR have their own daily budget (tests/accounts/test_code_ceilings.py).
    attack_codes(nir, sessions=settings.OTP_MAX_SENDS_PER_HOUR, tries=0)
    known = browser("127.0.11.1")
    unknown = browser("127.0.11.2")
    reset_request(known, nir)  # no code leaves: the anonymous quota is spent
    reset_request(unknown, make_nir(seq=777_002))

    for expected in ("4 essais", "3 essais"):
        known_answer = errors(reset_complete(known, "12345612"))[0]
        unknown_answer = errors(reset_complete(unknown, "12345612"))[0]
        assert known_answer == unknown_answer
        assert expected in known_answer
    assert re.sub(r"\s+", " ", page_text(known.get(RESET_CODE))) == re.sub(
        r"\s+", " ", page_text(unknown.get(RESET_CODE))
    )


@pytest.mark.django_db
def test_a_code_sent_for_one_purpose_cannot_complete_a_stepped_up_login(owner):
    attack_passwords(owner.person.nir)
    device = browser("127.0.12.1")
    reset_request(device, owner.person.nir)
    reset_code = last_code(to=owner.email)
    login(device, owner.person.nir, owner.raw_password)

    login_code = last_code(to=owner.email)
    if login_code != reset_code:  # one chance in a million that the two codes are the same digits
        assert device.post(LOGIN_CODE, {"code": reset_code}).status_code == 400
    assert OneTimeCode.objects.filter(purpose=Purpose.LOGIN).count() == 1
    assert device.post(LOGIN_CODE, {"code": login_code})["Location"] == DASHBOARD


@pytest.mark.django_db
def test_signing_in_again_while_a_login_code_is_pending_goes_back_to_it_without_a_second_send(owner):
    attack_passwords(owner.person.nir)
    device = browser("127.0.13.1")
    login(device, owner.person.nir, owner.raw_password)

    again = login(device, owner.person.nir, owner.raw_password)

    assert again["Location"] == LOGIN_CODE
    assert OutboxMessage.objects.filter(template="verification/login").count() == 1


@pytest.mark.django_db
def test_the_right_password_before_the_code_step_counts_for_a_quarter_of_an_hour_only(owner):
    attack_passwords(owner.person.nir)
    device = browser("127.0.14.1")
    login(device, owner.person.nir, owner.raw_password)
    session = device.session
    state = session[views.STEP_UP_SESSION_KEY]
    state["proven_at"] -= views.STEP_UP_MAX_AGE + 1
    session[views.STEP_UP_SESSION_KEY] = state
    session.save()

    assert device.post(LOGIN_CODE, {"code": last_code(to=owner.email)})["Location"] == LOGIN
    assert "_auth_user_id" not in device.session
