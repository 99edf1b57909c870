"""Invitations by the holder (issue 3, item 2): a member aged 15+ gets a single-use link that expires, confirms their
birth date, chooses their password; the holder is told.

Issue 8, item 2 (ASVS 6.3.4, 6.4.1): the holder knows the birth date, so the destination is what proves the invitee.
Sent to a contact the agency holds for them, it becomes their validated contact; typed by the holder, it needs a code
sent there and typed in the invitee's session, it is never validated, and the invitee's contacts on file are told."""

import datetime
import hashlib
import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.http import urlencode

from moncompte.accounts import services
from moncompte.accounts.models import Account
from moncompte.households import invitations
from moncompte.households.models import Delegation, DelegationOrigin, Invitation, Membership, Role
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.signup import services as signup
from moncompte.verification.models import OneTimeCode, Purpose
from moncompte.web.signup import views as signup_views
from tests.factories import AccountFactory, MembershipFactory, PersonFactory
from tests.helpers import HOLDER_PASSWORD, NEW_PASSWORD, last_code, make_home, page_text, shown_errors, sign_in_as
from tests.web.helpers import CONFIRM, invite, invite_url, last_link, link_in, open_link

LOGIN = "/connexion/"
ONBOARDING = "/premiere-connexion/bienvenue/"
MIGRATION_CONTACT = "/premiere-connexion/coordonnees/"
TYPED = "lea@exemple.fr"
WARNING = "households/notices/warning_invitation_elsewhere"
OPENED = "accounts/notices/account_opened_other_contact"


def accept(visitor, person, password=NEW_PASSWORD, birth_date=None):
    return visitor.post(
        CONFIRM,
        {
            "birth_date": (birth_date or person.birth_date).isoformat(),
            "password1": password,
            "password2": password,
        },
    )


def accept_with_code(visitor, person, destination=TYPED, password=NEW_PASSWORD):
    """An invitation to a contact the holder typed: the birth date and the password, then the code sent there."""
    first = accept(visitor, person, password)
    assert first.status_code == 302 and first["Location"] == CONFIRM, shown_errors(first)
    return visitor.post(CONFIRM, {"code": last_code(destination)})


# --- Sending --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_holder_invites_a_child_by_email_with_a_single_use_link(holder, home):
    page = holder.get(invite_url(home))
    assert page.status_code == 200
    assert f"Inviter {home.child.full_name} à créer son compte" in page_text(page)

    response = invite(holder, home)

    assert response.status_code == 302
    assert response["Location"] == "/mon-foyer/"
    invitation = Invitation.objects.get()
    assert (invitation.case, invitation.person, invitation.created_by) == (home.case, home.child, home.holder)
    assert (invitation.medium, invitation.destination, invitation.origin) == ("email", "lea@exemple.fr", "holder")
    message = OutboxMessage.objects.get(template="households/notices/invitation_holder")
    assert message.to == "lea@exemple.fr"
    assert home.holder.full_name in message.body
    token = link_in(message).split("/")[2]
    assert len(token) >= 40
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    expected = invitation.created_at + timedelta(hours=72)
    assert abs((invitation.expires_at - expected).total_seconds()) < 5
    entry = Entry.objects.get(kind="invitation.sent")
    assert token not in str(entry.after) and "lea@exemple.fr" not in str(entry.after)
    assert journal.is_reversible("invitation.sent")


@pytest.mark.django_db
def test_an_invitation_by_sms_accepts_overseas_mobiles_and_refuses_landlines(holder, home):
    landline = invite(holder, home, medium="sms", mobile="01 23 45 67 89")
    nonsense = invite(holder, home, medium="sms", mobile="pas un numéro")
    overseas = invite(holder, home, medium="sms", mobile="0692 12 34 56")

    assert landline.status_code == nonsense.status_code == 400
    assert "n'est pas un numéro de mobile" in shown_errors(landline)[0]
    assert "Ce numéro de mobile n'est pas valide." in shown_errors(nonsense)[0]
    assert overseas.status_code == 302
    assert Invitation.objects.get().destination == "+262692123456"
    assert OutboxMessage.objects.get(template="households/notices/invitation_holder").medium == "sms"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"medium": "email", "email": ""}, "Saisissez l'adresse e-mail de la personne invitée."),
        ({"medium": "email", "email": "pas-une-adresse"}, "Saisissez une adresse e-mail valide"),
        ({"medium": "pigeon"}, "Choisissez l'e-mail ou le SMS."),
        ({}, "Choisissez l'e-mail ou le SMS."),
    ],
)
def test_bad_input_on_the_invite_page_sends_nothing(holder, home, data, message):
    response = holder.post(invite_url(home), data)

    assert response.status_code == 400
    assert any(error.startswith(message) for error in shown_errors(response)), shown_errors(response)
    assert not Invitation.objects.exists()
    assert not OutboxMessage.objects.filter(template__startswith="households/").exists()


