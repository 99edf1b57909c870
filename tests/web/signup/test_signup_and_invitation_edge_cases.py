"""The member signup, the holder's invitation and the link it sends, at their edges (found in the review of issue 3;
each test failed before its fix): an id too large for the database is a 404; a refused password tells nothing of
details the visitor did not type, nor the invitation page any part of the NIR before the birth date is right; the
notices write names as typed; codes to typed contacts are limited per network address; undoing an approval already
used is refused in the agent's language."""

import pytest
from django.test import Client

from moncompte.accounts.models import Account
from moncompte.messaging.models import OutboxMessage
from moncompte.messaging.services import message_queue
from moncompte.signup import services as signup
from tests.factories import PersonFactory
from tests.helpers import (
    NEW_PASSWORD,
    SIGNUP_CONTACT,
    complete,
    last_code,
    other_code,
    page_text,
    shown_errors,
    sign_in_as,
    start,
    unknown_nir,
)
from tests.web.helpers import CONFIRM, invite, last_link, open_link


def new_client():
    return Client(HTTP_HOST="localhost")


# --- Bad input: an id too large for the database is a 404, not a server error ---------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("person_id", [10**19, 10**30, 99999999999999999999999, 2**63])
def test_a_person_id_too_large_for_the_database_is_a_404(client, home, person_id):
    sign_in_as(client, home.holder_account)

    for method in ("get", "post"):
        response = getattr(client, method)(f"/mon-foyer/{home.case.case_number}/inviter/{person_id}/")
        assert response.status_code == 404
    assert not OutboxMessage.objects.filter(template__startswith="households/notices/invitation").exists()


@pytest.mark.django_db
def test_a_request_id_too_large_for_the_database_is_a_404(client, home):
    sign_in_as(client, home.holder_account)

    response = client.post(f"/mon-foyer/{home.case.case_number}/demandes/{10**30}/", {"decision": "approve"})

    assert response.status_code == 404


# --- Signup: a password refused for data the visitor did not type must not tell that the details matched -------------


@pytest.mark.django_db
def test_a_password_with_the_member_s_surname_gets_the_same_answer_as_for_unknown_details(home):
    child = home.child
    child.birth_name, child.given_names = "Marchetti", "Léa Ambre"
    child.save()
    known, unknown = new_client(), new_client()
    start(known, child, given_name="Léa")
    start(unknown, nir=unknown_nir(), birth_date=child.birth_date, given_name="Léa")
    wrong = other_code(last_code(child.email_on_file))

    for password in ("Marchetti-Vert7", "Ambre-Vert-77x"):  # the surname, the second given name: never typed
        known_answer, unknown_answer = complete(known, wrong, password), complete(unknown, wrong, password)
        assert known_answer.status_code == unknown_answer.status_code == 400
        assert shown_errors(known_answer) == shown_errors(unknown_answer)
        assert shown_errors(known_answer)[0].startswith("Code incorrect.")
    assert not Account.objects.filter(person=child).exists()


@pytest.mark.django_db
def test_with_the_right_code_the_member_learns_the_password_is_refused_and_keeps_the_code(home):
    child = home.child
    child.birth_name = "Marchetti"
    child.save()
    visitor = new_client()
    start(visitor, child)
    code = last_code(child.email_on_file)

    refused = complete(visitor, code, "Marchetti-Vert7")

    assert refused.status_code == 400
    assert any("nom" in error for error in shown_errors(refused))
    assert not Account.objects.filter(person=child).exists()
    accepted = complete(visitor, code, NEW_PASSWORD)  # the code was not used up by the refused password
    assert accepted.status_code == 302
    assert Account.objects.get(person=child).check_password(NEW_PASSWORD)


# --- Invitation link: nothing of the invitee's birth date before they typed it ---------------------------------------


@pytest.mark.django_db
def test_the_invitation_page_shows_no_part_of_the_nir_before_the_birth_date_is_typed(client, home):
    sign_in_as(client, home.holder_account)
    assert invite(client, home).status_code == 302
    visitor = new_client()

    response = open_link(visitor, last_link())

    assert response.status_code == 200
    text = page_text(response)
    masked = home.child.nir_masked
    assert masked not in text
    assert f"{masked[:1]} {masked[2:4]} {masked[5:7]}" not in text  # sex, birth year and month
    assert response.request["PATH_INFO"] == CONFIRM


