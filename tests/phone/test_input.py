"""What a faulty or forged provider may send: letters, too many digits, impossible dates, unknown case numbers, bad
or misdirected signatures, replayed webhooks, webhooks of a call that ended. Each is answered, and none changes
what it must not."""

import re
from types import SimpleNamespace

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.urls import reverse

from moncompte.journal.models import Entry
from moncompte.phone.models import Call
from moncompte.phone.simulator import Provider
from tests.agency.helpers import case_records
from tests.phone.conftest import OTHER_STRANGER, STRANGER, TOKEN, keys
from tests.phone.helpers import COOL_OFF, UNKNOWN_CASE, WRONG_PIN, identify, other_pin, post_step, said, sign_in

pytestmark = pytest.mark.django_db

NOT_UNDERSTOOD = "Je n'ai pas compris votre choix."
CASE_DIGITS = "Le numéro allocataire compte 7 chiffres."
PIN_DIGITS = "Le mot de passe du serveur vocal compte 8 chiffres."
BAD_DATE = "Cette date de naissance n'est pas valide."
GAVE_UP = "Nous n'avons pas pu comprendre vos réponses."
MENU = "Pour vos derniers paiements, tapez 1."


def state(call: Provider) -> tuple:
    """What a webhook could change on the call's row."""
    row = Call.objects.get(sid=call.sid)
    return (row.step, row.token, row.mistakes, row.silences, row.wrong_pins, row.case_id, row.person_id, row.ended_at)


def kinds() -> list[str]:
    return sorted(Entry.objects.values_list("kind", flat=True))


# --- Keys that make no answer ----------------------------------------------------------------------------------------


def test_letters_are_not_understood_at_the_welcome_nor_as_a_case_number(phone, household):
    call = phone()
    welcome = call.dial()

    turn = call.press("abc")
    assert turn.said[0] == NOT_UNDERSTOOD
    assert turn.gather_action.split("?")[0] == welcome.gather_action.split("?")[0]  # the same step

    call.press("1")
    turn = call.press("abcdefg")
    assert turn.said[0] == CASE_DIGITS and "Tapez votre numéro allocataire" in turn.text
    assert Call.objects.get().typed_case_number == ""


@pytest.mark.parametrize(
    "typed",
    ["1" * 50, "1" * 500, "100000", "1 000 000", "١٠٠٠٠٠٠", "１０００００００"],  # noqa: RUF001 (look-alike digits)
    ids=["50 digits", "500 digits", "6 digits", "spaces", "arabic-indic digits", "full-width digits"],
)
def test_a_case_number_of_the_wrong_shape_is_refused_before_any_pin(phone, household, typed):
    call = phone()
    call.dial()
    call.press("1")

    turn = call.press(typed)

    assert turn.said[0] == CASE_DIGITS
    assert state(call)[0] == "case_number" and Call.objects.get().typed_case_number == ""
    assert kinds() == []


def test_a_six_digit_pin_is_refused_and_not_counted_as_a_wrong_pin(phone, household):
    call = phone()
    call.dial()
    call.press("1")
    call.press(household.case.case_number)

    turn = call.press(household.case.pin[:6])

    assert turn.said[0] == PIN_DIGITS and "Tapez votre mot de passe du serveur vocal" in turn.text
    row = Call.objects.get()
    assert (row.step, row.wrong_pins, row.case_id) == ("pin", 0, None)
    assert kinds() == []  # no phone.pin_refused: nothing was checked


@pytest.mark.parametrize("typed", ["31022000", "00001990", "01132000", "01012999", "1905198", "abcdefgh"])
def test_an_impossible_birth_date_is_refused_and_identifies_nobody(phone, household, typed):
    call = phone()
    call.dial()
    call.press("1")
    call.press(household.case.case_number)
    call.press(household.case.pin)

    turn = call.press(typed)

    assert turn.said[0] == BAD_DATE and "Tapez votre date de naissance" in turn.text
    assert state(call)[0] == "birth_date" and Call.objects.get().person_id is None
    assert not Entry.objects.filter(kind="phone.identified").exists()


def test_three_unusable_answers_in_a_row_end_the_call(phone, household):
    call = phone()
    call.dial()
    call.press("7")
    second = call.press("abc")
    assert not second.hung_up

    turn = call.press("12345")

    assert turn.hung_up and GAVE_UP in turn.text and "Au revoir." in turn.text
    assert Call.objects.get().ended_at is not None


def test_unusable_answers_are_counted_in_a_row_within_a_step(phone, household):
    call = phone()
    call.dial()
    call.press("7")
    call.press("8")
    call.press("1")  # a good answer: the count starts again at the next step
    call.press("12")
    turn = call.press("123")
    assert not turn.hung_up and turn.said[0] == CASE_DIGITS
    assert call.press("1234").hung_up


