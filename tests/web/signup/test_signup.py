"""Member signup without the case PIN (issue 3, item 1): from the login page, proven by a code sent to a contact the
agency holds, or, with no contact on file, waiting for the holder's approval. Same answers whatever the NIR."""

import datetime
import html
import re
import time
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from moncompte.accounts.models import Account
from moncompte.households import invitations
from moncompte.households.models import Invitation, Role, SignupRequest
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.verification.models import OneTimeCode, Purpose
from moncompte.web.signup import views as signup_views
from tests.factories import AccountFactory, CaseFactory, MembershipFactory, PersonFactory
from tests.helpers import (
    HOLDER_PASSWORD,
    NEW_PASSWORD,
    complete,
    last_code,
    make_home,
    other_code,
    page_text,
    request_with_typed_contact,
    rewind_code_ceilings,
    shown_errors,
    sign_in_as,
    start,
    unknown_nir,
)

LOGIN = "/connexion/"
START = "/creer-mon-compte/"
CONTACT = "/creer-mon-compte/coordonnees/"
CODE = "/creer-mon-compte/code/"
PENDING = "/creer-mon-compte/en-attente/"
ONBOARDING = "/premiere-connexion/bienvenue/"
DASHBOARD = "/mon-espace/"


def notice(response) -> str:
    block = re.search(r'id="signup-notice">(.*?)</div>', response.content.decode(), re.S).group(1)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", block)).split())


# --- The login page and the start page ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page_offers_to_create_an_account(client):
    response = client.get(LOGIN)

    assert f'href="{START}"' in response.content.decode()
    assert "Créer mon compte" in page_text(response)


@pytest.mark.django_db
def test_the_start_page_asks_for_the_nir_the_birth_date_the_given_name_and_where_to_send_the_code(client):
    response = client.get(START)

    assert response.status_code == 200
    text = page_text(response)
    for words in (
        "Numéro de Sécurité sociale",
        "Date de naissance",
        "Prénom",
        "Par SMS, sur mon mobile connu de la Caf",
        "Par e-mail, à mon adresse connue de la Caf",
        "La Caf n'a ni mon e-mail ni mon mobile",
        "connectez-vous avec votre numéro de Sécurité sociale et ce mot de passe",
    ):
        assert words in text, words
    assert response["Cache-Control"].count("no-store") == 1


@pytest.mark.django_db
def test_a_signed_in_person_is_sent_to_their_dashboard(client, home):
    sign_in_as(client, home.holder_account)

    assert client.get(START)["Location"] == DASHBOARD


# --- Signup with a code to a contact on file ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_child_of_16_opens_their_account_with_a_code_sent_to_the_email_on_file(client, home):
    child = home.child

    response = start(client, child, medium="email")
    assert response.status_code == 302
    assert response["Location"] == CODE
    code_page = client.get(CODE)
    assert "un code à 8 chiffres vous est envoyé à l'adresse e-mail que la Caf connaît pour vous" in notice(code_page)
    message = OutboxMessage.objects.get(template="verification/signup")
    assert message.to == child.email_on_file
    assert child.email_on_file not in page_text(code_page)

    done = complete(client, last_code(child.email_on_file))

    assert done.status_code == 302
    assert done["Location"] == ONBOARDING
    account = Account.objects.get(person=child)
    assert account.check_password(NEW_PASSWORD)
    assert account.email == child.email_on_file and account.email_verified_at is not None
    assert not account.mobile_verified_at
    assert account.login_id == child.nir
    assert client.get(ONBOARDING).status_code == 200  # signed in, at the onboarding screens
    created = Entry.objects.get(kind="account.created", person_id=child.pk)
    assert created.after["via"] == "signup"
    assert created.case_number == home.case.case_number
    assert created.actor_account_id == account.pk
    assert signup_views.SIGNUP_SESSION_KEY not in client.session


@pytest.mark.django_db
def test_the_holder_is_told_that_a_new_account_opened_in_the_household(client, home):
    start(client, home.child, medium="sms")
    complete(client, last_code(home.child.mobile_on_file))

    notice_to_holder = OutboxMessage.objects.get(template="accounts/notices/member_account_created")
    assert notice_to_holder.to == home.holder_account.email
    assert notice_to_holder.person_id == home.holder.pk
    assert home.child.full_name in notice_to_holder.body
    assert home.case.case_number in notice_to_holder.body
    assert notice_to_holder.subject == "Un nouveau compte a été créé dans votre foyer"


