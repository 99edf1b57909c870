"""Issue 8, item 1: reset and signup codes cannot be guessed at scale (ASVS 6.3.1, 6.6.3).

Before: each NIR allowed 5 tries per code and 5 codes an hour, forever, and nothing limited one address or the flow
as a whole (one address obtained codes for 30 NIRs and made 150 wrong tries). Now (verification.ceilings): 8-digit
codes, a per-NIR budget over a day with a back-off, per-address and service-wide ceilings on requests and tries, and
an alert (journal + admin) when one is reached. The sprays are played through HTTP, from one address and from many.
"""

import re

import pytest
from django.core import checks

from moncompte.accounts.models import Account
from moncompte.households.models import Role
from moncompte.journal.models import Entry, SecurityAlert
from moncompte.lib.counters import address_bucket
from moncompte.messaging.models import OutboxMessage
from moncompte.verification import ceilings
from moncompte.verification.checks import code_strength
from moncompte.verification.models import Purpose
from moncompte.verification.services import code_digits
from moncompte.web.account import views
from moncompte.web.signup import views as signup_views
from tests.accounts.login_attack import (
    DASHBOARD,
    NEW_PASSWORD,
    RESET_CODE,
    browser,
    other_code,
    reset_complete,
    reset_request,
    trusted_browser,
)
from tests.agents import agent_client, agent_make
from tests.factories import AccountFactory, CaseFactory, MembershipFactory, PersonFactory, make_nir
from tests.helpers import errors, last_code, page_text, rewind_code_ceilings

SPRAYER = "198.51.100.7"
ADDRESS_REQUESTS = "Trop de codes ont été demandés depuis votre connexion internet."
ADDRESS_TRIES = "Trop de codes incorrects ont été saisis depuis votre connexion internet."
NIR_BACKOFF = re.compile(r"Plusieurs codes incorrects ont été saisis pour ce numéro\. .* dans (\d+) minutes?\.")
NIR_TRIES_SPENT = "Trop de codes incorrects ont été saisis aujourd'hui pour ce numéro."
NIR_SENDS_SPENT = "Trop de codes ont été demandés aujourd'hui pour ce numéro."
SERVICE = "La Caf reçoit en ce moment un nombre inhabituel de demandes de code."
DEVICE_HINT = "Sur un appareil où vous vous êtes déjà connecté à votre compte, vous n'êtes pas concerné."


def error_of(response) -> str:
    import html

    return html.unescape(errors(response)[0])


def alerts(ceiling: str) -> list[Entry]:
    return [alert for alert in SecurityAlert.objects.all() if alert.after.get("ceiling") == ceiling]


def rewind(client, seconds: float) -> None:
    rewind_code_ceilings(client.session[views.RESET_SESSION_KEY], seconds)


def try_code(client, code: str = "12345678") -> str:
    return error_of(reset_complete(client, code))


# --- Code strength -------------------------------------------------------------------------------------------------


def test_the_codes_anyone_can_ask_for_have_8_digits_and_the_others_6():
    assert code_digits(Purpose.PASSWORD_RESET) == code_digits(Purpose.SIGNUP) == 8
    assert code_digits(Purpose.CONTACT) == code_digits(Purpose.LOGIN) == code_digits(Purpose.SIGNUP_CONTACT) == 6


def test_the_yearly_chance_of_guessing_one_nir_s_code_is_under_one_in_ten_thousand(settings):
    """The state before (6 digits, 25 tries an hour, every hour) gave 0.2 a year; now 3.7e-5."""
    assert ceilings.yearly_guess_probability(tries_per_day=25 * 24, digits=6) > 0.2
    assert ceilings.yearly_guess_probability(
        tries_per_day=settings.OTP_ANONYMOUS_TRIES_PER_DAY, digits=settings.OTP_ANONYMOUS_DIGITS
    ) == pytest.approx(3.66e-5)
    assert code_strength() == []


def test_settings_that_would_weaken_the_codes_are_refused_by_a_system_check(settings):
    settings.OTP_ANONYMOUS_TRIES_PER_DAY = 30  # 30 x 366 / 10**8 = 1.1e-4
    [error] = code_strength()
    assert error.level == checks.ERROR and error.id == "moncompte.verification.E001"
    assert "1.1e-04" in error.msg