def test_text_from_the_case_system_is_said_never_obeyed_as_twiml(phone, household, partners):
    record = case_records(household.case.case_number)
    case = record["cases"][household.case.case_number]
    case["paiements"][0]["prestation"] = "<Dial>+33100000000</Dial><Hangup/>"
    case["courriers"][0]["objet"] = "]]></Say><Redirect>http://evil.example/</Redirect><Say>"
    partners.push(record)
    call = phone()
    identify(call, household)

    payments, letters = call.press("1"), call.press("2")

    assert "<Dial>+33100000000</Dial><Hangup/>." in payments.text
    assert not payments.dialled and not payments.hung_up and payments.gather_action
    assert "<Redirect>http://evil.example/</Redirect>" in letters.text
    assert "evil.example" not in letters.redirect and letters.gather_action.startswith(call.base_url)


# --- Unknown case numbers --------------------------------------------------------------------------------------------


def test_an_unknown_case_number_gets_the_answers_and_the_counts_of_a_wrong_pin(phone, household, settings):
    """Two callers, one on the household's case with a wrong PIN, one on a case number nobody has: they hear the
    same things at every turn, and reach the cool-off at the same try."""
    settings.PHONE_PIN_TRIES_PER_CASE = 2
    known, unknown = phone(caller=STRANGER), phone(caller=OTHER_STRANGER)
    for call, number in ((known, household.case.case_number), (unknown, UNKNOWN_CASE)):
        call.dial()
        call.press("1")
        for _ in range(2):
            call.press(number)
            assert call.press(other_pin(household.case.pin)).said[0] == WRONG_PIN
        call.press(number)
        refused = call.press(household.case.pin)  # the right PIN of the known case: refused all the same
        assert refused.hung_up and COOL_OFF in refused.text

    def normalised(call):
        return [[re.sub(r"\d{2} h \d{2}", "HH h MM", line) for line in turn] for turn in said(call)]

    assert normalised(known) == normalised(unknown)
    refusals = Entry.objects.filter(kind="phone.pin_refused")
    assert sorted(refusals.values_list("case_number", flat=True)) == ["", "", *[household.case.case_number] * 2]
    ceilings = Entry.objects.filter(kind="phone.pin_ceiling")
    assert sorted(ceilings.values_list("case_number", flat=True)) == ["", household.case.case_number]
    assert not Entry.objects.filter(kind="phone.identified").exists()