@pytest.mark.django_db
def test_a_code_by_sms_validates_the_mobile_on_file(client, home):
    start(client, home.child, medium="sms")
    complete(client, last_code(home.child.mobile_on_file))

    account = Account.objects.get(person=home.child)
    assert account.mobile == home.child.mobile_on_file and account.mobile_verified_at is not None
    assert not account.email_verified_at


@pytest.mark.django_db
def test_the_new_account_then_signs_in_with_the_nir_and_the_new_password(client, home, new_client):
    start(client, home.child)
    complete(client, last_code(home.child.email_on_file))
    client.post(ONBOARDING)

    other = new_client()
    response = other.post(LOGIN, {"identifier": home.child.nir, "password": NEW_PASSWORD})

    assert response["Location"] == DASHBOARD
    assert other.get(DASHBOARD).status_code == 200


@pytest.mark.django_db
def test_a_partner_without_the_case_pin_may_sign_up_and_gets_no_delegation(client, home):
    start(client, home.partner, medium="email")
    response = complete(client, last_code(home.partner.email_on_file))

    assert response["Location"] == ONBOARDING
    assert Account.objects.filter(person=home.partner).exists()
    assert not home.case.delegations.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stored", "typed"),
    [("Léa Marie", "LEA"), ("Léa Marie", "léa"), ("Léa Marie", "Lea Marie"), ("Jean-Éric", "jean eric")],
)
def test_the_given_name_matches_without_case_accents_or_hyphens(client, home, stored, typed):
    home.child.given_names = stored
    home.child.save()

    start(client, home.child, given_name=typed)

    assert OutboxMessage.objects.filter(template="verification/signup").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.CHILD, Role.OTHER])
def test_a_member_exactly_15_today_may_sign_up(client, home, role):
    today = timezone.localdate()
    person = PersonFactory(birth_date=today.replace(year=today.year - 15))
    MembershipFactory(case=home.case, person=person, role=role)

    start(client, person)
    response = complete(client, last_code(person.email_on_file))

    assert response["Location"] == ONBOARDING


# --- Refusals -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_child_of_14_is_refused_with_a_clear_explanation_and_nothing_is_sent(client, home):
    today = timezone.localdate()
    child = PersonFactory(birth_date=today.replace(year=today.year - 15) + timedelta(days=1))
    MembershipFactory(case=home.case, person=child, role=Role.CHILD)

    response = start(client, child)

    assert response.status_code == 400
    assert shown_errors(response)[0].startswith("Il faut avoir 15 ans ou plus pour créer son propre compte.")
    assert "Vous pourrez le créer à partir du" in shown_errors(response)[0]
    assert not OutboxMessage.objects.exists()
    assert not OneTimeCode.objects.exists()
    assert signup_views.SIGNUP_SESSION_KEY not in client.session


@pytest.mark.django_db
def test_the_under_15_refusal_reads_the_same_for_an_unknown_nir(client, new_client):
    today = timezone.localdate()
    birth = today.replace(year=today.year - 14)
    child = PersonFactory(birth_date=birth)
    MembershipFactory(case=CaseFactory(), person=child, role=Role.CHILD)

    known = start(new_client(), child)
    unknown = start(new_client(), nir=unknown_nir(), birth_date=birth, given_name="Léa")

    assert known.status_code == unknown.status_code == 400
    assert shown_errors(known) == shown_errors(unknown)


@pytest.mark.django_db
def test_a_holder_gets_no_code_but_a_message_pointing_to_the_first_login_with_the_case_pin(client, household):
    response = start(client, household.holder, medium="email")

    assert response["Location"] == CODE
    assert not OneTimeCode.objects.exists()
    message = OutboxMessage.objects.get()
    assert message.template == "accounts/notices/signup_holder_use_pin"
    assert message.to == household.holder.email_on_file
    assert "mot de passe à 8 chiffres" in message.body
    assert complete(client, "12345612").status_code == 400
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_someone_with_an_account_gets_no_code_but_a_message_pointing_to_login_and_forgotten_password(client, home):
    account = home.holder_account
    member_with_account = AccountFactory()
    MembershipFactory(case=home.case, person=member_with_account.person, role=Role.OTHER)

    start(client, member_with_account.person, medium="email")

    assert not OneTimeCode.objects.exists()
    message = OutboxMessage.objects.get()
    assert message.template == "accounts/notices/signup_existing_account"
    assert message.to == member_with_account.email
    assert "Mot de passe oublié ?" in message.body
    assert complete(client, "12345612").status_code == 400
    assert Account.objects.filter(person=member_with_account.person).get().check_password(HOLDER_PASSWORD)
    assert account.pk  # the holder's account is untouched