@pytest.mark.django_db
def test_a_new_invitation_revokes_the_previous_one(holder, home, new_client):
    invite(holder, home, email="ancienne@exemple.fr")
    old_link = last_link("ancienne@exemple.fr")
    invite(holder, home, email="nouvelle@exemple.fr")

    old = open_link(new_client(), old_link)

    assert old.status_code == 410
    assert "Ce lien d'invitation a été annulé" in page_text(old)
    assert Invitation.objects.filter(revoked_at__isnull=True).get().destination == "nouvelle@exemple.fr"
    page = holder.get(invite_url(home))
    assert "Une invitation a déjà été envoyée" in page_text(page)


# --- Who may invite whom ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_child_of_14_cannot_be_invited(holder, home):
    today = timezone.localdate()
    young = PersonFactory(birth_date=today.replace(year=today.year - 15) + timedelta(days=1))
    MembershipFactory(case=home.case, person=young, role=Role.CHILD)

    page = holder.get(invite_url(home, young))
    tried = invite(holder, home, young)

    assert page.status_code == 200
    assert "n'a pas encore 15 ans" in page_text(page)
    assert "Envoyer l'invitation" not in page_text(page)
    assert tried.status_code == 400
    assert "n'a pas encore 15 ans" in page_text(tried)
    assert not Invitation.objects.exists()
    assert not OutboxMessage.objects.filter(template__startswith="households/").exists()


@pytest.mark.django_db
def test_a_member_who_has_an_account_or_the_holder_cannot_be_invited(holder, home):
    member = AccountFactory()
    MembershipFactory(case=home.case, person=member.person, role=Role.OTHER)

    for person, words in ((member.person, "a déjà son compte personnel"), (home.holder, "votre compte existe déjà")):
        response = invite(holder, home, person)
        assert response.status_code == 400
        assert words in page_text(response)
    assert not Invitation.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["partner", "delegated partner", "child"])
def test_only_the_holder_may_invite(client, home, who):
    if who == "child":
        account = AccountFactory(person__birth_date=datetime.date(2005, 1, 1))
        MembershipFactory(case=home.case, person=account.person, role=Role.CHILD)
    else:
        account = AccountFactory(person=home.partner)
        if who == "delegated partner":
            Delegation.objects.create(case=home.case, partner=home.partner, origin=DelegationOrigin.HOLDER)
    sign_in_as(client, account)

    seen = client.get(invite_url(home))
    tried = invite(client, home)

    assert seen.status_code == tried.status_code == 403
    assert "Seul l'allocataire du dossier peut inviter un membre du foyer" in page_text(tried)
    assert home.child.full_name not in page_text(tried)
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_a_foreign_case_or_a_person_of_another_case_is_a_404(holder, home):
    other = make_home()

    foreign_case = invite(holder, home, other.child, case_number=other.case.case_number)
    foreign_person = invite(holder, home, other.child)
    unknown_person = holder.post(f"/mon-foyer/{home.case.case_number}/inviter/999999/", {"medium": "email"})
    garbage_case = holder.get(f"/mon-foyer/<script>/inviter/{home.child.pk}/")
    garbage_id = holder.get(f"/mon-foyer/{home.case.case_number}/inviter/abc/")

    for response in (foreign_case, foreign_person, unknown_person, garbage_case, garbage_id):
        assert response.status_code == 404
        assert "Page introuvable" in page_text(response)
    assert other.child.full_name not in foreign_person.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_inviting_needs_a_signed_in_holder_who_typed_their_password_recently(client, home, settings):
    anonymous = invite(client, home)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(LOGIN)

    sign_in_as(client, home.holder_account)
    session = client.session
    session["_auth_at"] = time.time() - settings.REAUTH_MAX_AGE - 1
    session.save()
    stale = invite(client, home)

    assert stale.status_code == 302
    assert stale["Location"] == "/mon-espace/confirmer-mot-de-passe/?" + urlencode({"next": invite_url(home)})
    assert not Invitation.objects.exists()


