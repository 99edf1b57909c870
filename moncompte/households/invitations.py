"""Invitations to open a member's account, and members' signup requests waiting for the holder (issue 3, items 1-2).

An invitation is a single-use link: its token is drawn with `secrets`, only its SHA-256 hash is stored, it expires
after INVITATION_LIFETIME_HOURS and a newer invitation to the same person revokes it. A signup request is made by a
member aged 15+ for whom the agency holds no contact: it waits until the holder approves it (an invitation is then
sent to the contact the member proved) or refuses it.

Permissions: these services do not check who is asking. Views check the access policy first
(`policy.case_get`, `policy.member_get` with Capability.INVITE_MEMBER or APPROVE_SIGNUP). Messages are queued in the
caller's transaction; links are absolute URLs built by the caller, from SITE_URL (`moncompte.lib.links`).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import math
import secrets
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from moncompte.households import policy
from moncompte.households.models import Case, Invitation, Membership, Role, SignupRequest
from moncompte.identity.models import Person
from moncompte.identity.phones import PhoneError, parse_mobile
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.lib import dates
from moncompte.messaging.models import Medium, OutboxMessage
from moncompte.messaging.services import message_queue, person_notify
from moncompte.verification.services import mask_destination

#: Builds the absolute URL of an invitation from its token (the view passes it: it knows the route).
LinkBuilder = Callable[[str], str]
TOKEN_BYTES = 32
#: An SMS carries no link (people are taught that such SMS are phishing): an invitation by SMS carries a code instead,
#: typed on the site's invitation page. No 0/O, 1/I/L or U to misread; 10 characters of 30 is about 49 bits, and the
#: page counts wrong codes (web/signup/views.py), then asks for the birth date as a link does.
INVITATION_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
INVITATION_CODE_LENGTH = 10
#: Warnings to a person's contacts on file (an invitation or an account went to a contact someone else typed), per
#: person, message and medium in any hour: a holder who sends invitation after invitation does not flood them.
ON_FILE_NOTICES_PER_HOUR = 3
Source = Invitation.DestinationSource


class InvitationState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"


class InvitationThrottled(Exception):
    """Too many invitations in the last hour (to this address, or from this holder). Carries a message for the
    person, in the active language, and how many seconds until the next one is accepted."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_code_new() -> str:
    return "".join(secrets.choice(INVITATION_CODE_ALPHABET) for _ in range(INVITATION_CODE_LENGTH))


def invitation_code_display(code: str) -> str:
    """ABCDE-FGHJK: two groups, easier to copy from a phone's screen."""
    return f"{code[:5]}-{code[5:]}"


def invitation_code_normalise(raw: str) -> str:
    """The code as typed: any case, with or without spaces and hyphens."""
    return "".join(c for c in (raw or "").upper() if c.isascii() and c.isalnum())


# --- Contacts on file ------------------------------------------------------------------------------------------


def contacts_on_file(person: Person) -> dict[str, str]:
    """The contacts the agency holds for the person (from the legacy import), by medium, in the form a destination
    takes (an e-mail in lower case, a mobile in E.164). Only for sending: none of them is validated by anyone."""
    contacts = {}
    email = (person.email_on_file or "").strip().lower()
    if email:
        contacts[Medium.EMAIL] = email
    if person.mobile_on_file:
        with contextlib.suppress(PhoneError):  # a landline or garbage in the import: nothing to send to
            contacts[Medium.SMS] = parse_mobile(person.mobile_on_file)
    return contacts


def destination_source(*, person: Person, medium: str, destination: str, origin: str) -> str:
    """Who vouches for an invitation's destination: the member themselves (an approved request: they proved it with a
    code), the agency (a contact it holds for the invitee), or nobody but the holder who typed it."""
    if origin == Invitation.Origin.APPROVAL:
        return Source.PROVEN
    typed = destination.strip().lower() if medium == Medium.EMAIL else destination
    if typed and contacts_on_file(person).get(medium) == typed:
        return Source.ON_FILE
    return Source.TYPED