@pytest.mark.django_db
def test_informational_notices_are_limited_per_hour(client, home):
    member_with_account = AccountFactory()
    MembershipFactory(case=home.case, person=member_with_account.person, role=Role.OTHER)

    for _ in range(6):
        start(client, member_with_account.person, medium="email")

    assert OutboxMessage.objects.filter(template="accounts/notices/signup_existing_account").count() == 3


@pytest.mark.django_db
def test_a_person_of_no_case_gets_no_code(client):
    person = PersonFactory()

    start(client, person)

    assert not OutboxMessage.objects.exists()


# --- Same answers whether the NIR is known --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("medium", ["email", "sms"])
@pytest.mark.parametrize("other", ["unknown NIR", "wrong birth date", "wrong given name", "holder", "account"])
def test_an_unknown_or_unmatched_nir_gets_the_same_status_redirect_and_page_as_a_member(
    home, new_client, medium, other
):
    known_client, other_client = new_client(), new_client()
    child = home.child
    if other == "unknown NIR":
        data = {"nir": unknown_nir(), "birth_date": child.birth_date, "given_name": child.first_name}
    elif other == "wrong birth date":
        data = {"nir": child.nir, "birth_date": child.birth_date - timedelta(days=1), "given_name": child.first_name}
    elif other == "wrong given name":
        data = {"nir": child.nir, "birth_date": child.birth_date, "given_name": "Zébulon"}
    elif other == "holder":
        data = {"nir": home.holder.nir, "birth_date": home.holder.birth_date, "given_name": home.holder.first_name}
    else:
        member = AccountFactory(person__birth_date=child.birth_date, person__given_names=child.first_name)
        MembershipFactory(case=home.case, person=member.person, role=Role.OTHER)
        data = {"nir": member.person.nir, "birth_date": child.birth_date, "given_name": child.first_name}

    known = start(known_client, child, medium=medium)
    unknown = start(other_client, medium=medium, **data)

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == CODE
    known_page, other_page = known_client.get(CODE), other_client.get(CODE)
    assert known_page.status_code == other_page.status_code == 200
    assert page_text(known_page) == page_text(other_page)
    assert "Si vos informations correspondent à un membre d'un foyer allocataire" in notice(known_page)


def _wrong_code_answers(client, code, tries=6):
    return [(r.status_code, shown_errors(r)) for r in (complete(client, code) for _ in range(tries))]


@pytest.mark.django_db
def test_the_code_step_counts_down_alike_for_a_member_and_an_unknown_nir(home, new_client):
    known_client, unknown_client = new_client(), new_client()
    start(known_client, home.child)
    start(unknown_client, nir=unknown_nir(), birth_date=home.child.birth_date, given_name="Léa")
    wrong = other_code(last_code(home.child.email_on_file))

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
    assert not Account.objects.filter(person=home.child).exists()


@pytest.mark.django_db
def test_an_expired_code_answers_alike_for_a_member_and_an_unknown_nir(home, new_client):
    known_client, unknown_client = new_client(), new_client()
    start(known_client, home.child)
    start(unknown_client, nir=unknown_nir(), birth_date=home.child.birth_date, given_name="Léa")
    code = last_code(home.child.email_on_file)
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    session = unknown_client.session
    session[signup_views.SIGNUP_SESSION_KEY] = {
        **session[signup_views.SIGNUP_SESSION_KEY],
        "started": time.time() - 601,
    }
    session.save()

    known, unknown = complete(known_client, code), complete(unknown_client, code)

    assert known.status_code == unknown.status_code == 400
    assert shown_errors(known) == shown_errors(unknown)
    assert shown_errors(known)[0] == "Ce code a expiré. Demandez un nouveau code."
    assert not Account.objects.exists() or not Account.objects.filter(person=home.child).exists()


@pytest.mark.django_db
def test_a_password_with_the_typed_details_is_refused_alike_for_a_member_and_an_unknown_nir(home, new_client):
    known_client, unknown_client = new_client(), new_client()
    child = home.child
    child.given_names = "Séraphine"
    child.save()
    start(known_client, child)
    start(unknown_client, nir=unknown_nir(), birth_date=child.birth_date, given_name="Séraphine")
    code = last_code(child.email_on_file)

    for password in ("Seraphine-2024", f"Ab-{child.nir}", f"Xy-{child.birth_date:%d%m%Y}"):
        known, unknown = complete(known_client, code, password), complete(unknown_client, code, password)
        assert known.status_code == unknown.status_code == 400
        assert shown_errors(known) == shown_errors(unknown)
    assert complete(known_client, code).status_code == 302  # the refused passwords cost no try of the code