# --- Accepting ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_invitee_confirms_the_birth_date_sets_a_password_and_lands_on_the_onboarding(holder, home, new_client):
    # Issue 8, item 2: sent to the e-mail the agency holds for the child, the invitation validates it.
    invite(holder, home, medium="on_file_email", email="")
    invitee = new_client()

    page = open_link(invitee, last_link())
    assert page.status_code == 200
    text = page_text(page)
    assert f"Bonjour {home.child.first_name}, {home.holder.full_name} vous invite" in text
    # Nothing of the NIR (its masked form shows the birth year and month): the birth date typed is the proof.
    assert home.child.nir_masked not in text and home.child.nir not in page.content.decode()
    assert "no-store" in page["Cache-Control"]

    response = accept(invitee, home.child)

    assert response.status_code == 302
    assert response["Location"] == ONBOARDING
    account = Account.objects.get(person=home.child)
    assert account.check_password(NEW_PASSWORD)
    assert account.email == home.child.email_on_file and account.email_verified_at is not None
    assert invitee.get(ONBOARDING).status_code == 200
    invitation = Invitation.objects.get()
    assert invitation.used_at is not None
    assert Entry.objects.get(kind="account.created", person_id=home.child.pk).after["via"] == "invitation"
    assert Entry.objects.filter(kind="invitation.accepted").exists()
    to_holder = OutboxMessage.objects.get(template="accounts/notices/member_account_created")
    assert to_holder.to == home.holder_account.email
    assert "à partir d'une invitation" in to_holder.body


@pytest.mark.django_db
def test_an_invitation_by_sms_to_the_mobile_on_file_validates_it(holder, home, new_client):
    invite(holder, home, medium="on_file_sms", email="")
    invitee = new_client()
    # The SMS carries a code, not a link (issue 7, item 17): the invitee types it on the site.
    body = OutboxMessage.objects.get(template="households/notices/invitation_holder").body
    code = re.search(r"\b([A-Z2-9]{5}-[A-Z2-9]{5})\b", body).group(1)
    assert invitee.post("/invitation/saisir-le-code/", {"code": code})["Location"] == CONFIRM

    accept(invitee, home.child)

    account = Account.objects.get(person=home.child)
    assert account.mobile == home.child.mobile_on_file and account.mobile_verified_at is not None


@pytest.mark.django_db
def test_the_link_works_once(holder, home, new_client):
    invite(holder, home)
    link = last_link()
    first = new_client()
    open_link(first, link)
    accept_with_code(first, home.child)

    again = open_link(new_client(), link)

    assert again.status_code == 410
    assert "Ce lien d'invitation a déjà servi" in page_text(again)
    assert Entry.objects.filter(kind="account.created").count() == 1


@pytest.mark.django_db
def test_an_expired_link_is_refused_with_a_french_page_and_changes_nothing(holder, home, new_client):
    invite(holder, home)
    link = last_link()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    invitee = new_client()

    response = open_link(invitee, link)
    posted = accept(invitee, home.child)

    assert response.status_code == posted.status_code == 410
    assert "Ce lien d'invitation a expiré" in page_text(response)
    assert not Account.objects.filter(person=home.child).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["inconnu", "x" * 43, "a" * 500, "%00", "confirmer"])
def test_an_unknown_link_is_a_404_with_a_french_page(client, token):
    response = open_link(client, f"/invitation/{token}/")

    assert response.status_code == 404
    assert "Ce lien d'invitation n'est pas valide" in page_text(response)


