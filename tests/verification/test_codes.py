"""One-time codes (issue 2, item 9): 6 digits, HMAC-stored, ≤ OTP_LIFETIME, ≤ 5 tries, single use, purpose-bound,
a new code voids the previous one, resend after 60 s, ≤ 5 sends per hour per destination and per person."""

import json
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.utils import timezone

from moncompte.journal.models import Entry
from moncompte.messaging.models import Medium, OutboxMessage
from moncompte.verification import services
from moncompte.verification.models import OneTimeCode, Purpose
from moncompte.verification.services import CodeInvalid, CodeThrottled, code_issue, code_verify, mask_destination
from tests.factories import PersonFactory
from tests.helpers import last_code

pytestmark = pytest.mark.django_db

EMAIL = "jeanne.dupont@exemple.fr"
MOBILE = "+33612345678"


class Clock:
    def __init__(self):
        self.now = timezone.now()

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    """Freezes `timezone.now` (as seen by the services and by auto_now_add) and lets a test move it forward."""
    frozen = Clock()
    monkeypatch.setattr(services.timezone, "now", lambda: frozen.now)
    return frozen


@pytest.fixture
def codes(monkeypatch):
    """Makes the codes predictable: 111111, 222222, … in the order they are issued."""
    values = iter(n * 111_111 for n in range(1, 10))
    monkeypatch.setattr(services, "secrets", SimpleNamespace(randbelow=lambda _bound: next(values)))


@pytest.fixture
def person(db):
    return PersonFactory(email_on_file=EMAIL, mobile_on_file=MOBILE)


def issue(person, *, purpose=Purpose.CONTACT, medium=Medium.EMAIL, destination=EMAIL):
    return code_issue(person=person, purpose=purpose, medium=medium, destination=destination)


def verify(person, code, *, purpose=Purpose.CONTACT):
    return code_verify(person=person, purpose=purpose, code=code)


def test_a_code_has_six_digits_and_is_sent_in_french_to_the_destination(person):
    otp = issue(person)
    message = OutboxMessage.objects.get()
    assert (message.to, message.medium, message.person_id) == (EMAIL, Medium.EMAIL, person.pk)
    assert re.fullmatch(r"\d{6}", last_code(EMAIL))
    assert "Ce code est valable 10 minutes" in message.body
    assert (otp.purpose, otp.medium, otp.destination) == (Purpose.CONTACT, Medium.EMAIL, EMAIL)


def test_codes_are_random_six_digit_strings_with_leading_zeros_kept(person, monkeypatch):
    monkeypatch.setattr(services, "secrets", SimpleNamespace(randbelow=lambda _bound: 42))
    issue(person)
    assert last_code() == "000042"
    assert verify(person, "000042").used_at is not None


def test_the_code_is_stored_only_as_an_hmac(person):
    otp = issue(person)
    code = last_code()
    row = OneTimeCode.objects.filter(pk=otp.pk).values().get()
    assert all(code not in str(value) for value in row.values())
    assert re.fullmatch(r"[0-9a-f]{64}", row["code_hmac"])


def test_the_same_code_for_two_people_gives_two_different_hmacs(monkeypatch):
    monkeypatch.setattr(services, "secrets", SimpleNamespace(randbelow=lambda _bound: 111_111))
    a = issue(PersonFactory(), destination="a@exemple.fr")
    b = issue(PersonFactory(), destination="b@exemple.fr")
    assert a.code_hmac != b.code_hmac


def test_the_right_code_is_accepted_and_used_up(person):
    issue(person)
    otp = verify(person, last_code())
    assert otp.used_at is not None and otp.attempts == 1


def test_spaces_typed_in_the_code_are_ignored(person):
    issue(person)
    code = last_code()
    assert verify(person, f" {code[:3]} {code[3:]} ").used_at is not None


def test_a_code_can_be_used_only_once(person):
    issue(person)
    code = last_code()
    verify(person, code)
    with pytest.raises(CodeInvalid) as refused:
        verify(person, code)
    assert refused.value.message == "Aucun code en cours de validité. Demandez un nouveau code."


def test_a_code_is_valid_until_the_end_of_its_lifetime(person, clock):
    assert settings.OTP_LIFETIME <= 10 * 60
    issue(person)
    clock.advance(seconds=settings.OTP_LIFETIME - 1)
    assert verify(person, last_code()).used_at is not None