@pytest.mark.django_db
def test_the_signup_pages_take_the_same_minimum_time_for_a_member_and_an_unknown_nir(home, new_client, monkeypatch):
    monkeypatch.setattr(signup_views, "SIGNUP_MIN_DURATION", 0.35)
    durations = []
    for data in (
        {"person": home.child},
        {"nir": unknown_nir(), "birth_date": home.child.birth_date, "given_name": "Léa"},
    ):
        visitor = new_client()
        started = time.monotonic()
        start(visitor, **data)
        complete(visitor, "00000000")
        durations.append(time.monotonic() - started)

    assert all(duration >= 0.7 for duration in durations), durations


# --- Code rules ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_code_works_once(client, home, new_client):
    start(client, home.child)
    code = last_code(home.child.email_on_file)
    assert complete(client, code).status_code == 302

    replay = new_client()
    start(replay, home.child)  # the child has an account now: no new code
    assert complete(replay, code).status_code == 400
    assert Entry.objects.filter(kind="account.created").count() == 1


@pytest.mark.django_db
def test_a_refused_password_costs_no_try_and_opens_nothing(client, home):
    start(client, home.child)
    code = last_code(home.child.email_on_file)

    weak = complete(client, code, "motdepasse")
    mismatch = complete(client, code, NEW_PASSWORD, "Autre-Chose-42")

    assert weak.status_code == mismatch.status_code == 400
    assert "Les deux mots de passe ne sont pas identiques." in shown_errors(mismatch)
    assert not Account.objects.exists() or not Account.objects.filter(person=home.child).exists()
    assert OneTimeCode.objects.get(purpose=Purpose.SIGNUP).attempts == 0


@pytest.mark.django_db
def test_a_resend_waits_a_minute_and_then_voids_the_previous_code(client, home):
    start(client, home.child)
    first = last_code(home.child.email_on_file)

    early = client.post(CODE, {"resend": "1"}, follow=True)
    assert "Vous pourrez en demander un nouveau dans" in page_text(early)
    assert OneTimeCode.objects.count() == 1

    OneTimeCode.objects.update(created_at=F("created_at") - timedelta(seconds=61))
    session = client.session
    state = session[signup_views.SIGNUP_SESSION_KEY]
    state["started"] -= 61
    session[signup_views.SIGNUP_SESSION_KEY] = state
    session.save()
    client.post(CODE, {"resend": "1"})
    second = last_code(home.child.email_on_file)

    assert OneTimeCode.objects.count() == 2
    if first != second:
        assert complete(client, first).status_code == 400
    assert complete(client, second).status_code == 302


# --- Bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("identifier", "", "Saisissez votre numéro de Sécurité sociale."),
        ("identifier", "1 84 05", "Le numéro de Sécurité sociale doit comporter 13 caractères"),
        ("identifier", "x" * 500, "Ce numéro est trop long"),
        ("birth_date", "", "Saisissez votre date de naissance."),
        ("birth_date", "31/02/2008", "Saisissez une date de naissance valide"),
        ("birth_date", "3000-01-01", "Saisissez une date de naissance valide"),
        ("birth_date", "1850-01-01", "Saisissez une date de naissance valide"),
        ("birth_date", "n'importe quoi", "Saisissez une date de naissance valide"),
        ("given_name", "", "Saisissez votre prénom."),
        ("given_name", "a" * 101, "Ce prénom est trop long."),
        ("medium", "", "Choisissez où recevoir votre code."),
        ("medium", "pigeon", "Choisissez où recevoir votre code."),
    ],
)
def test_bad_input_on_the_start_page_gets_a_french_message_and_sends_nothing(client, home, field, value, message):
    data = {
        "identifier": home.child.nir,
        "birth_date": home.child.birth_date.isoformat(),
        "given_name": home.child.first_name,
        "medium": "email",
        field: value,
    }

    response = client.post(START, data)

    assert response.status_code == 400
    assert any(error.startswith(message) for error in shown_errors(response)), shown_errors(response)
    assert not OutboxMessage.objects.exists()
    assert signup_views.SIGNUP_SESSION_KEY not in client.session


@pytest.mark.django_db
def test_the_later_pages_without_a_start_lead_back_to_the_start(client):
    assert client.get(CODE)["Location"] == START
    assert complete(client, "12345612")["Location"] == START
    assert client.get(CONTACT)["Location"] == START
    assert client.post(CONTACT, {"medium": "email", "email": "a@exemple.fr"})["Location"] == START


@pytest.mark.django_db
@pytest.mark.parametrize("path", [START, CONTACT, CODE])
def test_wrong_methods_are_refused(client, path):
    assert client.put(path).status_code == 405
    assert client.delete(path).status_code == 405