@pytest.fixture
def argon2_count(monkeypatch):
    """How many argon2 computations (hash or verify) were made, as tests/web/account/test_provisional_login.py
    counts them: every argon2 hasher (the case PIN's too) inherits these two methods."""
    counted = SimpleNamespace(count=0)

    def counting(method):
        def wrapper(self, *args, **kwargs):
            counted.count += 1
            return method(self, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(Argon2PasswordHasher, "encode", counting(Argon2PasswordHasher.encode))
    monkeypatch.setattr(Argon2PasswordHasher, "verify", counting(Argon2PasswordHasher.verify))
    return counted


def test_every_pin_typed_costs_one_argon2_computation_known_case_or_not(phone, household, argon2_count):
    """So that the time of the answer tells no more than its words."""
    sign_in(phone(), UNKNOWN_CASE, "12345678")  # the first unknown case of the process also makes the dummy hash
    costs = {}
    for label, number, pin in (
        ("unknown case", "9999998", "12345678"),
        ("wrong PIN", household.case.case_number, other_pin(household.case.pin)),
        ("right PIN", household.case.case_number, household.case.pin),
    ):
        call = phone(caller=OTHER_STRANGER)
        call.dial()
        call.press("1")
        call.press(number)
        argon2_count.count = 0
        call.press(pin)
        costs[label] = argon2_count.count
    assert costs == {"unknown case": 1, "wrong PIN": 1, "right PIN": 1}


# --- Signatures ------------------------------------------------------------------------------------------------------


def test_a_request_with_a_bad_or_missing_signature_is_refused_and_changes_nothing(phone, household):
    call = phone()
    incoming = call.base_url + reverse("phone:incoming")
    params = {"CallSid": call.sid, "From": STRANGER}

    for signature in ("", "bad", "c2lnbmF0dXJl"):
        turn = call.post(incoming, params, signature=signature)
        assert turn.status == 403
    assert not Call.objects.exists() and kinds() == []

    forged = Provider(base_url=call.base_url, token="not-" + TOKEN, transport=call.transport, caller=STRANGER)
    assert forged.post(incoming, params).status == 403
    assert not Call.objects.exists()


def test_without_an_auth_token_every_request_is_refused(phone, household, settings):
    settings.PHONE_AUTH_TOKEN = ""
    call = phone()
    unsigned = Provider(base_url=call.base_url, token="", transport=call.transport, caller=STRANGER)

    assert unsigned.dial().status == 403
    assert not Call.objects.exists()


def test_a_forged_answer_in_the_middle_of_a_call_changes_nothing(phone, household):
    call = phone()
    call.dial()
    call.press("1")
    call.press(household.case.case_number)
    turn = call.press(household.case.pin)
    before = state(call)
    params = {"CallSid": call.sid, "From": STRANGER, "Digits": keys(household.holder.birth_date)}

    response = call.post(turn.gather_action, params, signature="bad")

    assert response.status == 403 and "Signature absente ou invalide." in response.text
    assert state(call) == before
    assert not Entry.objects.filter(kind="phone.identified").exists()


def test_a_request_signed_for_another_url_is_refused(phone, household):
    """The signature covers SITE_URL and the path: not the Host the request came to, nor another step or token."""
    call = phone()
    welcome = call.dial()
    before = state(call)
    params = {"CallSid": call.sid, "From": STRANGER, "Digits": "1"}
    target = welcome.gather_action
    path = target.removeprefix(call.base_url)

    for signed_for in (
        f"http://testserver{path}",  # the Host of the test client's requests
        f"https://localhost{path}",
        f"http://evil.example{path}",
        target.replace("?t=", "?t=x"),  # another token
        target.replace("/welcome/", "/case_number/"),  # another step
        call.base_url + reverse("phone:incoming"),
    ):
        signature = call.validator.compute_signature(signed_for, params)
        assert call.post(target, params, signature=signature).status == 403, signed_for
    signature = call.validator.compute_signature(target, {**params, "Digits": "9"})
    assert call.post(target, params, signature=signature).status == 403  # other parameters
    assert state(call) == before and kinds() == []


def test_a_webhook_without_a_call_id_is_refused(phone, household):
    call = phone()
    turn = call.post(call.base_url + reverse("phone:incoming"), {"From": STRANGER})
    assert turn.status == 400 and not Call.objects.exists()


# --- Replays ---------------------------------------------------------------------------------------------------------


def test_replaying_the_pin_and_birth_date_webhooks_after_success_changes_nothing(phone, household):
    call = phone()
    identify(call, household)
    before, entries = state(call), kinds()
    assert entries == ["phone.identified"]
    pin_index = next(i for i, (url, params, _) in enumerate(call.sent) if params.get("Digits") == household.case.pin)

    for index in (pin_index, pin_index + 1, 0):  # the PIN, the birth date, the incoming call
        turn = call.replay(index)
        assert turn.status == 200 and MENU in turn.text  # where the call stands
        assert "date de naissance" not in turn.text and "Merci" not in turn.text
    assert state(call) == before and kinds() == entries


def test_a_replayed_wrong_pin_is_not_counted_again(phone, household):
    call = phone()
    sign_in(call, household.case.case_number, other_pin(household.case.pin))
    before = state(call)

    turn = call.replay(len(call.sent) - 1)

    assert "Tapez votre numéro allocataire" in turn.text and WRONG_PIN not in turn.text
    assert state(call) == before and before[4] == 1
    assert kinds() == ["phone.pin_refused"]


def test_a_replayed_unusable_answer_is_not_counted_again(phone, household):
    call = phone()
    call.dial()
    call.press("7")
    before = state(call)

    call.replay(len(call.sent) - 1)
    call.replay(len(call.sent) - 1)

    assert state(call) == before and before[2] == 1  # one mistake, not three (the third would end the call)


def test_a_replayed_silence_does_not_end_the_call(phone, household):
    call = phone()
    call.dial()
    call.wait()
    before = state(call)

    turn = call.replay(len(call.sent) - 1)

    assert not turn.hung_up and state(call) == before


def test_a_replayed_menu_choice_does_not_read_the_case_out_again(phone, household, partners):
    partners.push(case_records(household.case.case_number))
    call = phone()
    identify(call, household)
    call.press("1")
    payments = len(call.sent) - 1
    call.press("2")
    asked = partners.requests()["caf"]

    turn = call.replay(payments)  # by whoever captured the request

    assert "euros" not in turn.text and "Pour vos derniers paiements, tapez 1." in turn.text
    assert partners.requests()["caf"] == asked  # the case system is not asked again


def test_a_webhook_for_a_step_the_call_is_not_at_gets_the_current_prompt(phone, household):
    call = phone()
    call.dial()
    call.press("1")
    before = state(call)

    for step in ("pin", "menu", "birth_date", "limited", "no-such-step"):
        turn = post_step(call, step, before[1], Digits=household.case.pin)
        assert turn.status == 200 and "Tapez votre numéro allocataire" in turn.text, step
    assert state(call) == before and kinds() == []


def test_a_webhook_for_an_ended_call_says_goodbye_and_changes_nothing(phone, household):
    call = phone()
    welcome = call.dial()
    call.press("9")  # transferred: the call has ended here
    before, entries = state(call), kinds()
    assert before[0] == "ended" and entries == ["phone.transferred"]

    for turn in (
        call.post(welcome.gather_action, {"CallSid": call.sid, "From": STRANGER, "Digits": "1"}),
        call.post(call.base_url + reverse("phone:incoming"), {"CallSid": call.sid, "From": STRANGER}),
        call.replay(1),
    ):
        assert turn.status == 200 and turn.hung_up and turn.said == ["Au revoir."]
    assert state(call) == before and kinds() == entries


def test_a_webhook_for_a_call_nobody_started_creates_nothing(phone, household):
    call = phone()
    turn = post_step(call, "welcome", "any", Digits="1")
    assert turn.status == 200 and turn.hung_up and "Cet appel n'est pas reconnu." in turn.text
    assert not Call.objects.exists() and kinds() == []