def contacts_on_file_tell(*, person: Person, template: str, context: dict, besides: str = "") -> list[str]:
    """Tell the person on each contact the agency holds for them, except `besides` (the typed destination). At most
    ON_FILE_NOTICES_PER_HOUR of one template per medium in any hour. Returns the media a message left on."""
    since = timezone.now() - timedelta(hours=1)
    told = []
    for medium, destination in contacts_on_file(person).items():
        if destination == besides:
            continue
        sent = OutboxMessage.objects.filter(
            person_id=person.pk, template=template, medium=medium, created_at__gt=since
        ).count()
        if sent >= ON_FILE_NOTICES_PER_HOUR:
            continue
        message_queue(
            medium=medium,
            to=destination,
            template=template,
            context={**context, "person": person, "here": medium},
            person_id=person.pk,
        )
        told.append(medium)
    return told


# --- Selectors (the caller has checked the policy for `case`) ---------------------------------------------------


def invitable_members(case: Case) -> QuerySet[Membership]:
    """Members of the case aged 15+ who have no account yet: the holder may invite them."""
    return (
        Membership.objects.filter(
            case=case, person__account__isnull=True, person__birth_date__lte=policy.account_age_cutoff()
        )
        .exclude(role=Role.HOLDER)
        .select_related("person")
        .order_by("person__birth_date", "id")
    )


def pending_signup_requests(case: Case) -> QuerySet[SignupRequest]:
    """Members' signup requests waiting for the holder of the case."""
    return (
        SignupRequest.objects.filter(case=case, status=SignupRequest.Status.PENDING)
        .select_related("person")
        .order_by("created_at", "id")
    )


def signup_request_get(*, case: Case, request_id: int) -> SignupRequest:
    """A signup request of this case (raises SignupRequest.DoesNotExist for an id of another case)."""
    return SignupRequest.objects.select_related("person", "case").get(case=case, pk=request_id)