# --- Notices: plain text, a name with an apostrophe is written as typed ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "template",
    [
        "accounts/notices/member_account_created",
        "accounts/notices/signup_existing_account",
        "accounts/notices/signup_holder_use_pin",
        "accounts/notices/password_changed",
    ],
)
@pytest.mark.parametrize("medium", ["email", "sms"])
def test_the_notices_write_names_as_they_are_not_as_html(db, template, medium):
    person = PersonFactory(birth_name="N'Diaye", given_names="N'Golo")
    member = PersonFactory(birth_name="D'Almeida", given_names="M'Baye")
    context = {"person": person, "holder": person, "member": member, "case_number": "1234567", "via": "signup"}

    message = message_queue(medium=medium, to="x@exemple.fr", template=template, context=context)

    assert "&#x27;" not in message.body + message.subject
    if medium == "email":
        assert "Bonjour N'Golo," in message.body


# --- Signup with a typed contact: not a way to send codes in bulk ----------------------------------------------------


def typed_contact_send(remote_addr, mobile, person=None, **typed):
    visitor = Client(HTTP_HOST="localhost", REMOTE_ADDR=remote_addr)
    start(visitor, person, medium="none", **typed)
    return visitor.post(SIGNUP_CONTACT, {"medium": "sms", "mobile": mobile})


@pytest.mark.django_db
def test_codes_to_typed_contacts_are_limited_per_network_address_whatever_the_details(home, settings):
    settings.OTP_REQUESTS_PER_ADDRESS_PER_HOUR = 2
    unknown = {"birth_date": home.child.birth_date, "given_name": "Léa"}

    answers = [
        typed_contact_send("198.51.100.7", f"06 12 34 56 7{n}", nir=unknown_nir(600_000 + n), **unknown)
        for n in range(3)
    ]
    member = typed_contact_send("198.51.100.7", "06 12 34 56 79", home.child)

    assert [answer.status_code for answer in answers] == [302, 302, 400]
    assert shown_errors(answers[2])[0].startswith("Trop de codes ont été demandés depuis votre connexion internet.")
    assert member.status_code == 400 and shown_errors(member)[0].startswith("Trop de codes")  # the same for a member
    assert OutboxMessage.objects.filter(template="verification/signup_contact").count() == 2
    elsewhere = typed_contact_send("203.0.113.9", "06 12 34 56 79", nir=unknown_nir(600_009), **unknown)
    assert elsewhere.status_code == 302


# --- Invitation link: the password rules must not reveal the invitee's birth date or names --------------------------


def accept_with(visitor, birth_date, password):
    return visitor.post(CONFIRM, {"birth_date": birth_date.isoformat(), "password1": password, "password2": password})


@pytest.mark.django_db
def test_a_password_holding_the_invitee_s_data_tells_nothing_before_the_birth_date_is_right(client, home):
    child = home.child
    child.birth_name = "Marchetti"
    child.save()
    sign_in_as(client, home.holder_account)
    invite(client, home)
    visitor = new_client()
    open_link(visitor, last_link())
    wrong = child.birth_date.replace(day=1 if child.birth_date.day != 1 else 2)

    answers = [
        accept_with(visitor, wrong, f"Zz-{child.birth_date:%d%m%Y}"),  # the real birth date, inside the password
        accept_with(visitor, wrong, "Marchetti-Vert7"),  # the surname, never shown on the page
    ]

    assert [shown_errors(answer)[0] for answer in answers] == [
        "Cette date de naissance n'est pas celle de la personne invitée. Il vous reste 4 essais.",
        "Cette date de naissance n'est pas celle de la personne invitée. Il vous reste 3 essais.",
    ]
    assert not any("votre nom" in error for answer in answers for error in shown_errors(answer))
    refused = accept_with(visitor, child.birth_date, "Marchetti-Vert7")  # the right date: now the rules may say it
    assert refused.status_code == 400 and any("votre nom" in error for error in shown_errors(refused))
    assert not Account.objects.filter(person=child).exists()
    assert accept_with(visitor, child.birth_date, NEW_PASSWORD).status_code == 302


# --- Undo: the refusal an agent reads is translated like every other text -------------------------------------------


@pytest.mark.django_db
def test_undoing_an_approval_whose_link_opened_the_account_is_refused_in_the_agent_s_language(home):
    from django.utils import translation

    from moncompte.households import invitations
    from moncompte.journal import services as journal
    from moncompte.journal.models import Entry

    request = invitations.signup_request_create(
        case=home.case, person=home.child, medium="email", destination="lea@exemple.fr", decide_link=lambda r: "/"
    )
    invitation = invitations.signup_request_approve(signup_request=request, by=home.holder, link=lambda t: "/")
    signup.invitation_accept(invitation=invitation, password=NEW_PASSWORD)
    entry = Entry.objects.get(kind="signup.approved")

    for language, words in (("fr", "déjà servi"), ("en", "already")):
        with translation.override(language), pytest.raises(journal.UndoError) as refusal:
            journal.undo(entry)
        assert words in str(refusal.value)
    assert Account.objects.filter(person=home.child).exists()
