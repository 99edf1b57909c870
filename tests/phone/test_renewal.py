"""« Mot de passe oublié » on the voice server (welcome → 2): a new PIN by SMS through the HTTP gateway, to the holder
or the delegated partner born that day, the same spoken answer whatever happened, and the PIN nowhere else."""

import json
import re
import time

import pytest
from django.forms.models import model_to_dict

from moncompte.households.models import Case
from moncompte.journal import context
from moncompte.journal.models import Entry
from moncompte.lib import counters
from moncompte.messaging.models import Medium, OutboxMessage, Status
from moncompte.phone.models import Call
from tests.phone.conftest import HOLDER_MOBILE, PARTNER_MOBILE, STRANGER
from tests.phone.helpers import (
    COOL_OFF,
    RENEWAL_ANSWER,
    UNKNOWN_CASE,
    WRONG_PIN,
    heard,
    identify,
    renew,
    said,
    sign_in,
)

pytestmark = pytest.mark.django_db

MENU = "Pour vos derniers paiements, tapez 1."
NEW_PIN = re.compile(r"pour le dossier (\d{7}) est (\d{8})\.")


@pytest.fixture
def gateway(sms_gateway, settings):
    """SMS leave through the HTTP gateway stand-in (tests/sms.py)."""
    settings.SMS_BACKEND = "moncompte.messaging.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = sms_gateway.url
    settings.SMS_GATEWAY_TOKEN = "t0ken"
    return sms_gateway


@pytest.fixture
def renewing(phone, django_capture_on_commit_callbacks):
    """`renewing(case_number, birth_date, caller=…)`: a forgotten-PIN call, its messages sent once it commits."""

    def play(case_number, birth_date, *, caller=STRANGER):
        call = phone(caller=caller)
        with django_capture_on_commit_callbacks(execute=True):
            renew(call, case_number, birth_date)
        return call

    return play


def pin_hash(household) -> str:
    return Case.objects.get(pk=household.case.pk).pin_hash


def sms_pin(gateway, index: int = -1) -> str:
    """The new PIN in an SMS the gateway received."""
    match = NEW_PIN.search(gateway.json(index)["text"])
    assert match, gateway.json(index)
    return match.group(2)


def test_the_holder_gets_a_new_pin_by_sms_and_the_old_one_stops_working(phone, household, gateway, renewing):
    call = renewing(household.case.case_number, household.holder.birth_date)

    assert call.turn.hung_up and RENEWAL_ANSWER in call.turn.text
    assert len(gateway.requests) == 1 and gateway.json()["to"] == HOLDER_MOBILE
    pin = sms_pin(gateway)
    assert NEW_PIN.search(gateway.json()["text"]).group(1) == household.case.case_number
    assert pin != household.case.pin
    sms = OutboxMessage.objects.get(medium=Medium.SMS, to=HOLDER_MOBILE)
    assert sms.status == Status.SENT and pin not in sms.body  # it has left: the outbox masks it

    old = sign_in(phone(), household.case.case_number, household.case.pin)
    assert WRONG_PIN in old.text
    new = identify(phone(), household, pin=pin)
    assert MENU in new.text and f"Merci, {household.holder.first_name}." in new.text


def test_the_renewal_is_journaled_on_the_phone_channel_with_the_caller(household, gateway, renewing):
    call = renewing(household.case.case_number, household.holder.birth_date)

    entry = Entry.objects.get(kind="case.pin_renewed")
    assert (entry.person_id, entry.case_number, entry.channel, entry.caller) == (
        household.holder.pk,
        household.case.case_number,
        "phone",
        STRANGER,
    )
    assert entry.session_ref == context.session_ref(call.sid)  # the call's fingerprint
    assert not Entry.objects.filter(kind="phone.identified").exists()  # nobody was identified
    assert Call.objects.get(sid=call.sid).typed_case_number == ""


def test_the_partner_is_told_and_the_web_passwords_do_not_change(household, gateway, renewing):
    renewing(household.case.case_number, household.holder.birth_date)

    told = OutboxMessage.objects.filter(person_id=household.partner.pk)
    assert [(m.medium, m.to, m.template) for m in told] == [
        (Medium.EMAIL, household.partner_account.email, "households/notices/pin_renewed_household")
    ]
    body = told.get().body
    assert household.case.case_number in body and household.holder.first_name in body
    assert "Votre mot de passe personnel, celui de votre espace en ligne, ne change pas." in body
    assert sms_pin(gateway) not in body
    for account in (household.holder_account, household.partner_account):
        account.refresh_from_db()
        assert account.check_password("Tr0mbone-Vert")