def active_invitation(*, case: Case, person: Person) -> Invitation | None:
    """The invitation of this member that still works, if any."""
    return (
        Invitation.objects.filter(
            case=case, person=person, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-created_at")
        .first()
    )


def invitation_find(token: str) -> Invitation | None:
    """The invitation a link's token designates, whatever its state (None for a token we never issued)."""
    if not token or len(token) > 100:
        return None
    return (
        Invitation.objects.select_related("case", "person", "created_by").filter(token_hash=token_hash(token)).first()
    )


def invitation_find_by_code(raw: str) -> Invitation | None:
    """The SMS invitation a typed code designates, whatever its state (None for a code we never sent)."""
    code = invitation_code_normalise(raw)
    if len(code) != INVITATION_CODE_LENGTH:
        return None
    invitation = invitation_find(code)
    return invitation if invitation is not None and invitation.medium == Medium.SMS else None


def invitation_state(invitation: Invitation) -> InvitationState:
    if invitation.used_at is not None:
        return InvitationState.USED
    if invitation.revoked_at is not None:
        return InvitationState.REVOKED
    if invitation.expires_at <= timezone.now():
        return InvitationState.EXPIRED
    if not Membership.objects.filter(case_id=invitation.case_id, person_id=invitation.person_id).exists():
        return InvitationState.REVOKED  # no longer a member of the case (a separation processed meanwhile)
    return InvitationState.VALID


# --- Invitations --------------------------------------------------------------------------------------------------


def _revoke_active(person: Person, now: datetime.datetime) -> list[int]:
    ids = list(
        Invitation.objects.filter(person=person, used_at__isnull=True, revoked_at__isnull=True).values_list(
            "id", flat=True
        )
    )
    Invitation.objects.filter(pk__in=ids).update(revoked_at=now)
    return ids


def _check_send_limits(*, created_by: Person | None, destination: str, now: datetime.datetime) -> None:
    """At most INVITATIONS_PER_HOUR_PER_DESTINATION invitations to one address or number, and
    INVITATIONS_PER_HOUR_PER_HOLDER from one person, in any hour (sliding). Counted from the invitations themselves,
    so every process sees the same count; the caller holds the sender's row lock (see `invitation_send`)."""
    hour_ago = now - timedelta(hours=1)
    limits = [(Invitation.objects.filter(destination=destination), settings.INVITATIONS_PER_HOUR_PER_DESTINATION)]
    if created_by is not None:
        limits.append((Invitation.objects.filter(created_by=created_by), settings.INVITATIONS_PER_HOUR_PER_HOLDER))
    for sent, limit in limits:
        times = list(sent.filter(created_at__gt=hour_ago).order_by("created_at").values_list("created_at", flat=True))
        if len(times) >= limit:
            wait = (times[-limit] + timedelta(hours=1) - now).total_seconds() if limit > 0 else 3600
            raise InvitationThrottled(
                _(
                    "Trop d'invitations ont été envoyées en une heure. Vous pourrez en envoyer une nouvelle dans "
                    "%(delay)s."
                )
                % {"delay": dates.in_minutes(wait)},
                retry_after=max(1, math.ceil(wait)),
            )


@transaction.atomic
def invitation_send(
    *,
    case: Case,
    person: Person,
    created_by: Person | None,
    medium: str,
    destination: str,
    link: LinkBuilder,
    origin: str = Invitation.Origin.HOLDER,
) -> Invitation:
    """Send a single-use link to `destination` (by SMS: a code to type on the site, never a link) so the member opens
    their own account. Any earlier invitation of the member that still works is revoked: only the newest opens it.

    A holder's invitation raises InvitationThrottled past the hourly limits, before anything changes. An approved
    request's is not limited here: the member proved that contact with a code, which has its own hourly limits.

    Issue 8, item 2: the holder who types the destination also knows the invitee's birth date, so a typed destination
    proves nothing. The invitation records who vouches for it (`destination_source`): sent to a contact the agency
    holds for the invitee, it may become their validated contact once used; sent to a typed one, the invitee's
    contacts on file are told now, and the acceptance asks a code and validates nothing (accounts.signup)."""
    now = timezone.now()
    if origin == Invitation.Origin.HOLDER:
        if created_by is not None:
            # One sender's invitations are counted one at a time (on PostgreSQL; SQLite's IMMEDIATE transactions
            # already take the write lock at BEGIN), so two tabs cannot both pass the count.
            Person.objects.select_for_update().filter(pk=created_by.pk).first()
        _check_send_limits(created_by=created_by, destination=destination, now=now)
    revoked = _revoke_active(person, now)
    by_sms = medium == Medium.SMS
    token = invitation_code_new() if by_sms else secrets.token_urlsafe(TOKEN_BYTES)
    source = destination_source(person=person, medium=medium, destination=destination, origin=origin)
    invitation = Invitation.objects.create(
        case=case,
        person=person,
        origin=origin,
        created_by=created_by,
        medium=medium,
        destination=destination,
        destination_source=source,
        token_hash=token_hash(token),
        expires_at=now + timedelta(hours=settings.INVITATION_LIFETIME_HOURS),
    )
    template = (
        "households/notices/invitation_holder"
        if origin == Invitation.Origin.HOLDER
        else "households/notices/invitation_approved"
    )
    message_queue(
        medium=medium,
        to=destination,
        template=template,
        context={
            "person": person,
            "holder": created_by,
            # By SMS, the code to type on the site's invitation page; by e-mail, the link.
            "link": "" if by_sms else link(token),
            "code": invitation_code_display(token) if by_sms else "",
            "expires_at": timezone.localtime(invitation.expires_at),
        },
        person_id=person.pk,
    )
    journal.record(
        "invitation.sent",
        person_id=person.pk,
        case_number=case.case_number,
        before={"revoked_invitations": revoked},
        after={
            "invitation": invitation.pk,
            "origin": origin,
            "medium": medium,
            "destination": mask_destination(destination),
            "destination_source": source,
            "by": created_by.pk if created_by else None,
        },
    )
    if source == Source.TYPED:
        told = contacts_on_file_tell(
            person=person,
            template="households/notices/warning_invitation_elsewhere",
            context={
                "holder": created_by,
                "medium": medium,
                "destination": mask_destination(destination),
                "when": timezone.localtime(now),
                "expires_at": timezone.localtime(invitation.expires_at),
            },
            besides=destination,
        )
        if told:
            journal.record(
                "invitation.on_file_told",
                person_id=person.pk,
                case_number=case.case_number,
                after={
                    "invitation": invitation.pk,
                    "stage": "sent",
                    "media": told,
                    "destination": mask_destination(destination),
                },
            )
    return invitation


@journal.register_undo("invitation.sent")
def _undo_invitation_sent(entry: Entry) -> None:
    # The link stops working; the invitations it had replaced work again if they are still unused and not expired.
    now = timezone.now()
    Invitation.objects.filter(pk=entry.after.get("invitation"), revoked_at__isnull=True).update(revoked_at=now)
    Invitation.objects.filter(
        pk__in=entry.before.get("revoked_invitations", []), used_at__isnull=True, expires_at__gt=now
    ).update(revoked_at=None)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, reason: str) -> Invitation:
    """Stop a link from working (too many wrong birth dates typed on it, the holder's decision…)."""
    updated = Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    invitation.refresh_from_db(fields=["revoked_at"])
    if updated:
        journal.record(
            "invitation.revoked",
            person_id=invitation.person_id,
            case_number=invitation.case.case_number,
            after={"invitation": invitation.pk, "reason": reason},
        )
    return invitation