@pytest.mark.django_db
def test_wrong_birth_dates_count_down_then_revoke_the_link(holder, home, new_client):
    invite(holder, home)
    invitee = new_client()
    open_link(invitee, last_link())
    wrong = home.child.birth_date - timedelta(days=3)

    answers = [accept(invitee, home.child, birth_date=wrong) for _ in range(5)]

    assert [a.status_code for a in answers] == [400, 400, 400, 400, 410]
    assert shown_errors(answers[0])[0] == (
        "Cette date de naissance n'est pas celle de la personne invitée. Il vous reste 4 essais."
    )
    assert shown_errors(answers[3])[0].endswith("Il vous reste 1 essai.")
    assert "Trop de dates de naissance incorrectes" in page_text(answers[4])
    assert Invitation.objects.get().revoked_at is not None
    assert accept(invitee, home.child).status_code == 410
    assert not Account.objects.filter(person=home.child).exists()


@pytest.mark.django_db
def test_a_refused_password_is_explained_and_the_link_still_works(holder, home, new_client):
    invite(holder, home)
    invitee = new_client()
    open_link(invitee, last_link())

    weak = accept(invitee, home.child, password="motdepasse")
    personal = accept(invitee, home.child, password=f"{home.child.birth_name}-2024A")

    assert weak.status_code == personal.status_code == 400
    assert shown_errors(weak)
    assert any("ne doit pas contenir votre nom" in error for error in shown_errors(personal))
    assert accept(invitee, home.child).status_code == 302


@pytest.mark.django_db
def test_someone_else_signed_in_is_told_the_invitation_is_not_for_them(holder, home):
    invite(holder, home)

    response = open_link(holder, last_link())
    posted = accept(holder, home.child)

    assert response.status_code == posted.status_code == 403
    assert "Cette invitation ne vous est pas destinée" in page_text(response)
    assert not Account.objects.filter(person=home.child).exists()
    assert Invitation.objects.get().used_at is None


@pytest.mark.django_db
def test_a_member_who_opened_an_account_meanwhile_finds_the_link_used(holder, home, new_client):
    invite(holder, home)
    AccountFactory(person=home.child)

    response = open_link(new_client(), last_link())

    assert response.status_code == 410
    assert "a déjà servi" in page_text(response)


@pytest.mark.django_db
def test_a_link_stops_working_when_the_invitee_leaves_the_case(holder, home, new_client):
    invite(holder, home)
    Membership.objects.filter(case=home.case, person=home.child).delete()

    response = open_link(new_client(), last_link())

    assert response.status_code == 410
    assert not Account.objects.filter(person=home.child).exists()


@pytest.mark.django_db
def test_undoing_an_invitation_revokes_the_link_and_restores_the_previous_one(holder, home, new_client):
    invite(holder, home, email="ancienne@exemple.fr")
    old_link = last_link("ancienne@exemple.fr")
    invite(holder, home, email="nouvelle@exemple.fr")
    new_link = last_link("nouvelle@exemple.fr")

    journal.undo(Entry.objects.filter(kind="invitation.sent").latest("id"))

    assert open_link(new_client(), new_link).status_code == 410
    assert open_link(new_client(), old_link).status_code == 200


@pytest.mark.django_db
def test_the_invitation_page_refuses_wrong_methods(client):
    assert client.put("/invitation/abc/").status_code == 405
    assert client.delete(CONFIRM).status_code == 405


@pytest.mark.django_db
def test_the_new_account_signs_in_with_the_nir_and_its_password(holder, home, new_client):
    invite(holder, home)
    invitee = new_client()
    open_link(invitee, last_link())
    accept_with_code(invitee, home.child)  # the password chosen before the code, kept as its hash meanwhile

    again = new_client()
    response = again.post(LOGIN, {"identifier": home.child.nir, "password": NEW_PASSWORD})

    assert response.status_code == 302
    assert HOLDER_PASSWORD != NEW_PASSWORD
    assert signup_views.INVITATION_SESSION_KEY not in invitee.session


# --- Issue 8, item 2: the holder controls neither proof of an invitation ------------------------------------------


def typed_invitation_accepted(holder, home, new_client, destination=TYPED):
    """The holder types an address; the invitee (or whoever reads it) goes through the link, the birth date, the
    password and the code sent there. Returns the invitee's client and the last response."""
    invite(holder, home, email=destination)
    invitee = new_client()
    open_link(invitee, last_link(destination))
    return invitee, accept_with_code(invitee, home.child, destination)


