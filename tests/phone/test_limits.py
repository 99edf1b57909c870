"""How many wrong case PINs the voice server takes (moncompte/phone/limits.py), played as whole calls: the count on
the case, the household's own mobiles kept apart, the calling number across cases, and cool-offs that end.

The counters' clock (`moncompte.lib.counters.time`) is moved on as other tests of the windows do
(tests/accounts/test_throttling.py), nothing else."""

import datetime
import time
import zoneinfo

import pytest

from moncompte.journal.models import Entry, SecurityAlert
from moncompte.lib import counters
from tests.phone.conftest import HOLDER_MOBILE, OTHER_STRANGER, STRANGER
from tests.phone.helpers import COOL_OFF, WRONG_PIN, identify, sign_in, wrong_pins

pytestmark = pytest.mark.django_db

MENU = "Pour vos derniers paiements, tapez 1."
DAY = 24 * 3600


class Clock:
    """The counters' clock: real time, moved on by `offset` seconds."""

    def __init__(self):
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def start_of_day_plus(self, seconds: float) -> None:
        """Stand `seconds` after the start of the current day of the counters (UTC), whatever the hour now."""
        now = time.time()
        self.offset = (now // DAY) * DAY + seconds - now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(counters, "time", c)
    return c


def spoken_window_end(window: int) -> str:
    """The end of the current window, as the cool-off notice says it (« 15 h 30 », Paris time)."""
    end = (time.time() // window + 1) * window
    local = datetime.datetime.fromtimestamp(end, tz=zoneinfo.ZoneInfo("Europe/Paris"))
    return f"{local:%H} h {local:%M}"


def ceilings() -> list[dict]:
    return list(Entry.objects.filter(kind="phone.pin_ceiling").values("case_number", "after", "caller"))


def test_three_wrong_pins_in_one_call_end_it_and_point_to_the_forgotten_pin(phone, household):
    call = phone()
    call.dial()
    call.press("1")
    for n in range(3):
        call.press(household.case.case_number)
        turn = call.press(f"1234567{n}")

    assert turn.hung_up and WRONG_PIN in turn.text
    assert "rappelez et tapez 2 : un nouveau mot de passe vous sera envoyé par SMS" in turn.text
    assert Entry.objects.filter(kind="phone.pin_refused").count() == 3 and ceilings() == []


def test_past_the_tries_per_case_even_the_right_pin_is_refused_until_the_window_ends(phone, household, settings):
    case_number = household.case.case_number
    turns = wrong_pins(phone, case_number, settings.PHONE_PIN_TRIES_PER_CASE, caller=STRANGER)
    assert all(WRONG_PIN in turn.text for turn in turns) and len(turns) == 5
    assert ceilings() == [
        {"case_number": case_number, "after": {"limit": 5, "window": 900}, "caller": STRANGER}
    ]  # the alert, at the try that reached the limit

    expected = {spoken_window_end(settings.PHONE_PIN_COOLOFF)}
    turn = sign_in(phone(caller=OTHER_STRANGER), case_number, household.case.pin)  # the right PIN, another number
    expected.add(spoken_window_end(settings.PHONE_PIN_COOLOFF))

    assert turn.hung_up and COOL_OFF in turn.text and MENU not in turn.text
    assert any(f"{COOL_OFF} {hour}." in turn.text for hour in expected), (turn.text, expected)
    assert "Vous pourrez réessayer ensuite." in turn.text
    sign_in(phone(caller=OTHER_STRANGER), case_number, household.case.pin)
    assert len(ceilings()) == 1 and SecurityAlert.objects.count() == 1  # once per window
    assert Entry.objects.filter(kind="phone.pin_refused").count() == 5  # nothing tried during the cool-off
    assert not Entry.objects.filter(kind="phone.identified").exists()


def test_a_strangers_wrong_pins_do_not_keep_the_households_own_mobile_out(phone, household, settings):
    wrong_pins(phone, household.case.case_number, settings.PHONE_PIN_TRIES_PER_CASE, caller=STRANGER)
    assert COOL_OFF in sign_in(phone(caller=OTHER_STRANGER), household.case.case_number, household.case.pin).text

    turn = identify(phone(caller=HOLDER_MOBILE), household)

    assert MENU in turn.text
    entry = Entry.objects.get(kind="phone.identified")
    assert (entry.person_id, entry.caller) == (household.holder.pk, HOLDER_MOBILE)


def test_the_households_mobile_has_a_count_of_its_own(phone, household, settings):
    """Caller ids can be forged: a member's number gets the same limits, on its own count."""
    wrong_pins(phone, household.case.case_number, settings.PHONE_PIN_TRIES_PER_CASE, caller=HOLDER_MOBILE)

    refused = sign_in(phone(caller=HOLDER_MOBILE), household.case.case_number, household.case.pin)
    stranger = identify(phone(caller=STRANGER), household)

    assert refused.hung_up and COOL_OFF in refused.text
    assert MENU in stranger.text  # the case's count for other callers was not touched


def test_after_the_window_the_right_pin_works_again(phone, household, settings, clock):
    wrong_pins(phone, household.case.case_number, settings.PHONE_PIN_TRIES_PER_CASE, caller=STRANGER)
    assert COOL_OFF in sign_in(phone(caller=STRANGER), household.case.case_number, household.case.pin).text

    clock.offset += settings.PHONE_PIN_COOLOFF
    turn = identify(phone(caller=STRANGER), household)

    assert MENU in turn.text
    assert Entry.objects.filter(kind="phone.identified").count() == 1


def test_wrong_pins_from_one_number_across_cases_cool_that_number_off(phone, household, settings):
    """PHONE_PIN_TRIES_PER_NUMBER wrong PINs on case numbers each under their own limit."""
    for n, tries in enumerate((3, 3, 3, 1)):  # 10 in all, never more than 3 on one case number
        wrong_pins(phone, f"900000{n + 1}", tries, caller=STRANGER)
    assert [c["after"] for c in ceilings()] == [{"limit": settings.PHONE_PIN_TRIES_PER_NUMBER, "window": 900}]

    refused = sign_in(phone(caller=STRANGER), household.case.case_number, household.case.pin)
    other = identify(phone(caller=OTHER_STRANGER), household)

    assert refused.hung_up and COOL_OFF in refused.text
    assert MENU in other.text  # the household's case was never tried: another number gets in


def test_anonymous_calls_are_counted_on_the_case(phone, household, settings):
    wrong_pins(phone, household.case.case_number, settings.PHONE_PIN_TRIES_PER_CASE, caller="")

    turn = sign_in(phone(caller=""), household.case.case_number, household.case.pin)

    assert COOL_OFF in turn.text
    assert {e.caller for e in Entry.objects.filter(kind="phone.pin_refused")} == {""}


def test_the_day_limit_is_a_longer_cool_off_and_it_ends_too(phone, household, settings, clock):
    settings.PHONE_PIN_TRIES_PER_CASE = 1  # one wrong PIN per window, four a day
    clock.start_of_day_plus(3600)
    for _ in range(4):
        assert WRONG_PIN in wrong_pins(phone, household.case.case_number, 1, caller=STRANGER)[0].text
        clock.offset += settings.PHONE_PIN_COOLOFF
    assert [c["after"]["window"] for c in ceilings()].count(DAY) == 1

    still = sign_in(phone(caller=STRANGER), household.case.case_number, household.case.pin)
    clock.offset += DAY
    turn = identify(phone(caller=STRANGER), household)

    assert COOL_OFF in still.text  # a new window, but the day's limit stands
    assert MENU in turn.text  # the next day: never a lock