@pytest.mark.django_db
def test_garbage_codes_are_refused_with_a_french_message(client, home):
    start(client, home.child)
    for garbage in ("", "abcdef", "12345", "1" * 50, "١٢٣٤٥٦"):
        response = complete(client, garbage)
        assert response.status_code == 400
        assert shown_errors(response), garbage
    assert OneTimeCode.objects.get().attempts == 0


@pytest.mark.django_db
def test_the_signup_journal_holds_no_nir_code_or_password(client, home):
    start(client, home.child)
    code = last_code(home.child.email_on_file)
    complete(client, code)

    for entry in Entry.objects.all():
        dumped = f"{entry.before}{entry.after}"
        assert home.child.nir not in dumped
        assert code not in dumped
        assert NEW_PASSWORD not in dumped
    assert Entry.objects.filter(kind="signup.code_sent", person_id=home.child.pk).exists()


# --- No contact on file: the holder approves ------------------------------------------------------------------------


@pytest.fixture
def no_contact(home):
    child = home.child
    child.email_on_file = ""
    child.mobile_on_file = ""
    child.save()
    return home


@pytest.mark.django_db
def test_a_member_with_no_contact_on_file_proves_a_typed_email_and_the_request_waits_for_the_holder(
    client, no_contact
):
    child = no_contact.child
    response = start(client, child, medium="none")
    assert response["Location"] == CONTACT
    assert not OutboxMessage.objects.exists()
    assert "l'allocataire du dossier, qui devra l'approuver" in page_text(client.get(CONTACT))

    assert client.post(CONTACT, {"medium": "email", "email": "Lea.Perso@exemple.fr"})["Location"] == CODE
    code_page = client.get(CODE)
    assert "l•••@exemple.fr" in page_text(code_page)
    done = client.post(CODE, {"code": last_code("lea.perso@exemple.fr")})

    assert done["Location"] == PENDING
    pending = client.get(PENDING)
    assert pending.status_code == 200
    assert "c'est donc l'allocataire du dossier qui doit approuver votre demande" in page_text(pending)
    signup_request = SignupRequest.objects.get()
    assert signup_request.case == no_contact.case and signup_request.person == child
    assert signup_request.status == SignupRequest.Status.PENDING
    assert (signup_request.medium, signup_request.destination) == ("email", "lea.perso@exemple.fr")
    assert not Account.objects.filter(person=child).exists()
    # Both are told: the holder on their validated contact, the requester on the contact they proved.
    to_holder = OutboxMessage.objects.get(template="households/notices/invitation_request_holder")
    assert to_holder.to == no_contact.holder_account.email
    assert f"http://localhost/mon-foyer/{no_contact.case.case_number}/demandes/{signup_request.pk}/" in to_holder.body
    receipt = OutboxMessage.objects.get(template="households/notices/invitation_request_received")
    assert receipt.to == "lea.perso@exemple.fr"
    entry = Entry.objects.get(kind="signup.requested")
    assert entry.case_number == no_contact.case.case_number and "lea.perso" not in str(entry.after)


@pytest.mark.django_db
def test_a_typed_mobile_is_validated_with_phonenumbers(client, no_contact):
    start(client, no_contact.child, medium="none")

    wrong = client.post(CONTACT, {"medium": "sms", "mobile": "01 23 45 67 89"})
    overseas = client.post(CONTACT, {"medium": "sms", "mobile": "0692 12 34 56"})

    assert wrong.status_code == 400
    assert "n'est pas un numéro de mobile" in shown_errors(wrong)[0]
    assert overseas["Location"] == CODE
    assert OutboxMessage.objects.get().to == "+262692123456"


