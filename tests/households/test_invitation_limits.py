"""Invitations are rate-limited like codes (issue 7, item 4): at most INVITATIONS_PER_HOUR_PER_DESTINATION to one
address or mobile and INVITATIONS_PER_HOUR_PER_HOLDER from one holder in any hour, counted from the invitations in
the database (so every process sees the same count). Past a limit nothing is sent and nothing changes; the page
says when the holder can try again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from moncompte.households import invitations
from moncompte.households.models import Invitation, SignupRequest
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from tests.helpers import page_text, shown_errors

TARGET = "lea@exemple.fr"


def invite(client, h, person=None, email=TARGET):
    return client.post(
        f"/mon-foyer/{h.case.case_number}/inviter/{(person or h.child).pk}/",
        {"medium": "email", "email": email, "mobile": ""},
    )


def send(h, destination=TARGET, person=None, origin=Invitation.Origin.HOLDER):
    return invitations.invitation_send(
        case=h.case,
        person=person or h.child,
        created_by=h.holder,
        medium="email",
        destination=destination,
        link=lambda token: f"http://localhost/invitation/{token}/",
        origin=origin,
    )


def snapshot():
    return (
        list(Invitation.objects.order_by("id").values_list("id", "revoked_at", "used_at")),
        OutboxMessage.objects.count(),
        Entry.objects.filter(kind="invitation.sent").count(),
    )


def age(minutes: int) -> None:
    """Make every invitation so far `minutes` older."""
    for invitation in Invitation.objects.all():
        Invitation.objects.filter(pk=invitation.pk).update(
            created_at=invitation.created_at - timedelta(minutes=minutes)
        )


@pytest.mark.django_db
def test_the_sixth_invitation_to_one_address_within_an_hour_is_refused_and_changes_nothing(holder, home):
    for _ in range(5):
        assert invite(holder, home).status_code == 302
    age(20)  # the five went 20 minutes ago: the oldest leaves the hour in 40 minutes
    before = snapshot()

    refused = invite(holder, home)

    assert refused.status_code == 400
    assert shown_errors(refused) == [
        "Trop d'invitations ont été envoyées en une heure. Vous pourrez en envoyer une nouvelle dans 40 minutes."
    ]
    assert "Trop d'invitations ont été envoyées en une heure" in page_text(refused)
    assert snapshot() == before  # nothing sent, nothing revoked, nothing journaled
    assert invitations.active_invitation(case=home.case, person=home.child) is not None  # the last link still works


@pytest.mark.django_db
def test_the_limit_per_address_counts_every_member_invited_there(holder, home):
    for person in (home.child, home.partner, home.child, home.partner, home.child):
        assert invite(holder, home, person).status_code == 302

    assert invite(holder, home, home.partner).status_code == 400
    assert invite(holder, home, home.partner, email="autre@exemple.fr").status_code == 302


@pytest.mark.django_db
def test_the_limit_per_holder_counts_every_address(holder, home, settings):
    settings.INVITATIONS_PER_HOUR_PER_HOLDER = 3
    for n in range(3):
        assert invite(holder, home, email=f"adresse{n}@exemple.fr").status_code == 302
    before = snapshot()

    refused = invite(holder, home, email="encore-une@exemple.fr")

    assert refused.status_code == 400
    assert "Trop d'invitations ont été envoyées en une heure." in shown_errors(refused)[0]
    assert snapshot() == before


@pytest.mark.django_db
def test_an_hour_later_the_holder_may_invite_again(home):
    for _ in range(5):
        send(home)
    with pytest.raises(invitations.InvitationThrottled) as refused:
        send(home)
    assert 3590 <= refused.value.retry_after <= 3600

    age(61)

    assert send(home).destination == TARGET


@pytest.mark.django_db
def test_the_limits_come_from_settings(home, settings):
    settings.INVITATIONS_PER_HOUR_PER_DESTINATION = 2
    send(home)
    send(home)
    with pytest.raises(invitations.InvitationThrottled):
        send(home)


@pytest.mark.django_db
def test_an_approved_request_is_not_refused_its_contact_was_proven_by_a_code(home):
    """The member proved that contact with a code (limited per destination and hour by the codes' own rules): the
    holder's approval always sends the invitation, and it counts towards the address's hourly total."""
    for _ in range(5):
        send(home)
    signup_request = SignupRequest.objects.create(
        case=home.case, person=home.child, medium="email", destination=TARGET
    )

    invitation = invitations.signup_request_approve(
        signup_request=signup_request, by=home.holder, link=lambda token: f"http://localhost/invitation/{token}/"
    )

    assert invitation.origin == Invitation.Origin.APPROVAL
    assert (
        Invitation.objects.filter(destination=TARGET, created_at__gt=timezone.now() - timedelta(hours=1)).count() == 6
    )
