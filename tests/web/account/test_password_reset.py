"""Forgotten password (issue 2, item 8) with its one-time codes (item 9): for migrated and not-yet-migrated people,
the same answers for an unknown NIR, expiry, tries, single use, resend delay and hourly limits."""

import html
import re
import time
from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from moncompte.accounts.models import Account
from moncompte.households.models import Role
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.verification.models import OneTimeCode
from moncompte.web.account import views
from tests.factories import CaseFactory, MembershipFactory, make_nir
from tests.helpers import errors, last_code, page_text, rewind_code_ceilings

LOGIN = "/connexion/"
LOGOUT = "/deconnexion/"
DASHBOARD = "/mon-espace/"
ONBOARDING = "/premiere-connexion/bienvenue/"
RESET = "/mot-de-passe-oublie/"
RESET_CODE = "/mot-de-passe-oublie/code/"
NEW_PASSWORD = "Cl4rinette-Jaune"
FORM_HAS_ERRORS = "Le formulaire contient des erreurs : corrigez les champs signalés."


def notice(response) -> str:
    block = re.search(r'<div class="[^"]*" id="reset-notice">(.*?)</div>', response.content.decode(), re.S).group(1)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", block)).split())


def shown_errors(response) -> list[str]:
    return [html.unescape(message) for message in errors(response)]


def request_reset(client, nir, medium="email"):
    return client.post(RESET, {"identifier": nir, "medium": medium})


def complete(client, code, password=NEW_PASSWORD, confirmation=None):
    return client.post(
        RESET_CODE,
        {"code": code, "password1": password, "password2": password if confirmation is None else confirmation},
    )


def resend(client):
    return client.post(RESET_CODE, {"resend": "1"})


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def shift_codes_back(*browsers, seconds=61):
    """As if `seconds` had passed since the codes were sent, and since each browser asked for its code."""
    OneTimeCode.objects.update(created_at=F("created_at") - timedelta(seconds=seconds))
    for browser in browsers:
        session = browser.session
        state = session[views.RESET_SESSION_KEY]
        state["started"] -= seconds
        rewind_code_ceilings(state, seconds)
        session[views.RESET_SESSION_KEY] = state
        session.save()


@pytest.fixture
def validated(migrated):
    """A migrated account whose validated e-mail differs from the one on file."""
    Account.objects.filter(pk=migrated.pk).update(email="valide@exemple.fr")
    migrated.refresh_from_db()
    return migrated


# --- The request page ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_reset_page_asks_for_the_nir_and_where_to_send_the_code(client):
    response = client.get(RESET)

    assert response.status_code == 200
    text = page_text(response)
    assert "Numéro de Sécurité sociale" in text
    assert "13 caractères" in text
    assert "Par SMS, sur mon mobile connu de la Caf" in text
    assert "Par e-mail, à mon adresse connue de la Caf" in text
    assert "Tous les champs sont obligatoires, sauf mention contraire." in text


@pytest.mark.django_db
def test_the_code_page_without_a_request_leads_to_the_request_page(client):
    assert client.get(RESET_CODE)["Location"] == RESET
    assert complete(client, "12345612")["Location"] == RESET


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"identifier": "", "medium": "sms"}, "Saisissez votre numéro de Sécurité sociale."),
        ({"identifier": "1 84 05 75", "medium": "sms"}, "Le numéro de Sécurité sociale doit comporter 13 caractères"),
        ({"identifier": "184057512345A", "medium": "sms"}, "Le numéro ne peut contenir que des chiffres"),
        ({"identifier": make_nir(seq=7), "medium": ""}, "Choisissez le SMS ou l'e-mail."),
        ({"identifier": make_nir(seq=7), "medium": "pigeon"}, "Choisissez le SMS ou l'e-mail."),
    ],
)
def test_a_wrong_request_is_refused_with_a_french_message_and_sends_nothing(client, data, message):
    response = client.post(RESET, data)

    assert response.status_code == 400
    assert any(error.startswith(message) for error in shown_errors(response)), shown_errors(response)
    assert not OutboxMessage.objects.exists()
    assert views.RESET_SESSION_KEY not in client.session