@pytest.mark.django_db
@pytest.mark.parametrize("other", ["unknown NIR", "account", "holder"])
def test_the_typed_contact_path_looks_the_same_whatever_the_details(no_contact, new_client, other):
    child = no_contact.child
    if other == "unknown NIR":
        typed = {"nir": unknown_nir(), "birth_date": child.birth_date, "given_name": "Léa"}
    elif other == "holder":
        holder = no_contact.holder
        typed = {"nir": holder.nir, "birth_date": holder.birth_date, "given_name": holder.first_name}
    else:
        member = AccountFactory()
        MembershipFactory(case=no_contact.case, person=member.person, role=Role.OTHER)
        typed = {
            "nir": member.person.nir,
            "birth_date": member.person.birth_date,
            "given_name": member.person.first_name,
        }
    known_client, other_client = new_client(), new_client()

    request_with_typed_contact(known_client, child, email="connu@exemple.fr")
    request_with_typed_contact(other_client, email="inconnu@exemple.fr", **typed)
    known_code = OutboxMessage.objects.get(to="connu@exemple.fr")
    other_code_message = OutboxMessage.objects.get(to="inconnu@exemple.fr")
    assert known_code.subject == other_code_message.subject
    assert known_code.body.replace(last_code("connu@exemple.fr"), "CODE") == other_code_message.body.replace(
        last_code("inconnu@exemple.fr"), "CODE"
    )
    assert page_text(known_client.get(CODE)).replace("c•••", "X") == page_text(other_client.get(CODE)).replace(
        "i•••", "X"
    )

    known = known_client.post(CODE, {"code": last_code("connu@exemple.fr")})
    unknown = other_client.post(CODE, {"code": last_code("inconnu@exemple.fr")})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == PENDING
    assert page_text(known_client.get(PENDING)) == page_text(other_client.get(PENDING))
    receipts = OutboxMessage.objects.filter(template="households/notices/invitation_request_received")
    assert {message.to for message in receipts} == {"connu@exemple.fr", "inconnu@exemple.fr"}
    assert len({(message.subject, message.body) for message in receipts}) == 1
    assert SignupRequest.objects.get().person == child


@pytest.mark.django_db
def test_someone_with_an_account_on_the_typed_path_is_told_on_their_own_contact(client, no_contact):
    member = AccountFactory()
    MembershipFactory(case=no_contact.case, person=member.person, role=Role.OTHER)
    typed = {"nir": member.person.nir, "birth_date": member.person.birth_date, "given_name": member.person.first_name}

    request_with_typed_contact(client, email="intrus@exemple.fr", **typed)
    client.post(CODE, {"code": last_code("intrus@exemple.fr")})

    assert not SignupRequest.objects.exists()
    notice_message = OutboxMessage.objects.get(template="accounts/notices/signup_existing_account")
    assert notice_message.to == member.email


@pytest.mark.django_db
def test_a_wrong_code_on_the_typed_path_counts_down_alike_and_files_nothing(no_contact, new_client):
    known_client, unknown_client = new_client(), new_client()
    request_with_typed_contact(known_client, no_contact.child, email="connu@exemple.fr")
    request_with_typed_contact(
        unknown_client,
        email="inconnu@exemple.fr",
        nir=unknown_nir(),
        birth_date=no_contact.child.birth_date,
        given_name="Léa",
    )
    wrong = "000000" if last_code("connu@exemple.fr") != "000000" else "111111"
    wrong = wrong if last_code("inconnu@exemple.fr") != wrong else "222222"

    answers = [
        [(r.status_code, shown_errors(r)) for r in (c.post(CODE, {"code": wrong}) for _ in range(6))]
        for c in (known_client, unknown_client)
    ]

    assert answers[0] == answers[1]
    assert answers[0][-1][0] == 400
    assert answers[0][-1][1][0] == "Trop d'essais avec ce code. Demandez un nouveau code."
    assert known_client.post(CODE, {"code": last_code("connu@exemple.fr")}).status_code == 400
    assert unknown_client.post(CODE, {"code": last_code("inconnu@exemple.fr")}).status_code == 400
    assert not SignupRequest.objects.exists()


@pytest.mark.django_db
def test_no_more_than_five_codes_an_hour_to_one_typed_contact_whatever_the_details(no_contact, new_client):
    for index in range(5):
        visitor = new_client()
        if index % 2:
            request_with_typed_contact(visitor, no_contact.child, email="cible@exemple.fr")
        else:
            request_with_typed_contact(
                visitor,
                email="cible@exemple.fr",
                nir=unknown_nir(index + 10),
                birth_date=no_contact.child.birth_date,
                given_name="Léa",
            )
        OneTimeCode.objects.update(created_at=F("created_at") - timedelta(seconds=61))
    visitor = new_client()
    start(visitor, no_contact.child, medium="none")

    refused = visitor.post(CONTACT, {"medium": "email", "email": "cible@exemple.fr"})

    assert refused.status_code == 400
    assert shown_errors(refused)[0].startswith("Trop de codes ont été envoyés en une heure.")
    assert OutboxMessage.objects.filter(to="cible@exemple.fr").count() == 5


@pytest.mark.django_db
def test_a_new_request_replaces_the_pending_one(no_contact, new_client):
    for email in ("premier@exemple.fr", "second@exemple.fr"):
        visitor = new_client()
        request_with_typed_contact(visitor, no_contact.child, email=email)
        visitor.post(CODE, {"code": last_code(email)})
        OneTimeCode.objects.update(created_at=F("created_at") - timedelta(seconds=61))

    statuses = dict(SignupRequest.objects.values_list("destination", "status"))
    assert statuses == {"premier@exemple.fr": "cancelled", "second@exemple.fr": "pending"}