def test_an_expired_code_is_refused_with_a_french_message(person, clock):
    otp = issue(person)
    assert otp.expires_at == clock.now + timedelta(seconds=settings.OTP_LIFETIME)
    clock.advance(seconds=settings.OTP_LIFETIME)
    with pytest.raises(CodeInvalid) as refused:
        verify(person, last_code())
    assert refused.value.message == "Ce code a expiré. Demandez un nouveau code."
    assert OneTimeCode.objects.get().used_at is None


def test_an_expired_code_is_refused_when_the_row_says_so(person):
    otp = issue(person)
    OneTimeCode.objects.filter(pk=otp.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(CodeInvalid, match="Ce code a expiré"):
        verify(person, last_code())


def test_each_wrong_try_is_counted_and_says_how_many_are_left(person, codes):
    issue(person)
    messages = []
    for _ in range(settings.OTP_MAX_ATTEMPTS):
        with pytest.raises(CodeInvalid) as refused:
            verify(person, "999999")
        messages.append(refused.value.message)
    assert messages == [
        "Code incorrect. Il vous reste 4 essais.",
        "Code incorrect. Il vous reste 3 essais.",
        "Code incorrect. Il vous reste 2 essais.",
        "Code incorrect. Il vous reste 1 essai.",
        "Code incorrect. Vous avez épuisé vos essais : demandez un nouveau code.",
    ]
    assert OneTimeCode.objects.get().attempts == 5


def test_after_five_wrong_tries_even_the_right_code_is_refused(person, codes):
    assert settings.OTP_MAX_ATTEMPTS <= 5
    issue(person)
    for _ in range(settings.OTP_MAX_ATTEMPTS):
        with pytest.raises(CodeInvalid):
            verify(person, "000000")
    with pytest.raises(CodeInvalid) as refused:
        verify(person, "111111")
    assert refused.value.message == "Trop d'essais avec ce code. Demandez un nouveau code."
    assert OneTimeCode.objects.get().used_at is None


def test_the_fifth_try_may_still_be_the_right_one(person, codes):
    issue(person)
    for _ in range(settings.OTP_MAX_ATTEMPTS - 1):
        with pytest.raises(CodeInvalid):
            verify(person, "000000")
    assert verify(person, "111111").attempts == settings.OTP_MAX_ATTEMPTS


def test_a_new_code_voids_the_previous_one(person, clock, codes):
    first = issue(person)
    clock.advance(seconds=settings.OTP_RESEND_DELAY)
    second = issue(person)
    first.refresh_from_db()
    assert first.voided_at == clock.now and second.voided_at is None
    with pytest.raises(CodeInvalid, match="Code incorrect"):
        verify(person, "111111")
    assert verify(person, "222222").pk == second.pk


def test_a_resend_within_sixty_seconds_is_refused_with_the_seconds_to_wait(person, clock):
    assert settings.OTP_RESEND_DELAY == 60
    issue(person)
    clock.advance(seconds=20)
    with pytest.raises(CodeThrottled) as refused:
        issue(person)
    assert refused.value.retry_after == 40
    assert refused.value.message == (
        "Un code vient d'être envoyé. Vous pourrez en demander un nouveau dans 40 secondes."
    )
    assert OneTimeCode.objects.count() == 1 and OutboxMessage.objects.count() == 1
    clock.advance(seconds=40)
    issue(person)
    assert OneTimeCode.objects.count() == 2


def test_a_refused_resend_keeps_the_current_code_valid(person, clock, codes):
    issue(person)
    clock.advance(seconds=10)
    with pytest.raises(CodeThrottled):
        issue(person)
    assert verify(person, "111111").used_at is not None


def test_at_most_five_sends_per_hour_to_one_destination_even_for_two_people(clock):
    alice, bruno = PersonFactory(), PersonFactory()
    for sender in (alice, alice, alice, bruno, bruno):
        issue(sender, destination=EMAIL)
        clock.advance(seconds=61)
    with pytest.raises(CodeThrottled) as refused:
        issue(bruno, destination=EMAIL)
    waited = 5 * 61
    assert refused.value.retry_after == 3600 - waited
    assert refused.value.message == (
        "Trop de codes ont été envoyés en une heure. Vous pourrez en demander un nouveau dans 55 minutes."
    )
    issue(bruno, destination="bruno@exemple.fr")  # another destination, and bruno sent only two
    clock.advance(seconds=3600 - waited)
    issue(alice, destination=EMAIL)  # the first send of the hour has aged out


def test_at_most_five_sends_per_hour_per_person_even_across_destinations(person, clock):
    for n in range(settings.OTP_MAX_SENDS_PER_HOUR):
        issue(person, destination=f"adresse{n}@exemple.fr")
        clock.advance(seconds=61)
    with pytest.raises(CodeThrottled) as refused:
        issue(person, purpose=Purpose.PASSWORD_RESET, medium=Medium.SMS, destination=MOBILE)
    assert "Trop de codes ont été envoyés en une heure" in refused.value.message
    assert "55 minutes" in refused.value.message
    clock.advance(seconds=3600 - 5 * 61 - 1)
    with pytest.raises(CodeThrottled) as refused:
        issue(person, destination="nouvelle@exemple.fr")
    assert refused.value.message.endswith("dans 1 minute.")
    assert refused.value.retry_after == 1
    clock.advance(seconds=1)
    issue(person, destination="nouvelle@exemple.fr")


def test_a_reset_code_does_not_validate_a_contact(person, clock, codes):
    issue(person, purpose=Purpose.PASSWORD_RESET, medium=Medium.SMS, destination=MOBILE)
    with pytest.raises(CodeInvalid, match="Aucun code en cours de validité"):
        verify(person, "00111111", purpose=Purpose.CONTACT)
    assert OneTimeCode.objects.get().attempts == 0
    assert verify(person, "00111111", purpose=Purpose.PASSWORD_RESET).purpose == Purpose.PASSWORD_RESET


def test_a_contact_code_does_not_reset_a_password_nor_void_a_reset_code(person, codes):
    issue(person, purpose=Purpose.PASSWORD_RESET, destination=EMAIL)
    issue(person, purpose=Purpose.CONTACT, destination="autre@exemple.fr")  # another purpose: no resend delay
    with pytest.raises(CodeInvalid, match="Code incorrect"):
        verify(person, "00222222", purpose=Purpose.PASSWORD_RESET)
    assert verify(person, "00111111", purpose=Purpose.PASSWORD_RESET).destination == EMAIL
    assert verify(person, "222222", purpose=Purpose.CONTACT).destination == "autre@exemple.fr"


def test_one_persons_code_does_not_work_for_another(codes):
    owner, other = PersonFactory(), PersonFactory()
    issue(owner)
    with pytest.raises(CodeInvalid, match="Aucun code"):
        verify(other, "111111")


def test_sending_a_code_is_journaled_with_a_masked_destination_and_no_code(person):
    issue(person, medium=Medium.SMS, destination=MOBILE)
    code = last_code()
    entry = Entry.objects.get(kind="code.sent")
    assert entry.person_id == person.pk
    assert entry.after == {"purpose": "contact", "medium": "sms", "destination": "06 •• •• •• 78"}
    stored = json.dumps([entry.before, entry.after])
    assert code not in stored and MOBILE not in stored


def test_a_wrong_code_and_a_right_code_are_journaled_without_the_code(person, codes):
    issue(person)
    with pytest.raises(CodeInvalid):
        verify(person, "123456")
    verify(person, "111111")
    failed = Entry.objects.get(kind="code.failed")
    verified = Entry.objects.get(kind="code.verified")
    assert failed.person_id == verified.person_id == person.pk
    assert failed.after == {"purpose": "contact", "attempts": 1}
    assert verified.after == {"purpose": "contact"}
    for entry in Entry.objects.all():
        assert "111111" not in json.dumps([entry.before, entry.after])
        assert "123456" not in json.dumps([entry.before, entry.after])


def test_a_throttled_send_writes_no_journal_entry(person):
    issue(person)
    with pytest.raises(CodeThrottled):
        issue(person)
    assert Entry.objects.filter(kind="code.sent").count() == 1


@pytest.mark.parametrize(
    ("destination", "masked"),
    [
        ("jeanne.dupont@exemple.fr", "j•••@exemple.fr"),
        ("j@exemple.fr", "j•••@exemple.fr"),
        ("+33612345678", "06 •• •• •• 78"),
        ("+262692123456", "0692 •• •• 56"),
        ("+2693212345", "+269 ••• •• 45"),
    ],
)
def test_mask_destination_keeps_just_enough_to_recognise_it(destination, masked):
    assert mask_destination(destination) == masked
    assert destination not in mask_destination(destination)