# --- Migrated account ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_migrated_person_gets_the_code_at_the_validated_email_and_sets_a_new_password(client, validated):
    response = request_reset(client, validated.person.nir, "email")

    assert response["Location"] == RESET_CODE
    assert OutboxMessage.objects.filter(to="valide@exemple.fr").count() == 1
    assert not OutboxMessage.objects.filter(to=validated.person.email_on_file).exists()

    response = complete(client, last_code("valide@exemple.fr"))

    assert response["Location"] == DASHBOARD
    page = client.get(DASHBOARD)
    assert page.status_code == 200
    assert "Votre nouveau mot de passe est enregistré. Vous êtes connecté." in page_text(page)
    validated.refresh_from_db()
    assert validated.check_password(NEW_PASSWORD)
    assert not validated.check_password(validated.raw_password or "Tr0mbone-Vert")


@pytest.mark.django_db
def test_after_a_reset_the_new_password_opens_the_account_and_the_old_one_does_not(client, validated):
    request_reset(client, validated.person.nir, "email")
    complete(client, last_code("valide@exemple.fr"))
    client.post(LOGOUT)

    old = client.post(LOGIN, {"identifier": validated.person.nir, "password": "Tr0mbone-Vert"})
    new = client.post(LOGIN, {"identifier": validated.person.nir, "password": NEW_PASSWORD})

    assert old.status_code == 400
    assert new["Location"] == DASHBOARD


@pytest.mark.django_db
def test_a_migrated_person_is_told_of_the_password_change_on_the_validated_contact(client, validated):
    request_reset(client, validated.person.nir, "email")
    complete(client, last_code("valide@exemple.fr"))

    notice_message = OutboxMessage.objects.get(template="accounts/notices/password_changed")
    assert notice_message.to == "valide@exemple.fr"
    assert NEW_PASSWORD not in notice_message.body


@pytest.mark.django_db
def test_a_person_with_a_validated_email_gets_no_sms_on_a_mobile_on_file_never_confirmed(client, validated):
    """Issue 8, item 6 (ASVS 6.6.1): a legacy mobile may have been reassigned; the validated e-mail is the way."""
    request_reset(client, validated.person.nir, "sms")

    assert not OutboxMessage.objects.exists()
    request_reset(Client(HTTP_HOST="localhost"), validated.person.nir, "email")
    assert OutboxMessage.objects.get().to == validated.email


@pytest.mark.django_db
def test_a_person_who_validated_no_contact_gets_the_sms_on_the_mobile_on_file(client, household):
    request_reset(client, household.holder.nir, "sms")

    message = OutboxMessage.objects.get()
    assert message.medium == "sms"
    assert message.to == household.holder.mobile_on_file