# --- The holder approves or refuses -----------------------------------------------------------------------------


@pytest.fixture
def waiting(no_contact, new_client):
    """A pending signup request of the child, made with the typed address lea.perso@exemple.fr."""
    visitor = new_client()
    request_with_typed_contact(visitor, no_contact.child)
    visitor.post(CODE, {"code": last_code("lea.perso@exemple.fr")})
    no_contact.request = SignupRequest.objects.get()
    return no_contact


def decide_url(h, request_id=None, case_number=None):
    return f"/mon-foyer/{case_number or h.case.case_number}/demandes/{request_id or h.request.pk}/"


@pytest.mark.django_db
def test_the_holder_sees_the_request_with_the_contact_the_member_proved(client, waiting):
    sign_in_as(client, waiting.holder_account)

    response = client.get(decide_url(waiting))

    assert response.status_code == 200
    text = page_text(response)
    assert waiting.child.full_name in text
    assert "lea.perso@exemple.fr" in text
    assert "Approuver la demande" in text and "Refuser la demande" in text
    assert waiting.child.nir not in response.content.decode()
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_approval_sends_the_requester_an_invitation_link_to_the_proven_contact(client, waiting):
    sign_in_as(client, waiting.holder_account)

    response = client.post(decide_url(waiting), {"decision": "approve"})

    assert response.status_code == 302
    waiting.request.refresh_from_db()
    assert waiting.request.status == SignupRequest.Status.APPROVED
    assert waiting.request.decided_by == waiting.holder
    invitation = Invitation.objects.get()
    assert invitation.origin == Invitation.Origin.APPROVAL
    assert (invitation.medium, invitation.destination) == ("email", "lea.perso@exemple.fr")
    link_message = OutboxMessage.objects.get(template="households/notices/invitation_approved")
    assert link_message.to == "lea.perso@exemple.fr"
    assert re.search(r"http://localhost/invitation/[\w-]{40,}/", link_message.body)
    entry = Entry.objects.get(kind="signup.approved")
    assert entry.after["invitation"] == invitation.pk
    assert journal.is_reversible("signup.approved")


@pytest.mark.django_db
def test_refusal_tells_the_requester_and_opens_nothing(client, waiting):
    sign_in_as(client, waiting.holder_account)

    response = client.post(decide_url(waiting), {"decision": "refuse"})

    assert response.status_code == 302
    waiting.request.refresh_from_db()
    assert waiting.request.status == SignupRequest.Status.REFUSED
    assert not Invitation.objects.exists()
    refused = OutboxMessage.objects.get(template="households/notices/invitation_request_refused")
    assert refused.to == "lea.perso@exemple.fr"
    assert Entry.objects.filter(kind="signup.refused").exists()


@pytest.mark.django_db
def test_a_request_is_decided_once(client, waiting):
    sign_in_as(client, waiting.holder_account)
    client.post(decide_url(waiting), {"decision": "refuse"})

    again = client.post(decide_url(waiting), {"decision": "approve"})

    assert again.status_code == 400
    assert "Cette demande a déjà été traitée." in shown_errors(again)
    assert not Invitation.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("decision", ["", "peut-être", "approve" * 50])
def test_a_garbage_decision_changes_nothing(client, waiting, decision):
    sign_in_as(client, waiting.holder_account)

    response = client.post(decide_url(waiting), {"decision": decision})

    assert response.status_code == 400
    assert shown_errors(response)
    waiting.request.refresh_from_db()
    assert waiting.request.status == SignupRequest.Status.PENDING


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["partner", "delegated partner", "child"])
def test_only_the_holder_may_approve_or_refuse(client, waiting, who):
    if who == "child":
        account = AccountFactory(person__birth_date=datetime.date(2005, 1, 1))
        MembershipFactory(case=waiting.case, person=account.person, role=Role.CHILD)
    else:
        account = AccountFactory(person=waiting.partner)
        if who == "delegated partner":
            from moncompte.households.models import Delegation, DelegationOrigin

            Delegation.objects.create(case=waiting.case, partner=waiting.partner, origin=DelegationOrigin.HOLDER)
    sign_in_as(client, account)

    seen = client.get(decide_url(waiting))
    tried = client.post(decide_url(waiting), {"decision": "approve"})

    assert seen.status_code == tried.status_code == 403
    assert "Seul l'allocataire du dossier peut approuver ou refuser" in page_text(tried)
    assert "lea.perso@exemple.fr" not in tried.content.decode()
    waiting.request.refresh_from_db()
    assert waiting.request.status == SignupRequest.Status.PENDING
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_a_foreign_case_number_or_a_request_of_another_case_is_a_404(client, waiting):
    other = make_home()
    other_request = SignupRequest.objects.create(
        case=other.case, person=other.child, medium="email", destination="autre@exemple.fr"
    )
    sign_in_as(client, waiting.holder_account)

    foreign_case = client.post(decide_url(waiting, case_number=other.case.case_number, request_id=other_request.pk))
    other_cases_request = client.post(decide_url(waiting, request_id=other_request.pk), {"decision": "approve"})
    garbage = client.get(f"/mon-foyer/{'9' * 300}/demandes/{waiting.request.pk}/")
    unknown = client.get(decide_url(waiting, request_id=999_999))

    for response in (foreign_case, other_cases_request, garbage, unknown):
        assert response.status_code == 404
        assert "Page introuvable" in page_text(response)
    other_request.refresh_from_db()
    assert other_request.status == SignupRequest.Status.PENDING
    assert "autre@exemple.fr" not in other_cases_request.content.decode()