@pytest.mark.django_db
def test_the_invite_page_offers_the_contacts_on_file_masked_first(holder, home):
    page = holder.get(invite_url(home))
    body, text = page.content.decode(), page_text(page)
    local, _at, domain = home.child.email_on_file.partition("@")

    assert f"Par e-mail, à son adresse connue de la Caf : {local[0]}•••@{domain}" in text
    assert f"Par SMS, à son mobile connu de la Caf : 06 •• •• •• {home.child.mobile_on_file[-2:]}" in text
    assert "Par e-mail, à une autre adresse que j'indique" in text
    # The holder never reads the invitee's contacts in full, not even in the page's source.
    assert home.child.email_on_file not in body and home.child.mobile_on_file[3:] not in body
    assert re.search(r'value="on_file_email"\s+checked', body)  # the safe choice comes first, preselected


@pytest.mark.django_db
def test_an_invitation_to_the_email_on_file_asks_no_code_tells_no_one_else_and_validates_it(holder, home, new_client):
    response = invite(holder, home, medium="on_file_email", email="garbage typed then abandoned")
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.destination, invitation.destination_source) == (home.child.email_on_file, "on_file")
    shown = [str(m) for m in holder.get("/mon-foyer/").context["messages"]]
    assert home.child.email_on_file not in " ".join(shown)  # the success message masks it too
    assert not OutboxMessage.objects.filter(template=WARNING).exists()
    invitee = new_client()
    open_link(invitee, last_link(home.child.email_on_file))

    accepted = accept(invitee, home.child)

    assert accepted.status_code == 302 and accepted["Location"] == ONBOARDING
    account = Account.objects.get(person=home.child)
    assert services.validated_contacts(home.child.pk) == {"email": home.child.email_on_file}
    assert not OneTimeCode.objects.filter(purpose=Purpose.INVITATION).exists()
    assert Entry.objects.get(kind="invitation.accepted").after["contact_validated"] is True
    assert account.email_verified_at is not None


@pytest.mark.django_db
def test_the_holder_typing_the_address_on_file_counts_as_the_address_on_file(holder, home):
    invite(holder, home, email=home.child.email_on_file.upper())

    assert Invitation.objects.get().destination_source == "on_file"
    assert not OutboxMessage.objects.filter(template=WARNING).exists()


@pytest.mark.django_db
def test_a_holder_typed_address_asks_a_code_there_and_never_becomes_validated(holder, home, new_client):
    invite(holder, home)
    assert Invitation.objects.get().destination_source == "typed"
    invitee = new_client()
    page = open_link(invitee, last_link(TYPED))
    assert "nous y enverrons un code" in page_text(page) and "ne sera pas enregistrée" in page_text(page)

    first = accept(invitee, home.child)

    assert first.status_code == 302 and first["Location"] == CONFIRM
    assert not Account.objects.filter(person=home.child).exists()  # not before the code
    code_message = OutboxMessage.objects.filter(template="verification/invitation").get()
    assert code_message.to == TYPED
    code_page = invitee.get(CONFIRM)
    assert "l•••@exemple.fr" in page_text(code_page) and "C'est l'allocataire qui a indiqué" in page_text(code_page)
    # The password is kept as its hash while the code travels, never in clear.
    proof = invitee.session[signup_views.INVITATION_PROOF_SESSION_KEY]
    assert NEW_PASSWORD not in str(dict(invitee.session.items())) and proof["password_hash"].startswith("argon2")

    done = invitee.post(CONFIRM, {"code": last_code(TYPED)})

    assert done.status_code == 302 and done["Location"] == MIGRATION_CONTACT
    account = Account.objects.get(person=home.child)
    assert account.check_password(NEW_PASSWORD)
    assert account.email == "" and account.email_verified_at is None and account.mobile_verified_at is None
    assert services.validated_contacts(home.child.pk) == {}
    assert not Entry.objects.filter(kind="contact.validated", person_id=home.child.pk).exists()
    accepted = Entry.objects.get(kind="invitation.accepted")
    assert accepted.after["destination_source"] == "typed" and accepted.after["contact_validated"] is False
    assert TYPED not in str(accepted.after)
    # Signed in, the invitee's next step is to validate a contact of their own.
    assert invitee.get(ONBOARDING)["Location"] == MIGRATION_CONTACT
    assert OutboxMessage.objects.filter(template="accounts/notices/member_account_created").exists()