def test_a_delegated_partner_gets_the_new_pin_on_their_own_mobile(phone, delegated_household, gateway, renewing):
    household = delegated_household
    renewing(household.case.case_number, household.partner.birth_date)

    sent = [gateway.json(i) for i in range(len(gateway.requests))]
    new_pins = [(sms["to"], NEW_PIN.search(sms["text"])) for sms in sent if NEW_PIN.search(sms["text"])]
    assert [to for to, _ in new_pins] == [PARTNER_MOBILE]  # the holder's SMS is the notice, without the PIN
    pin = new_pins[0][1].group(2)
    holder_sms = [sms["text"] for sms in sent if sms["to"] == HOLDER_MOBILE]
    assert len(holder_sms) == 1 and pin not in holder_sms[0] and "L'ancien ne fonctionne plus." in holder_sms[0]
    holder_told = OutboxMessage.objects.filter(person_id=household.holder.pk)
    assert {m.template for m in holder_told} == {"households/notices/pin_renewed_household"}
    assert {m.medium for m in holder_told} == {Medium.EMAIL, Medium.SMS}  # every validated contact
    assert Entry.objects.get(kind="case.pin_renewed").person_id == household.partner.pk
    assert MENU in identify(phone(), household, who="partner", pin=pin).text


def test_every_forgotten_pin_call_hears_the_same_answer_and_only_the_entitled_one_sends_a_pin(
    household, gateway, renewing
):
    """The holder, the partner without delegation, an unknown case number, a birth date of nobody."""
    case = household.case.case_number
    original = pin_hash(household)
    partner = renewing(case, household.partner.birth_date)
    unknown = renewing(UNKNOWN_CASE, household.holder.birth_date)
    nobody = renewing(case, household.children[0].birth_date)
    assert gateway.requests == [] and pin_hash(household) == original  # no new PIN for any of them
    holder = renewing(case, household.holder.birth_date)

    assert said(partner) == said(unknown) == said(nobody) == said(holder)
    assert len(gateway.requests) == 1 and pin_hash(household) != original
    assert Entry.objects.filter(kind="case.pin_renewed").count() == 1


def test_without_a_validated_mobile_no_pin_is_sent_and_the_agents_are_told(household, gateway, renewing):
    household.holder_account.mobile_verified_at = None
    household.holder_account.save()
    original = pin_hash(household)

    call = renewing(household.case.case_number, household.holder.birth_date)

    assert RENEWAL_ANSWER in call.turn.text and "demandez un conseiller" in call.turn.text
    assert gateway.requests == [] and pin_hash(household) == original
    entry = Entry.objects.get(kind="phone.pin_renewal_impossible")
    assert (entry.person_id, entry.case_number, entry.channel) == (
        household.holder.pk,
        household.case.case_number,
        "phone",
    )
    assert not Entry.objects.filter(kind="case.pin_renewed").exists()
    assert not OutboxMessage.objects.exists()  # nobody is told of a renewal that did not happen


def test_past_the_renewals_of_the_day_no_new_pin_is_sent_until_the_next_day(
    household, gateway, renewing, settings, monkeypatch
):
    case, born = household.case.case_number, household.holder.birth_date
    for _ in range(settings.PHONE_PIN_RENEWALS_PER_DAY):
        renewing(case, born)
    assert len(gateway.requests) == settings.PHONE_PIN_RENEWALS_PER_DAY == 2
    current = pin_hash(household)

    extra = renewing(case, born)

    assert RENEWAL_ANSWER in extra.turn.text
    assert len(gateway.requests) == 2 and pin_hash(household) == current
    assert Entry.objects.filter(kind="case.pin_renewed").count() == 2

    tomorrow = time.time() + 24 * 3600
    monkeypatch.setattr(counters, "time", type("Tomorrow", (), {"time": staticmethod(lambda: tomorrow)}))
    renewing(case, born)
    assert len(gateway.requests) == 3


def test_a_birth_date_of_nobody_counts_as_a_wrong_pin(phone, household, gateway, renewing, settings):
    settings.PHONE_PIN_TRIES_PER_CASE = 1
    renewing(household.case.case_number, household.children[0].birth_date)

    turn = sign_in(phone(), household.case.case_number, household.case.pin)
    again = renewing(household.case.case_number, household.holder.birth_date)

    assert COOL_OFF in turn.text
    assert COOL_OFF in again.turn.text and gateway.requests == []


def test_the_pin_never_appears_in_the_journal_the_calls_nor_what_is_said(phone, household, gateway, renewing, caplog):
    """Before (the old PIN typed to identify) and after (the new one, typed in turn)."""
    old = household.case.pin
    before = phone()
    identify(before, household)
    renewal = renewing(household.case.case_number, household.holder.birth_date)
    new = sms_pin(gateway)
    after = phone()
    identify(after, household, pin=new)
    sign_in(phone(), household.case.case_number, old)  # refused: the old PIN typed once more

    entries = json.dumps(list(Entry.objects.values()), default=str)
    calls = json.dumps(list(Call.objects.values()), default=str)
    outbox = json.dumps([model_to_dict(m) for m in OutboxMessage.objects.all()], default=str)
    assert {"phone.identified", "case.pin_renewed", "phone.pin_refused"} <= set(
        Entry.objects.values_list("kind", flat=True)
    )
    for pin in (old, new):
        assert pin not in entries and pin not in calls and pin not in outbox and pin not in caplog.text
        for call in (before, renewal, after):
            assert pin not in heard(call)