@pytest.mark.django_db
def test_a_reset_by_a_migrated_person_is_journaled_with_the_account_as_actor(client, validated):
    client.post(RESET, {"identifier": validated.person.nir, "medium": "email"}, REMOTE_ADDR="192.0.2.44")
    client.post(
        RESET_CODE,
        {"code": last_code(), "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        REMOTE_ADDR="192.0.2.44",
    )

    sent = Entry.objects.get(kind="code.sent")
    assert sent.actor_account_id is None  # nobody was signed in when the code was asked for
    assert sent.person_id == validated.person_id
    assert sent.ip_address == "192.0.2.44"
    assert sent.after["purpose"] == "reset"
    for kind in ("password.changed", "password.reset", "login.succeeded"):
        entry = Entry.objects.get(kind=kind)
        assert entry.actor_account_id == validated.pk, kind
        assert entry.person_id == validated.person_id, kind
        assert entry.channel == "web", kind
        assert entry.ip_address == "192.0.2.44", kind
    assert Entry.objects.get(kind="password.changed").after == {"reason": "reset"}
    assert Entry.objects.get(kind="login.succeeded").after == {"via": "password_reset"}
    assert not Entry.objects.filter(kind="account.created").exists()


# --- Not yet migrated ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("medium", ["email", "sms"])
def test_a_holder_who_never_migrated_resets_to_the_contact_on_file_and_lands_on_the_onboarding(
    client, household, medium
):
    holder = household.holder
    on_file = holder.email_on_file if medium == "email" else holder.mobile_on_file

    request_reset(client, holder.nir, medium)
    assert OutboxMessage.objects.get().to == on_file
    response = complete(client, last_code(on_file))

    assert response["Location"] == DASHBOARD
    assert client.get(DASHBOARD)["Location"] == ONBOARDING
    account = Account.objects.get(person=holder)
    assert account.check_password(NEW_PASSWORD)
    if medium == "email":
        assert (account.email, account.mobile_verified_at) == (on_file, None)
        assert account.email_verified_at is not None
    else:
        assert (account.mobile, account.email_verified_at) == (on_file, None)
        assert account.mobile_verified_at is not None
    assert account.onboarded_at is None
    client.post(ONBOARDING)
    assert client.get(DASHBOARD).status_code == 200


@pytest.mark.django_db
def test_a_reset_completes_the_migration_so_the_pin_no_longer_opens_the_account(client, household):
    request_reset(client, household.holder.nir, "email")
    complete(client, last_code())
    client.post(LOGOUT)

    response = client.post(LOGIN, {"identifier": household.holder.nir, "password": household.case.pin})

    assert response.status_code == 400


@pytest.mark.django_db
def test_a_reset_by_a_holder_who_never_migrated_is_journaled(client, household):
    holder = household.holder
    request_reset(client, holder.nir, "email")
    complete(client, last_code())
    account = Account.objects.get(person=holder)

    kinds = list(Entry.objects.filter(person_id=holder.pk).order_by("id").values_list("kind", flat=True))
    assert kinds == [
        "code.sent",
        "code.verified",
        "account.created",
        "password.created",
        "contact.validated",
        "password.reset",
        "login.succeeded",
    ]
    for entry in Entry.objects.filter(person_id=holder.pk).exclude(kind__startswith="code."):
        assert entry.actor_account_id == account.pk, entry.kind
    assert Entry.objects.get(kind="account.created").after == {"account": account.pk, "via": "password_reset"}


@pytest.mark.django_db
def test_a_person_who_never_migrated_gets_the_personal_data_rule_too(client, household):
    """Regression: this password passed the form, then the service refused it and the page crashed with a 500."""
    holder = household.holder
    request_reset(client, holder.nir, "email")
    password = f"Qx!{holder.nir}"

    response = complete(client, last_code(), password)

    assert response.status_code == 400
    assert any(error.startswith("Le mot de passe ne doit pas contenir votre nom") for error in shown_errors(response))
    assert not Account.objects.filter(person=holder).exists()
    assert OneTimeCode.objects.get().attempts == 0


# --- Children ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_child_cannot_reset_into_an_account(client, household):
    child = household.child
    assert child.email_on_file

    response = request_reset(client, child.nir, "email")

    assert response["Location"] == RESET_CODE
    assert not OutboxMessage.objects.exists()
    assert not OneTimeCode.objects.exists()
    for guess in ("00000000", "12345612", "99999999"):
        refused = complete(client, guess)
        assert refused.status_code == 400
        assert shown_errors(refused)[0].startswith("Code incorrect.")
    assert not Account.objects.filter(person=child).exists()


# --- Same answers for an unknown NIR -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("medium", ["email", "sms"])
def test_an_unknown_nir_gets_the_same_status_redirect_and_notice_as_a_known_one(household, medium, new_client):
    known_client, unknown_client = new_client(), new_client()

    known = request_reset(known_client, household.holder.nir, medium)
    unknown = request_reset(unknown_client, make_nir(seq=424_242), medium)

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == RESET_CODE
    known_page, unknown_page = known_client.get(RESET_CODE), unknown_client.get(RESET_CODE)
    assert known_page.status_code == unknown_page.status_code == 200
    assert notice(known_page) == notice(unknown_page)
    assert "un code à 8 chiffres vous est envoyé" in notice(known_page)
    assert page_text(known_page) == page_text(unknown_page)
    assert OutboxMessage.objects.count() == 1


def _wrong_code_answers(client, code, tries=6):
    return [(r.status_code, shown_errors(r)) for r in (complete(client, code) for _ in range(tries))]


@pytest.mark.django_db
def test_the_code_step_counts_down_alike_for_a_known_and_an_unknown_nir(household, new_client):
    known_client, unknown_client = new_client(), new_client()
    request_reset(known_client, household.holder.nir, "email")
    request_reset(unknown_client, make_nir(seq=424_243), "email")
    wrong = other_code(last_code())

    known = _wrong_code_answers(known_client, wrong)
    unknown = _wrong_code_answers(unknown_client, wrong)

    assert known == unknown
    assert [answer[1][0] for answer in known] == [
        "Code incorrect. Il vous reste 4 essais.",
        "Code incorrect. Il vous reste 3 essais.",
        "Code incorrect. Il vous reste 2 essais.",
        "Code incorrect. Il vous reste 1 essai.",
        "Code incorrect. Vous avez épuisé vos essais : demandez un nouveau code.",
        "Trop d'essais avec ce code. Demandez un nouveau code.",
    ]
    assert {answer[0] for answer in known} == {400}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["child", "no contact of that kind on file"])
