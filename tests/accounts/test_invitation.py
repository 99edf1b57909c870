"""Invitations by the holder (issue 3, item 2): a member aged 15+ gets a single-use link that expires, confirms their
birth date, chooses their password; the contact the link went to becomes validated and the holder is told."""

import datetime
import hashlib
import re
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.http import urlencode

from moncompte.accounts import signup_views
from moncompte.accounts.models import Account
from moncompte.households.models import Delegation, DelegationOrigin, Invitation, Membership, Role
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from tests.accounts.test_signup import HOLDER_PASSWORD, NEW_PASSWORD, make_home, shown_errors, sign_in
from tests.conftest import page_text
from tests.factories import AccountFactory, MembershipFactory, PersonFactory

LOGIN = "/connexion/"
ONBOARDING = "/premiere-connexion/bienvenue/"
CONFIRM = "/invitation/confirmer/"
LINK = re.compile(r"http://localhost(/invitation/[\w-]+/)")


@pytest.fixture
def new_client(db):
    def make():
        return Client(HTTP_HOST="localhost")

    return make


@pytest.fixture
def home(db):
    return make_home()


@pytest.fixture
def holder(client, home):
    """The test client, signed in as the holder of `home`."""
    return sign_in(client, home.holder_account)


def invite_url(h, person=None, case_number=None):
    return f"/mon-foyer/{case_number or h.case.case_number}/inviter/{(person or h.child).pk}/"


def invite(client, h, person=None, *, medium="email", email="lea@exemple.fr", mobile="", case_number=None):
    return client.post(invite_url(h, person, case_number), {"medium": medium, "email": email, "mobile": mobile})


def link_in(message: OutboxMessage) -> str:
    return LINK.search(message.body).group(1)


def last_link(to: str | None = None) -> str:
    messages = OutboxMessage.objects.filter(template__startswith="households/notices/invitation_").order_by("-id")
    if to:
        messages = messages.filter(to=to)
    return link_in(messages.first())


def open_link(visitor, path):
    """Open the link as received: the page moves the token out of the address bar."""
    response = visitor.get(path)
    if response.status_code == 302:
        assert response["Location"] == CONFIRM
        return visitor.get(CONFIRM)
    return response


def accept(visitor, person, password=NEW_PASSWORD, birth_date=None):
    return visitor.post(
        CONFIRM,
        {
            "birth_date": (birth_date or person.birth_date).isoformat(),
            "password1": password,
            "password2": password,
        },
    )


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
    assert OutboxMessage.objects.get().medium == "sms"


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
    sign_in(client, account)

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

    sign_in(client, home.holder_account)
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
    invite(holder, home)
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
    assert account.email == "lea@exemple.fr" and account.email_verified_at is not None
    assert invitee.get(ONBOARDING).status_code == 200
    invitation = Invitation.objects.get()
    assert invitation.used_at is not None
    assert Entry.objects.get(kind="account.created", person_id=home.child.pk).after["via"] == "invitation"
    assert Entry.objects.filter(kind="invitation.accepted").exists()
    to_holder = OutboxMessage.objects.get(template="accounts/notices/member_account_created")
    assert to_holder.to == home.holder_account.email
    assert "à partir d'une invitation" in to_holder.body


@pytest.mark.django_db
def test_an_invitation_by_sms_validates_the_mobile(holder, home, new_client):
    invite(holder, home, medium="sms", mobile="06 12 34 56 78")
    invitee = new_client()
    # The SMS carries a code, not a link (issue 7, item 17): the invitee types it on the site.
    body = OutboxMessage.objects.get(template="households/notices/invitation_holder").body
    code = re.search(r"\b([A-Z2-9]{5}-[A-Z2-9]{5})\b", body).group(1)
    assert invitee.post("/invitation/saisir-le-code/", {"code": code})["Location"] == CONFIRM

    accept(invitee, home.child)

    account = Account.objects.get(person=home.child)
    assert account.mobile == "+33612345678" and account.mobile_verified_at is not None


@pytest.mark.django_db
def test_the_link_works_once(holder, home, new_client):
    invite(holder, home)
    link = last_link()
    first = new_client()
    open_link(first, link)
    accept(first, home.child)

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
    accept(invitee, home.child)

    again = new_client()
    response = again.post(LOGIN, {"identifier": home.child.nir, "password": NEW_PASSWORD})

    assert response.status_code == 302
    assert HOLDER_PASSWORD != NEW_PASSWORD
    assert signup_views.INVITATION_SESSION_KEY not in invitee.session