def test_an_ipv6_subscriber_network_counts_as_one_address():
    assert address_bucket("2001:db8:1:2:3:4:5:6") == address_bucket("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert address_bucket("2001:db8:1:3::1") != address_bucket("2001:db8:1:2::1")
    assert address_bucket("::ffff:198.51.100.7") == address_bucket("198.51.100.7") == "198.51.100.7"
    assert address_bucket(None) == address_bucket("not an address") == "-"


# --- One address, many NIRs ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_address_asking_codes_for_many_nirs_is_stopped_at_its_ceiling_with_one_alert(settings):
    known = [AccountFactory() for _ in range(3)]
    nirs = [account.person.nir for account in known] + [make_nir(seq=880_000 + n) for n in range(27)]
    sprayer = browser(SPRAYER)

    answers = [reset_request(sprayer, nir) for nir in nirs]

    limit = settings.OTP_REQUESTS_PER_ADDRESS_PER_HOUR
    assert [answer.status_code for answer in answers] == [302] * limit + [429] * (len(nirs) - limit)
    assert error_of(answers[limit]).startswith(ADDRESS_REQUESTS)
    assert error_of(answers[limit]) == error_of(answers[-1])  # known or not, the same refusal
    [alert] = alerts("address.request")
    assert alert.after == {"ceiling": "address.request", "limit": limit, "window_minutes": 60, "address": SPRAYER}
    assert reset_request(browser("198.51.100.8"), nirs[-1]).status_code == 302  # another address is not concerned


@pytest.mark.django_db
def test_one_address_typing_wrong_codes_for_many_nirs_is_stopped_at_its_ceiling(settings):
    limit = settings.OTP_TRIES_PER_ADDRESS_PER_HOUR
    answers = []
    for n in range(limit // 5 + 1):  # a new NIR and session for each code: no NIR's own budget is reached
        sprayer = browser(SPRAYER)
        reset_request(sprayer, make_nir(seq=881_000 + n))
        answers += [try_code(sprayer) for _ in range(5)]

    assert all(answer.startswith("Code incorrect.") for answer in answers[:limit])
    assert answers[limit].startswith(ADDRESS_TRIES)
    [alert] = alerts("address.try")
    assert alert.after["address"] == SPRAYER
    # The next session's page: nothing was counted for the refused try, and the refusal says when it ends.
    assert "Vous pourrez réessayer dans" in answers[limit]


# --- Many addresses, one NIR ---------------------------------------------------------------------------------------


def spray_one_nir(nir: str, tries: int) -> list[str]:
    """Wrong codes for one NIR, each session from a new address, waiting out each back-off it is told."""
    answers = []
    attacker = None
    for n in range(tries):
        if n % 5 == 0:
            attacker = browser(f"203.0.113.{n // 5 + 1}")
            reset_request(attacker, nir)
        answer = try_code(attacker)
        answers.append(answer)
        if wait := NIR_BACKOFF.match(answer):
            rewind(attacker, int(wait.group(1)) * 60)
            answers.append(try_code(attacker))
    return answers


def shapes(answers: list[str]) -> list[str]:
    return [re.sub(r"\d+ minutes?|\d+ essais?|\d+ \w+ à \d+ h \d+", "…", answer) for answer in answers]


@pytest.fixture
def owner(db):
    return AccountFactory()


@pytest.fixture
def trusted(owner):
    return trusted_browser(owner, "192.0.2.10")


@pytest.mark.django_db
def test_a_spray_on_one_nir_from_many_addresses_spends_its_daily_budget_with_a_back_off(owner, settings):
    budget = settings.OTP_ANONYMOUS_TRIES_PER_DAY
    answers = spray_one_nir(owner.person.nir, budget + 2)

    counted = [answer for answer in answers if answer.startswith("Code incorrect.")]
    backoffs = [int(NIR_BACKOFF.match(answer).group(1)) for answer in answers if NIR_BACKOFF.match(answer)]
    assert len(counted) == budget  # whatever the sessions and addresses
    assert backoffs == [1, 2, 4, 8, 16][: budget - settings.OTP_MAX_ATTEMPTS]  # doubling past the first code
    assert answers[-1].startswith(NIR_TRIES_SPENT)
    assert DEVICE_HINT in answers[-1]
    # Later in the day, from yet another address, still refused; one alert, about the person.
    late = browser("203.0.113.200")
    reset_request(late, owner.person.nir)
    rewind(late, 6 * 3600)
    assert try_code(late).startswith(NIR_TRIES_SPENT)
    [alert] = alerts("nir.try")
    assert (alert.kind, alert.person_id) == ("security.code_budget_spent", owner.person.pk)


@pytest.mark.django_db
def test_the_spray_gets_the_same_answers_for_a_known_and_an_unknown_nir(owner, settings):
    known = spray_one_nir(owner.person.nir, settings.OTP_ANONYMOUS_TRIES_PER_DAY + 2)
    unknown = spray_one_nir(make_nir(seq=882_001), settings.OTP_ANONYMOUS_TRIES_PER_DAY + 2)

    assert shapes(known) == shapes(unknown)


@pytest.mark.django_db
def test_after_the_spray_the_owner_resets_from_their_trusted_device_and_sees_the_alert(owner, trusted, settings):
    spray_one_nir(owner.person.nir, settings.OTP_ANONYMOUS_TRIES_PER_DAY + 1)

    assert reset_request(trusted, owner.person.nir)["Location"] == RESET_CODE
    code = last_code(to=owner.email)
    assert reset_complete(trusted, other_code(code)).status_code == 400  # a wrong try of their own: no ceiling
    assert reset_complete(trusted, code)["Location"] == DASHBOARD
    history = page_text(trusted.get("/mon-espace/securite/"))
    assert "Nombreux codes demandés ou essayés pour votre numéro" in history


@pytest.mark.django_db
def test_codes_asked_for_one_nir_are_limited_over_the_day_from_any_address(owner, settings):
    answers = []
    for n in range(settings.OTP_ANONYMOUS_SENDS_PER_DAY + 1):
        answers.append(reset_request(browser(f"203.0.113.{n + 1}"), owner.person.nir))

    assert [answer.status_code for answer in answers[:-1]] == [302] * settings.OTP_ANONYMOUS_SENDS_PER_DAY
    assert answers[-1].status_code == 429 and error_of(answers[-1]).startswith(NIR_SENDS_SPENT)
    sent = OutboxMessage.objects.filter(template="verification/reset").count()
    assert sent == settings.OTP_MAX_SENDS_PER_HOUR  # and the hourly quota still holds below it
    assert len(alerts("nir.request")) == 1


@pytest.mark.django_db
def test_one_budget_covers_the_reset_and_the_signup_of_a_nir(settings, monkeypatch):
    """A child without an account: the reset tries of the NIR (no code behind them) spend the signup's budget too."""
    monkeypatch.setattr(signup_views, "SIGNUP_MIN_DURATION", 0)
    child = MembershipFactory(case=CaseFactory(), role=Role.CHILD, person=PersonFactory(child=True)).person
    spray_one_nir(child.nir, settings.OTP_ANONYMOUS_TRIES_PER_DAY + 1)

    visitor = browser("192.0.2.77")
    visitor.post(
        "/creer-mon-compte/",
        {
            "identifier": child.nir,
            "birth_date": child.birth_date.isoformat(),
            "given_name": child.first_name,
            "medium": "email",
        },
    )
    code = last_code(to=child.email_on_file)
    answer = visitor.post(
        "/creer-mon-compte/code/", {"code": code, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert error_of(answer).startswith(NIR_TRIES_SPENT)
    assert DEVICE_HINT not in error_of(answer)  # no account yet: no device of theirs to point to
    assert not Account.objects.filter(person=child).exists()


# --- Many addresses, many NIRs: the service's ceiling --------------------------------------------------------------


@pytest.mark.django_db
def test_a_spray_from_many_addresses_over_many_nirs_reaches_the_service_ceiling(owner, trusted, settings):
    settings.OTP_TRIES_PER_HOUR = 12
    settings.OTP_REQUESTS_PER_HOUR = 40
    answers = []
    for n in range(6):  # six addresses, two NIRs each, three tries per code: no address or NIR ceiling is reached
        for m in range(2):
            attacker = browser(f"203.0.113.{10 + n}")
            reset_request(attacker, make_nir(seq=883_000 + 2 * n + m))
            answers += [try_code(attacker) for _ in range(3)]

    assert all(answer.startswith("Code incorrect.") for answer in answers[:12])
    assert all(answer.startswith(SERVICE) for answer in answers[12:]) and len(answers) == 36
    [alert] = alerts("global.try")
    assert alert.kind == "alert.code_ceiling" and "address" not in alert.after
    # The owner's trusted device is outside every ceiling.
    reset_request(trusted, owner.person.nir)
    assert reset_complete(trusted, last_code(to=owner.email))["Location"] == DASHBOARD

    requests = [reset_request(browser(f"203.0.114.{n}"), make_nir(seq=884_000 + n)).status_code for n in range(30)]
    assert requests.count(302) == 40 - 12  # the 12 requests above; the trusted device's is not counted
    assert len(alerts("global.request")) == 1


@pytest.mark.django_db
def test_the_security_team_sees_the_alerts_in_the_admin(settings):
    sprayer = browser(SPRAYER)
    for n in range(settings.OTP_REQUESTS_PER_ADDRESS_PER_HOUR):
        reset_request(sprayer, make_nir(seq=885_000 + n))
    admin = agent_client(agent_make("securite", roles=("security",)))

    page = admin.get("/admin/journal/securityalert/")

    assert page.status_code == 200
    text = page_text(page)
    assert "address.request" in text and SPRAYER in text and "20 / 60 min" in text