def test_a_known_nir_that_got_no_code_answers_like_an_unknown_one(household, new_client, who):
    person = household.child
    if who != "child":
        person = household.partner
        person.email_on_file = ""
        person.save()
    known_client, unknown_client = new_client(), new_client()
    request_reset(known_client, person.nir, "email")
    request_reset(unknown_client, make_nir(seq=424_244), "email")
    assert not OutboxMessage.objects.exists()

    assert _wrong_code_answers(known_client, "12345612") == _wrong_code_answers(unknown_client, "12345612")


@pytest.mark.django_db
def test_an_expired_code_answers_alike_for_a_known_and_an_unknown_nir(household, new_client):
    known_client, unknown_client = new_client(), new_client()
    request_reset(known_client, household.holder.nir, "email")
    request_reset(unknown_client, make_nir(seq=424_245), "email")
    code = last_code()
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    shift_codes_back(unknown_client, seconds=601)

    known, unknown = complete(known_client, code), complete(unknown_client, code)

    assert known.status_code == unknown.status_code == 400
    assert shown_errors(known) == shown_errors(unknown)
    assert shown_errors(known)[0] == "Ce code a expiré. Demandez un nouveau code."
    assert not Account.objects.filter(person=household.holder).exists()


@pytest.mark.django_db
def test_the_reset_pages_take_the_same_minimum_time_for_a_known_and_an_unknown_nir(household, new_client, monkeypatch):
    monkeypatch.setattr(views, "RESET_MIN_DURATION", 0.35)
    durations = []
    for nir in (household.holder.nir, make_nir(seq=424_246)):
        visitor = new_client()
        started = time.monotonic()
        request_reset(visitor, nir, "email")
        complete(visitor, "00000000")
        durations.append(time.monotonic() - started)

    assert all(duration >= 0.7 for duration in durations), durations