@pytest.mark.django_db
def test_the_decision_page_needs_a_signed_in_holder_who_typed_their_password_recently(client, waiting, settings):
    anonymous = client.get(decide_url(waiting))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(LOGIN)

    sign_in_as(client, waiting.holder_account)
    session = client.session
    session["_auth_at"] = time.time() - settings.REAUTH_MAX_AGE - 1
    session.save()
    stale = client.post(decide_url(waiting), {"decision": "approve"})

    assert stale.status_code == 302 and stale["Location"].startswith("/mon-espace/confirmer-mot-de-passe/")
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_undoing_an_approval_revokes_the_unused_invitation_and_the_request_waits_again(client, waiting):
    sign_in_as(client, waiting.holder_account)
    client.post(decide_url(waiting), {"decision": "approve"})

    journal.undo(Entry.objects.get(kind="signup.approved"))

    assert Invitation.objects.get().revoked_at is not None
    waiting.request.refresh_from_db()
    assert waiting.request.status == SignupRequest.Status.PENDING


@pytest.mark.django_db
def test_an_approval_whose_invitation_opened_the_account_cannot_be_undone_alone(client, waiting):
    sign_in_as(client, waiting.holder_account)
    client.post(decide_url(waiting), {"decision": "approve"})
    invitation = Invitation.objects.get()
    from moncompte.signup import services as signup

    signup.invitation_accept(invitation=invitation, password=NEW_PASSWORD)

    with pytest.raises(journal.UndoError):
        journal.undo(Entry.objects.get(kind="signup.approved"))
    journal.undo(Entry.objects.get(kind="account.created", person_id=waiting.child.pk))
    journal.undo(Entry.objects.get(kind="signup.approved"))


@pytest.mark.django_db
def test_the_household_selectors_list_pending_requests_and_invitable_members(waiting):
    today = timezone.localdate()
    young = PersonFactory(birth_date=today.replace(year=today.year - 14))
    MembershipFactory(case=waiting.case, person=young, role=Role.CHILD)

    assert list(invitations.pending_signup_requests(waiting.case)) == [waiting.request]
    invitable = {membership.person for membership in invitations.invitable_members(waiting.case)}
    assert invitable == {waiting.partner, waiting.child}


# --- Issue 7, item 2: the tries counter behaves the same for a member and for details that match no one ---------


def _answer_in_a_second_session(new_client, **details) -> str:
    first = new_client()
    start(first, **details)
    complete(first, "00000100")
    complete(first, "00000200")
    second = new_client()
    start(second, **details)
    return shown_errors(complete(second, "00000300"))[0]


def test_the_remaining_tries_are_the_same_for_a_member_and_an_unknown_nir_across_sessions(home, new_client):
    member = _answer_in_a_second_session(new_client, person=home.child)
    unknown = _answer_in_a_second_session(
        new_client, nir=unknown_nir(seq=616_161), birth_date=home.child.birth_date, given_name="Inconnue"
    )

    assert member == unknown == "Code incorrect. Il vous reste 4 essais."


def test_a_signup_code_cannot_be_typed_in_another_session(home, new_client):
    asking, other = new_client(), new_client()
    start(asking, home.child)
    code = last_code(to=home.child.email_on_file)
    start(other, home.child)

    for _ in range(5):
        complete(other, code if code != last_code(to=home.child.email_on_file) else other_code(code))
    rewind_code_ceilings(other.session[signup_views.SIGNUP_SESSION_KEY], 60)  # the back-off after 5 tries of a NIR

    assert complete(asking, code)["Location"] == "/premiere-connexion/bienvenue/"