@pytest.mark.django_db
def test_reset_and_login_codes_never_go_to_the_holder_typed_address(holder, home, new_client):
    typed_invitation_accepted(holder, home, new_client)
    account = Account.objects.get(person=home.child)

    destinations = services.reset_destinations(home.child)
    for medium in ("email", "sms"):
        OneTimeCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))  # past the resend delay
        assert services.password_reset_request(person=home.child, medium=medium)

    assert TYPED not in destinations.values()
    assert destinations == {"email": home.child.email_on_file, "sms": home.child.mobile_on_file}
    resets = OutboxMessage.objects.filter(template="verification/reset")
    assert {m.to for m in resets} == {home.child.email_on_file, home.child.mobile_on_file}
    assert services.login_code_destination(account)[1] != TYPED


@pytest.mark.django_db
def test_with_no_contact_on_file_a_typed_address_still_validates_nothing(holder, home, new_client):
    type(home.child).objects.filter(pk=home.child.pk).update(email_on_file="", mobile_on_file="")
    home.child.refresh_from_db()
    page = holder.get(invite_url(home))
    assert "La Caf ne connaît ni e-mail ni mobile pour cette personne" in page_text(page)

    typed_invitation_accepted(holder, home, new_client)

    assert services.validated_contacts(home.child.pk) == {}
    assert services.reset_destinations(home.child) == {}  # until the person validates a contact of their own
    assert not OutboxMessage.objects.filter(template__in=[WARNING, OPENED]).exists()
    assert not Entry.objects.filter(kind="invitation.on_file_told").exists()


@pytest.mark.django_db
def test_the_invitee_s_contacts_on_file_are_told_when_the_holder_types_another(holder, home, new_client):
    invite(holder, home)

    warnings = OutboxMessage.objects.filter(template=WARNING)
    assert {(m.medium, m.to) for m in warnings} == {
        ("email", home.child.email_on_file),
        ("sms", home.child.mobile_on_file),
    }
    email, sms = warnings.get(medium="email"), warnings.get(medium="sms")
    assert "l•••@exemple.fr" in email.body and TYPED not in email.body
    assert home.holder.full_name in email.body and "« Créer mon compte »" in email.body
    assert "09 69 32 52 52" in sms.body and "http" not in sms.body and "l•••@exemple.fr" in sms.body
    told = Entry.objects.get(kind="invitation.on_file_told")
    assert told.person_id == home.child.pk and told.after["stage"] == "sent"
    assert sorted(told.after["media"]) == ["email", "sms"]

    invitee = new_client()
    open_link(invitee, last_link(TYPED))
    accept_with_code(invitee, home.child)

    opened = OutboxMessage.objects.filter(template=OPENED)
    assert {m.to for m in opened} == {home.child.email_on_file, home.child.mobile_on_file}
    opened_email = opened.get(medium="email")
    assert "Ce n'était pas moi" in opened_email.body
    assert re.search(r"^http://localhost/ce-n-etait-pas-moi/\S+/$", opened_email.body, re.M)
    assert "http" not in opened.get(medium="sms").body
    assert Entry.objects.filter(kind="invitation.on_file_told", after__stage="accepted").exists()


@pytest.mark.django_db
def test_the_warnings_to_the_contacts_on_file_are_limited_per_hour(holder, home):
    for n in range(5):
        assert invite(holder, home, email=f"adresse{n}@exemple.fr").status_code == 302

    assert OutboxMessage.objects.filter(template=WARNING, medium="email").count() == 3
    assert OutboxMessage.objects.filter(template=WARNING, medium="sms").count() == 3


@pytest.mark.django_db
def test_the_not_me_link_of_the_notice_locks_whoever_opened_the_account_out(holder, home, new_client):
    typed_invitation_accepted(holder, home, new_client)
    body = OutboxMessage.objects.get(template=OPENED, medium="email").body
    path = re.search(r"http://localhost(/\S*ce-n-etait-pas-moi/\S+/)", body).group(1)
    owner = new_client()

    shown = owner.get(path, follow=True)
    assert shown.status_code == 200 and shown.redirect_chain
    confirmed = owner.post(shown.redirect_chain[-1][0])

    assert confirmed.status_code == 200, page_text(confirmed)
    account = Account.objects.get(person=home.child)
    assert not account.check_password(NEW_PASSWORD)
    assert Entry.objects.filter(kind="security.reported", person_id=home.child.pk).exists()