# --- Code rules ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_right_code_after_five_wrong_ones_is_refused_and_nothing_changes(client, validated):
    request_reset(client, validated.person.nir, "email")
    code = last_code()
    for _ in range(5):
        complete(client, other_code(code))

    response = complete(client, code)

    assert response.status_code == 400
    assert shown_errors(response)[0] == "Trop d'essais avec ce code. Demandez un nouveau code."
    validated.refresh_from_db()
    assert validated.check_password("Tr0mbone-Vert")
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_code_is_refused_after_ten_minutes(client, validated, monkeypatch):
    request_reset(client, validated.person.nir, "email")
    code = last_code()
    later = timezone.now() + timedelta(minutes=10, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    response = complete(client, code)

    assert shown_errors(response)[0] == "Ce code a expiré. Demandez un nouveau code."
    validated.refresh_from_db()
    assert validated.check_password("Tr0mbone-Vert")


@pytest.mark.django_db
def test_a_code_works_only_once(client, validated):
    request_reset(client, validated.person.nir, "email")
    code = last_code()
    assert complete(client, code)["Location"] == DASHBOARD
    client.post(LOGOUT)

    # A new request (a new session) may send a new code; the used one opens nothing.
    request_reset(client, validated.person.nir, "email")
    response = complete(client, code, "Hautbois-Gris-7")

    assert response.status_code == 400
    assert shown_errors(response)[0].startswith("Code incorrect.")
    validated.refresh_from_db()
    assert validated.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_a_refused_password_costs_no_try_of_the_code(client, validated):
    request_reset(client, validated.person.nir, "email")
    code = last_code()

    refused = complete(client, code, "court")
    mismatch = complete(client, code, NEW_PASSWORD, confirmation="Cl4rinette-Rose")

    assert refused.status_code == mismatch.status_code == 400
    assert "Le mot de passe doit comporter au moins 8 caractères." in shown_errors(refused)
    assert "Les deux mots de passe ne sont pas identiques." in shown_errors(mismatch)
    assert OneTimeCode.objects.get().attempts == 0
    assert complete(client, code)["Location"] == DASHBOARD


@pytest.mark.django_db
def test_a_resend_before_sixty_seconds_is_refused_with_a_message(client, validated):
    request_reset(client, validated.person.nir, "email")

    response = resend(client)

    assert response["Location"] == RESET_CODE
    assert re.search(
        r"Un code vient d'être envoyé\. Vous pourrez en demander un nouveau dans \d+ secondes\.",
        page_text(client.get(RESET_CODE)),
    )
    assert OutboxMessage.objects.count() == 1
    assert OneTimeCode.objects.get().voided_at is None


@pytest.mark.django_db
def test_a_resend_before_sixty_seconds_answers_alike_for_an_unknown_nir(household, new_client):
    known_client, unknown_client = new_client(), new_client()
    request_reset(known_client, household.holder.nir, "email")
    request_reset(unknown_client, make_nir(seq=424_247), "email")

    known, unknown = resend(known_client), resend(unknown_client)

    assert known.status_code == unknown.status_code == 302
    known_text, unknown_text = page_text(known_client.get(RESET_CODE)), page_text(unknown_client.get(RESET_CODE))
    assert re.sub(r"\d+ secondes", "N secondes", known_text) == re.sub(r"\d+ secondes", "N secondes", unknown_text)


@pytest.mark.django_db
def test_a_new_code_voids_the_previous_one(client, validated):
    request_reset(client, validated.person.nir, "email")
    first = last_code()
    shift_codes_back(client)

    response = resend(client)

    assert response["Location"] == RESET_CODE
    assert "Si un code peut vous être envoyé, un nouveau code vient de partir." in page_text(client.get(RESET_CODE))
    second = last_code()
    assert OneTimeCode.objects.count() == 2
    assert OneTimeCode.objects.filter(voided_at__isnull=False).count() == 1
    if first != second:
        refused = complete(client, first)
        assert refused.status_code == 400
        assert shown_errors(refused)[0] == "Code incorrect. Il vous reste 4 essais."
    assert complete(client, second)["Location"] == DASHBOARD


@pytest.mark.django_db
def test_a_new_code_gives_five_new_tries(client, validated):
    request_reset(client, validated.person.nir, "email")
    for _ in range(5):
        complete(client, other_code(last_code()))
    shift_codes_back(client)
    resend(client)

    assert complete(client, last_code())["Location"] == DASHBOARD


@pytest.mark.django_db
def test_no_more_than_five_reset_codes_an_hour_for_one_person(client, validated):
    for _ in range(7):
        response = request_reset(client, validated.person.nir, "email")
        assert response["Location"] == RESET_CODE
        shift_codes_back()

    assert OutboxMessage.objects.filter(template="verification/reset").count() == 5
    # The sixth and seventh requests looked the same. Each request starts this session's tries again, so the code
    # this session held is replaced, by nothing once the quota is spent: as for an unknown NIR.
    refused = complete(client, last_code())
    assert shown_errors(refused)[0] == "Code incorrect. Il vous reste 4 essais."


@pytest.mark.django_db
def test_no_more_than_five_reset_codes_an_hour_to_one_address(client, household):
    shared = "foyer@exemple.fr"
    for person in (household.holder, household.partner):
        person.email_on_file = shared
        person.save()
    for person in (household.holder, household.holder, household.holder, household.partner, household.partner):
        request_reset(client, person.nir, "email")
        shift_codes_back()
    assert OutboxMessage.objects.filter(to=shared).count() == 5

    request_reset(client, household.partner.nir, "email")

    assert OutboxMessage.objects.filter(to=shared).count() == 5
    # The partner's mobile is another destination: it still gets a code.
    request_reset(client, household.partner.nir, "sms")
    assert OutboxMessage.objects.filter(to=household.partner.mobile_on_file).count() == 1


@pytest.mark.django_db
def test_a_reset_code_cannot_validate_a_contact_and_a_contact_code_cannot_reset(client, household):
    """Codes are bound to their purpose."""
    holder = household.holder
    client.post(LOGIN, {"identifier": holder.nir, "password": household.case.pin})
    client.post("/premiere-connexion/mot-de-passe/", {"password1": "Tr0mbone-Vert", "password2": "Tr0mbone-Vert"})
    client.post("/premiere-connexion/coordonnees/", {"medium": "email", "email": holder.email_on_file})
    contact_code = last_code()
    client.post(LOGOUT)
    shift_codes_back()

    request_reset(client, holder.nir, "email")
    response = complete(client, contact_code)

    assert response.status_code == 400  # a reset code is longer: a contact code cannot even be typed for it
    assert shown_errors(response)[0] == "Le code est composé de 8 chiffres."


@pytest.mark.django_db
def test_the_holder_of_a_case_without_pin_opens_the_account_through_a_reset(client):
    """A partner who left in a separation without ever opening an account holds a new case that has no PIN: the
    forgotten-password code to the contact on file is their way in."""
    case = CaseFactory(pin_hash="")
    holder = MembershipFactory(case=case, role=Role.HOLDER).person

    request_reset(client, holder.nir, "email")
    response = complete(client, last_code(to=holder.email_on_file))

    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert Account.objects.get(person=holder).has_usable_password()
