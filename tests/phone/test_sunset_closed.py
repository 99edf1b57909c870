"""After PHONE_PIN_SUNSET the case PIN no longer identifies callers: they are told since when and how to sign in on
the web, and only an agent remains. While the service is closed (incidents), every webhook says so and hangs up."""

import datetime

import pytest
from django.utils import timezone

from moncompte.incidents.services import service_close, service_reopen
from moncompte.journal.models import Entry
from moncompte.phone.models import Call
from tests.phone.conftest import keys
from tests.phone.helpers import heard, identify, post_step, spoken_day

pytestmark = pytest.mark.django_db

MENU = "Pour vos derniers paiements, tapez 1."
CLOSED = (
    "Le service de la Caf est momentanément fermé pour maintenance, sur le serveur vocal comme sur le site. "
    "Veuillez rappeler plus tard."
)
WEB = (
    "Pour consulter votre dossier, connectez-vous sur localhost, avec votre numéro de sécurité sociale et votre mot "
    "de passe personnel"
)


@pytest.fixture
def sunset(settings):
    """The sunset was yesterday: today the PIN identifies nobody."""
    settings.PHONE_PIN_SUNSET = timezone.localdate() - datetime.timedelta(days=1)
    return settings.PHONE_PIN_SUNSET


def phone_kinds() -> list[str]:
    return sorted(Entry.objects.filter(kind__startswith="phone.").values_list("kind", flat=True))


# --- The sunset ------------------------------------------------------------------------------------------------------


def test_after_the_sunset_the_caller_is_told_since_when_and_how_to_sign_in_on_the_web(phone, household, sunset):
    turn = phone().dial()

    today = spoken_day(timezone.localdate())
    assert turn.said[:3] == [
        "Bienvenue sur le serveur vocal de la Caf.",
        f"Depuis le {today}, le numéro allocataire et le mot de passe à 8 chiffres ne permettent plus de vous "
        "identifier par téléphone.",
        f"{WEB}.",
    ]
    assert "Pour parler à un conseiller, tapez 9." in turn.text
    assert "FranceConnect" not in turn.text  # not configured
    assert "tapez 1" not in turn.text and "tapez 2" not in turn.text


def test_with_franceconnect_configured_the_sunset_notice_offers_it_too(phone, household, sunset, franceconnect):
    turn = phone().dial()
    assert f"{WEB}, ou avec FranceConnect." in turn.text


def test_on_the_sunset_day_itself_the_pin_still_identifies(phone, household, settings):
    settings.PHONE_PIN_SUNSET = timezone.localdate()  # its last day

    turn = identify(phone(), household)

    assert MENU in turn.text


def test_after_the_sunset_no_key_nor_webhook_reaches_a_pin_step(phone, household, sunset):
    call = phone()
    call.dial()

    for key in ("1", "2"):
        turn = call.press(key)
        assert turn.said[0] == "Je n'ai pas compris votre choix." and "ne permettent plus" in turn.text
    row = Call.objects.get()
    for step in ("case_number", "pin", "renew_case_number", "birth_date", "menu"):
        turn = post_step(call, step, row.token, Digits=household.case.pin)  # as if the call were there
        assert turn.status == 200 and "ne permettent plus" in turn.text, step
    row.refresh_from_db()
    assert row.step == "sunset" and row.case_id is None and row.typed_case_number == ""
    assert phone_kinds() == []


def test_a_call_begun_before_the_sunset_gets_the_notice_at_its_next_answer(phone, household, settings):
    call = phone()
    call.dial()
    call.press("1")
    call.press(household.case.case_number)
    settings.PHONE_PIN_SUNSET = timezone.localdate() - datetime.timedelta(days=1)  # midnight passed, say

    turn = call.press(household.case.pin)

    assert "ne permettent plus de vous identifier par téléphone" in turn.text
    assert "date de naissance" not in turn.text
    assert Call.objects.get().step == "sunset" and Call.objects.get().case_id is None
    assert phone_kinds() == []  # the PIN was not checked: neither refused nor accepted


@pytest.mark.parametrize("action", ["repeat", "silence"])
def test_a_call_at_a_pin_step_when_the_sunset_passes_is_not_asked_for_the_pin_again(
    phone, household, settings, action
):
    call = phone()
    call.dial()
    call.press("1")
    call.press(household.case.case_number)
    settings.PHONE_PIN_SUNSET = timezone.localdate() - datetime.timedelta(days=1)

    turn = call.press("*") if action == "repeat" else call.wait()

    assert "ne permettent plus de vous identifier par téléphone" in turn.text
    assert "Tapez votre mot de passe du serveur vocal" not in turn.text


def test_a_caller_identified_before_the_sunset_hears_nothing_more_of_the_case(phone, household, settings, partners):
    from tests.agency.helpers import case_records

    partners.push(case_records(household.case.case_number))
    call = phone()
    identify(call, household)
    settings.PHONE_PIN_SUNSET = timezone.localdate() - datetime.timedelta(days=1)

    turn = call.press("1")

    assert "ne permettent plus" in turn.text and "euros" not in turn.text
    assert partners.requests()["caf"] == 0


def test_after_the_sunset_9_still_reaches_an_agent(phone, household, sunset, settings):
    call = phone()
    call.dial()

    turn = call.press("9")

    assert turn.dialled == settings.PHONE_AGENT_NUMBER
    assert phone_kinds() == ["phone.transferred"]


# --- The closing switch ----------------------------------------------------------------------------------------------


def test_while_the_service_is_closed_a_new_call_hears_the_notice_and_is_hung_up(phone, household):
    service_close(reason="Incident en cours", actor="équipe sécurité")
    call = phone()

    turn = call.dial()

    assert turn.status == 200 and turn.said == [CLOSED, "Au revoir."]
    assert turn.hung_up and not turn.gather_action and not turn.redirect
    assert "<Hangup" in turn.body
    assert not Call.objects.exists() and phone_kinds() == []


def test_a_call_under_way_when_the_service_closes_is_told_then_goes_on_once_it_reopens(phone, household):
    call = phone()
    call.dial()
    call.press("1")
    at_case_number = call.turn
    row = Call.objects.get()
    before = (row.step, row.token, row.mistakes)

    service_close(reason="Incident en cours", actor="équipe sécurité")
    closed = call.press(household.case.case_number)
    closed_silence = call.post(at_case_number.redirect, {"CallSid": call.sid, "From": call.caller})
    forged = call.post(at_case_number.gather_action, {"CallSid": call.sid, "Digits": "1"}, signature="bad")

    for turn in (closed, closed_silence):
        assert turn.status == 200 and turn.said == [CLOSED, "Au revoir."] and turn.hung_up
    assert forged.status == 403  # the signature is checked first, closed or not
    row.refresh_from_db()
    assert (row.step, row.token, row.mistakes, row.typed_case_number) == (*before, "")

    service_reopen(actor="équipe sécurité")
    call.turn = at_case_number  # the same prompt, answered again
    call.press(household.case.case_number)
    call.press(household.case.pin)
    turn = call.press(keys(household.holder.birth_date))
    assert MENU in turn.text
    assert MENU in identify(phone(), household).text  # and a new call


def test_while_the_service_is_closed_nothing_of_the_case_is_said(phone, household, partners):
    from tests.agency.helpers import case_records

    partners.push(case_records(household.case.case_number))
    call = phone()
    identify(call, household)
    service_close(reason="Incident en cours", actor="équipe sécurité")

    call.press("1")

    assert "euros" not in heard(call) and partners.requests()["caf"] == 0