@pytest.mark.django_db
def test_the_code_of_a_typed_invitation_works_only_in_the_session_that_asked_for_it(holder, home, new_client):
    invite(holder, home)
    link = last_link(TYPED)
    asker, other = new_client(), new_client()
    open_link(asker, link)
    accept(asker, home.child)
    code = last_code(TYPED)

    open_link(other, link)
    typed_elsewhere = other.post(CONFIRM, {"code": code})  # no birth date in that session: still the first step

    assert typed_elsewhere.status_code == 400
    assert not Account.objects.filter(person=home.child).exists()
    assert asker.post(CONFIRM, {"code": code})["Location"] == MIGRATION_CONTACT


@pytest.mark.django_db
def test_wrong_codes_are_counted_and_a_new_code_can_be_asked(holder, home, new_client, settings):
    invite(holder, home)
    invitee = new_client()
    open_link(invitee, last_link(TYPED))
    accept(invitee, home.child)
    right = last_code(TYPED)
    wrong = "000000" if right != "000000" else "111111"

    answers = [invitee.post(CONFIRM, {"code": wrong}) for _ in range(5)]

    assert [a.status_code for a in answers] == [400] * 5
    assert shown_errors(answers[0])[0] == "Code incorrect. Il vous reste 4 essais."
    assert invitee.post(CONFIRM, {"code": right}).status_code == 400  # spent
    assert not Account.objects.filter(person=home.child).exists()
    OneTimeCode.objects.update(created_at=timezone.now() - timedelta(seconds=settings.OTP_RESEND_DELAY + 1))
    assert invitee.post(CONFIRM, {"resend": "1"})["Location"] == CONFIRM
    assert last_code(TYPED) != right or OneTimeCode.objects.filter(purpose=Purpose.INVITATION).count() == 2
    assert invitee.post(CONFIRM, {"code": last_code(TYPED)})["Location"] == MIGRATION_CONTACT


@pytest.mark.django_db
def test_starting_again_from_the_code_step_asks_the_birth_date_again(holder, home, new_client):
    invite(holder, home)
    invitee = new_client()
    open_link(invitee, last_link(TYPED))
    accept(invitee, home.child)

    restarted = invitee.post(CONFIRM, {"restart": "1"})

    assert restarted["Location"] == CONFIRM
    assert "Date de naissance" in page_text(invitee.get(CONFIRM))
    assert signup_views.INVITATION_PROOF_SESSION_KEY not in invitee.session


@pytest.mark.django_db
def test_the_person_then_validates_a_contact_of_their_own_and_it_becomes_the_recovery_path(holder, home, new_client):
    invitee, _done = typed_invitation_accepted(holder, home, new_client)

    sent = invitee.post(MIGRATION_CONTACT, {"medium": "email", "email": home.child.email_on_file, "mobile": ""})
    assert sent.status_code == 302
    confirmed = invitee.post(MIGRATION_CONTACT + "code/", {"code": last_code(home.child.email_on_file)})

    assert confirmed.status_code == 302
    assert services.validated_contacts(home.child.pk) == {"email": home.child.email_on_file}
    assert services.reset_destinations(home.child)["email"] == home.child.email_on_file


@pytest.mark.django_db
def test_the_service_refuses_to_open_a_typed_invitation_without_its_code(home):
    invitation = invitations.invitation_send(
        case=home.case, person=home.child, created_by=home.holder, medium="email", destination=TYPED, link=str
    )

    with pytest.raises(signup.InvitationCodeRequired):
        signup.invitation_accept(invitation=invitation, password=NEW_PASSWORD)
    assert not Account.objects.filter(person=home.child).exists()


@pytest.mark.django_db
def test_an_approved_request_s_invitation_still_validates_the_contact_the_member_proved(home):
    request = invitations.signup_request_create(
        case=home.case, person=home.child, medium="email", destination=TYPED, decide_link=lambda r: "/"
    )
    invitation = invitations.signup_request_approve(signup_request=request, by=home.holder, link=str)
    assert invitation.destination_source == "proven"
    assert not OutboxMessage.objects.filter(template=WARNING).exists()

    signup.invitation_accept(invitation=invitation, password=NEW_PASSWORD)

    assert services.validated_contacts(home.child.pk) == {"email": TYPED}