@transaction.atomic
def invitation_use(*, invitation: Invitation) -> Invitation:
    """Mark the link used (once: raises Invitation.DoesNotExist if it no longer works), in the transaction that
    opens the account; the member's other links and pending signup requests close with it."""
    now = timezone.now()
    locked = (
        Invitation.objects.select_for_update()
        .filter(pk=invitation.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if locked is None:
        raise Invitation.DoesNotExist
    locked.used_at = now
    locked.save(update_fields=["used_at"])
    journal.record(
        "invitation.accepted",
        person_id=locked.person_id,
        case_number=invitation.case.case_number,
        after={
            "invitation": locked.pk,
            "medium": locked.medium,
            "destination": mask_destination(locked.destination),
            "destination_source": locked.destination_source,
            # A destination the holder typed is never validated by the invitation (accounts.signup).
            "contact_validated": locked.destination_source != Source.TYPED,
        },
    )
    member_signup_closed(person=locked.person)
    return locked


@transaction.atomic
def member_signup_closed(*, person: Person) -> None:
    """The member has an account now: their other links stop working and their pending requests are cancelled."""
    now = timezone.now()
    Invitation.objects.filter(person=person, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    SignupRequest.objects.filter(person=person, status=SignupRequest.Status.PENDING).update(
        status=SignupRequest.Status.CANCELLED, decided_at=now
    )


# --- Signup requests ------------------------------------------------------------------------------------------------


def signup_request_receipt(*, medium: str, destination: str, person_id: int | None = None) -> None:
    """Tell the requester, on the contact they proved, that their request is recorded. The text says nothing about
    whether their details matched a member: the signup pages send it in both cases."""
    message_queue(
        medium=medium,
        to=destination,
        template="households/notices/invitation_request_received",
        context={"lifetime_hours": settings.INVITATION_LIFETIME_HOURS},
        person_id=person_id,
    )


@transaction.atomic
def signup_request_create(
    *, case: Case, person: Person, medium: str, destination: str, decide_link: Callable[[SignupRequest], str]
) -> SignupRequest:
    """A member with no contact on file proved `destination` by a code and asks to open an account: the request
    waits for the holder, who is told (on their validated contacts). A pending request of the same member in the
    same case is replaced."""
    now = timezone.now()
    replaced = list(
        SignupRequest.objects.filter(case=case, person=person, status=SignupRequest.Status.PENDING).values_list(
            "id", flat=True
        )
    )
    SignupRequest.objects.filter(pk__in=replaced).update(status=SignupRequest.Status.CANCELLED, decided_at=now)
    signup_request = SignupRequest.objects.create(case=case, person=person, medium=medium, destination=destination)
    journal.record(
        "signup.requested",
        person_id=person.pk,
        case_number=case.case_number,
        before={"replaced_requests": replaced},
        after={"request": signup_request.pk, "medium": medium, "destination": mask_destination(destination)},
    )
    holder = Membership.objects.filter(case=case, role=Role.HOLDER).select_related("person").first()
    if holder is not None:
        person_notify(
            person_id=holder.person_id,
            template="households/notices/invitation_request_holder",
            context={
                "holder": holder.person,
                "member": person,
                "case_number": case.case_number,
                "link": decide_link(signup_request),
            },
        )
    return signup_request


@journal.register_undo("signup.requested")
def _undo_signup_requested(entry: Entry) -> None:
    SignupRequest.objects.filter(pk=entry.after.get("request"), status=SignupRequest.Status.PENDING).update(
        status=SignupRequest.Status.CANCELLED, decided_at=timezone.now()
    )


def _decide(signup_request: SignupRequest, status: str, by: Person) -> SignupRequest:
    locked = SignupRequest.objects.select_for_update().get(pk=signup_request.pk)
    if locked.status != SignupRequest.Status.PENDING:
        raise SignupRequestClosed(locked.status)
    locked.status = status
    locked.decided_at = timezone.now()
    locked.decided_by = by
    locked.save(update_fields=["status", "decided_at", "decided_by"])
    return locked


class SignupRequestClosed(Exception):
    """The request was already approved, refused or cancelled (another tab, another device)."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


@transaction.atomic
def signup_request_approve(*, signup_request: SignupRequest, by: Person, link: LinkBuilder) -> Invitation:
    """The holder approves: an invitation goes to the contact the member proved (raises SignupRequestClosed)."""
    decided = _decide(signup_request, SignupRequest.Status.APPROVED, by)
    invitation = invitation_send(
        case=decided.case,
        person=decided.person,
        created_by=by,
        medium=decided.medium,
        destination=decided.destination,
        link=link,
        origin=Invitation.Origin.APPROVAL,
    )
    journal.record(
        "signup.approved",
        person_id=decided.person_id,
        case_number=decided.case.case_number,
        before={"status": SignupRequest.Status.PENDING},
        after={"request": decided.pk, "invitation": invitation.pk, "by": by.pk},
    )
    return invitation


@journal.register_undo("signup.approved")
def _undo_signup_approved(entry: Entry) -> None:
    invitation = Invitation.objects.filter(pk=entry.after.get("invitation")).first()
    if (
        invitation is not None
        and invitation.used_at is not None
        and Person.objects.filter(pk=invitation.person_id, account__isnull=False).exists()
    ):
        raise journal.UndoError(
            _("L'invitation a déjà servi à ouvrir le compte : annulez d'abord la création du compte.")
        )
    Invitation.objects.filter(pk=entry.after.get("invitation"), revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    _back_to_pending(entry.after.get("request"))


def _back_to_pending(request_id: int | None) -> None:
    signup_request = SignupRequest.objects.filter(pk=request_id).first()
    if signup_request is None:
        return
    other_pending = SignupRequest.objects.filter(
        case_id=signup_request.case_id, person_id=signup_request.person_id, status=SignupRequest.Status.PENDING
    ).exclude(pk=signup_request.pk)
    if other_pending.exists():  # a newer request waits: this one stays closed
        return
    signup_request.status = SignupRequest.Status.PENDING
    signup_request.decided_at = None
    signup_request.decided_by = None
    signup_request.save(update_fields=["status", "decided_at", "decided_by"])


@transaction.atomic
def signup_request_refuse(*, signup_request: SignupRequest, by: Person) -> SignupRequest:
    """The holder refuses: the member is told on the contact they proved (raises SignupRequestClosed)."""
    decided = _decide(signup_request, SignupRequest.Status.REFUSED, by)
    message_queue(
        medium=decided.medium,
        to=decided.destination,
        template="households/notices/invitation_request_refused",
        context={"person": decided.person},
        person_id=decided.person_id,
    )
    journal.record(
        "signup.refused",
        person_id=decided.person_id,
        case_number=decided.case.case_number,
        before={"status": SignupRequest.Status.PENDING},
        after={"request": decided.pk, "by": by.pk},
    )
    return decided


@journal.register_undo("signup.refused")
def _undo_signup_refused(entry: Entry) -> None:
    _back_to_pending(entry.after.get("request"))
