"""Opening a member's account without the case PIN (issue 3, items 1, 2 and 9): by signup from the login page, proven
by a code sent to a contact the agency holds for the member, or by an invitation link (sent by the holder, or after
the holder approved the request of a member the agency holds no contact for).

Who may sign up: a member of a case aged 15 or more on the day, who is not the holder (holders, and partners who
know the case PIN, open their account with the case PIN or "Mot de passe oublié ?") and has no account yet.

The signup pages answer alike whether the details typed match a member or not: these functions return nothing
that a page would show differently, and send, in every case where the visitor could observe it (a contact they
typed), the same message.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from datetime import timedelta
from enum import StrEnum
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth.hashers import identify_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from moncompte.accounts import services
from moncompte.accounts.models import Account
from moncompte.accounts.security import not_me_url
from moncompte.accounts.selectors import has_account
from moncompte.households import invitations, policy
from moncompte.households.models import Invitation, Membership, Role, SignupRequest
from moncompte.identity.models import Person
from moncompte.identity.selectors import person_get_by_nir
from moncompte.journal import context as journal_context
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.lib import counters
from moncompte.lib.text import fold
from moncompte.messaging.models import OutboxMessage
from moncompte.messaging.services import message_queue, person_notify
from moncompte.verification import ceilings
from moncompte.verification import services as verification
from moncompte.verification.models import Purpose

#: Informational notices (to someone who already has an account, or to a holder) per person and hour: the start
#: page may be submitted by anyone, it must not become a way to flood a person's inbox.
NOTICES_PER_HOUR = 3
#: Wrong birth dates typed on one invitation link before it stops working.
INVITATION_MAX_BIRTH_DATE_FAILURES = 5


class Standing(StrEnum):
    """What the signup pages may do for the person whose details were typed (never shown as such)."""

    UNKNOWN = "unknown"
    ELIGIBLE = "eligible"
    HAS_ACCOUNT = "has_account"
    HOLDER = "holder"
    UNDER_AGE = "under_age"


# --- Matching the details typed -------------------------------------------------------------------------------------


def _given_name_matches(person: Person, given_name: str) -> bool:
    typed = fold(given_name)
    names = (person.given_names or "").split()
    # The first given name, or all of them (people copy the line of their carte Vitale).
    return bool(typed) and typed in {fold(names[0]) if names else "", fold(" ".join(names))}


def member_match(*, nir: str, birth_date: datetime.date, given_name: str) -> Person | None:
    """The person with this NIR if the birth date and the given name match theirs and they belong to a case."""
    person = person_get_by_nir(nir)
    if person is None or person.birth_date != birth_date or not _given_name_matches(person, given_name):
        return None
    if not Membership.objects.filter(person=person).exists():
        return None
    return person


def signup_memberships(person: Person) -> QuerySet[Membership]:
    """The memberships through which the person may sign up: every one where they are not the holder."""
    return Membership.objects.filter(person=person).exclude(role=Role.HOLDER).select_related("case").order_by("id")


def may_open_account(person: Person) -> bool:
    """A member may open their account once, from the day they turn MEMBER_ACCOUNT_MIN_AGE."""
    return not has_account(person) and policy.may_have_account(person)


def signup_standing(person: Person | None) -> Standing:
    if person is None:
        return Standing.UNKNOWN
    if has_account(person):
        return Standing.HAS_ACCOUNT
    if not signup_memberships(person).exists():
        return Standing.HOLDER
    if not policy.may_have_account(person):
        return Standing.UNDER_AGE
    return Standing.ELIGIBLE


def identity_for_password_check(*, nir: str, given_name: str, birth_date: datetime.date) -> SimpleNamespace:
    """What the password rules check a new password against, from the details typed: the same object whether they
    match a member or not, so a refused password reveals nothing (PersonalDataValidator reads these attributes)."""
    return SimpleNamespace(nir=nir, given_names=given_name, birth_date=birth_date)


def _on_file(person: Person, medium: str) -> str:
    return person.email_on_file.strip().lower() if medium == "email" else person.mobile_on_file


def _first_case_number(person: Person) -> str:
    membership = signup_memberships(person).first() or Membership.objects.filter(person=person).first()
    return membership.case.case_number if membership else ""


def _notice_allowed(person: Person, template: str) -> bool:
    since = timezone.now() - timedelta(hours=1)
    sent = OutboxMessage.objects.filter(person_id=person.pk, template=template, created_at__gt=since).count()
    return sent < NOTICES_PER_HOUR


def _notice(person: Person, medium: str, template: str) -> bool:
    """An informational notice to the person's own contact of that medium (validated, else on file)."""
    destination = services.reset_destinations(person).get(medium)
    if not destination or not _notice_allowed(person, template):
        return False
    message_queue(
        medium=medium,
        to=destination,
        template=template,
        context={"person": person, "when": timezone.localtime()},
        person_id=person.pk,
    )
    return True


# --- Signup with a code to a contact on file ---------------------------------------------------------------------


@transaction.atomic
def signup_code_send(*, person: Person | None, medium: str) -> bool:
    """The start page's action, for details that matched `person` (or None). An eligible member gets a code at the
    contact of that medium the agency holds; someone who already has an account, or a holder, gets a notice there
    saying how to sign in. Returns whether a code left; the caller shows the same page either way."""
    standing = signup_standing(person)
    if standing == Standing.HAS_ACCOUNT:
        _notice(person, medium, "accounts/notices/signup_existing_account")
        return False
    if standing == Standing.HOLDER:
        _notice(person, medium, "accounts/notices/signup_holder_use_pin")
        return False
    if standing != Standing.ELIGIBLE:
        return False
    destination = _on_file(person, medium)
    if not destination:
        return False
    try:
        verification.code_issue(person=person, purpose=Purpose.SIGNUP, medium=medium, destination=destination)
    except verification.CodeThrottled:
        return False
    journal.record(
        "signup.code_sent",
        person_id=person.pk,
        case_number=_first_case_number(person),
        after={"medium": medium, "contact": "on_file", "destination": verification.mask_destination(destination)},
    )
    return True


def signup_code_pending(person: Person | None) -> bool:
    return (
        signup_standing(person) == Standing.ELIGIBLE
        and verification.code_active(person=person, purpose=Purpose.SIGNUP) is not None
    )


def signup_complete(*, person: Person, code: str, password: str) -> Account:
    """Check the code (raises CodeInvalid) and open the member's account: the password set, the contact the code went
    to validated, the holder told. A refused password (raises ValidationError) costs no try of the right code.

    The page already checked the password against the details typed, as it does for details that match no one. What
    only the member's record refuses (their surname, another given name) is said once the code is proven right:
    before, it would tell whoever typed a wrong code that the details match a member."""
    if signup_standing(person) != Standing.ELIGIBLE:
        raise verification.no_code_refusal()
    try:
        validate_password(password, user=Account(person=person, login_id=services._login_id(person)))
    except ValidationError as refusal:
        _raise_after_code_check(person=person, code=code, refusal=refusal)
    otp = verification.code_verify(person=person, purpose=Purpose.SIGNUP, code=code)
    return _open(person=person, via="signup", medium=otp.medium, destination=otp.destination, password=password)


def _raise_after_code_check(*, person: Person, code: str, refusal: ValidationError) -> None:
    """A wrong code: CodeInvalid, the try counted, as for details that match no one. The right code: the password's
    refusal, with the code's use rolled back so the member keeps it for a better password."""
    wrong: verification.CodeInvalid | None = None
    with transaction.atomic():
        try:
            verification.code_verify(person=person, purpose=Purpose.SIGNUP, code=code)
        except verification.CodeInvalid as error:
            wrong = error  # leave the block normally: the counted try commits
        else:
            raise refusal  # leaves through the block: the code is not used up
    raise wrong


def _open(
    *, person: Person, via: str, medium: str = "", destination: str = "", password: str = "", password_hash: str = ""
) -> Account:
    """Open the account with its password (or the hash of one the rules already accepted); the contact `destination`
    is validated when given (the caller knows the person proved it), none otherwise."""
    with transaction.atomic():
        account = services.account_open(person=person, via=via, case_number=_first_case_number(person))
        # The code or the link proved who is acting: the entries name the new account as their actor.
        with journal_context.acting(actor_account_id=journal_context.current().actor_account_id or account.pk):
            if password_hash:
                _password_set_from_hash(account=account, password_hash=password_hash, reason=via)
            else:
                services.password_set(account=account, password=password, reason=via)
            if destination:
                services.contact_validated(account=account, medium=medium, value=destination)
            invitations.member_signup_closed(person=person)
            household_notify_new_account(person=person, via=via)
    return account


def _password_set_from_hash(*, account: Account, password_hash: str, reason: str) -> None:
    """The first password of a new account, chosen on an earlier page and kept until now as its hash (never in
    clear), in the session of the person who typed it; the rules checked it there. A new account has no other
    session to end and no contact to tell, so this is `services.password_set` without them."""
    identify_hasher(password_hash)  # raises ValueError for anything but a hash made by make_password
    if account.has_usable_password():
        raise ValueError("the account already has a password")
    account.password = password_hash
    account.password_changed_at = timezone.now()
    account.save(update_fields=["password", "password_changed_at"])
    journal.record("password.created", person_id=account.person_id, after={"reason": reason})


def household_notify_new_account(*, person: Person, via: str) -> None:
    """Item 9: the holder of each of the member's cases is told that a new account opened in the household."""
    for membership in signup_memberships(person):
        holder = Membership.objects.filter(case=membership.case, role=Role.HOLDER).select_related("person").first()
        if holder is None or holder.person_id == person.pk:
            continue
        person_notify(
            person_id=holder.person_id,
            template="accounts/notices/member_account_created",
            context={
                "holder": holder.person,
                "member": person,
                "case_number": membership.case.case_number,
                "via": via,
                "when": timezone.localtime(),
            },
        )


# --- Signup with a contact the member types (no contact on file): the holder approves -----------------------------


def _contact_code_key() -> bytes:
    return hashlib.sha256(b"moncompte.signup.contact:" + settings.SECRET_KEY.encode()).digest()


def contact_code_hmac(destination: str, code: str) -> str:
    """The HMAC of a code sent to a typed contact with no member behind it: the session keeps this, not the code."""
    return hmac.new(_contact_code_key(), f"{destination}:{code}".encode(), hashlib.sha256).hexdigest()


def _check_contact_sends(destination: str) -> None:
    """At most OTP_MAX_SENDS_PER_HOUR codes an hour to one typed contact, whether a member is behind it or not."""
    since = timezone.now() - timedelta(hours=1)
    sent = list(
        OutboxMessage.objects.filter(
            template=f"verification/{Purpose.SIGNUP_CONTACT}", to=destination, created_at__gt=since
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(sent) >= settings.OTP_MAX_SENDS_PER_HOUR:
        raise verification.hourly_quota_refusal(
            sent[-settings.OTP_MAX_SENDS_PER_HOUR] + timedelta(hours=1) - timezone.now()
        )


@transaction.atomic
def signup_contact_code_send(*, person: Person | None, medium: str, destination: str) -> str | None:
    """Send a code to the contact the visitor typed, to prove they receive messages there (it proves nothing about who
    they are). An eligible member gets a real one-time code (None is returned); for anyone else the same message
    leaves with a code whose HMAC is returned, for the caller to keep in the session: the visitor cannot tell
    whether their details matched. Raises CodeThrottled (hourly limits of the destination, and the ceilings of the
    visitor's address and of the service: verification.ceilings; the same for both)."""
    ceilings.request_admit(None)
    _check_contact_sends(destination)
    if signup_standing(person) == Standing.ELIGIBLE:
        try:
            verification.code_issue(
                person=person, purpose=Purpose.SIGNUP_CONTACT, medium=medium, destination=destination
            )
        except verification.CodeThrottled:
            pass  # the member's own limits (another browser): answer as for anyone else
        else:
            journal.record(
                "signup.code_sent",
                person_id=person.pk,
                case_number=_first_case_number(person),
                after={
                    "medium": medium,
                    "contact": "typed",
                    "destination": verification.mask_destination(destination),
                },
            )
            return None
    code = verification.code_new(Purpose.SIGNUP_CONTACT)
    message_queue(
        medium=medium,
        to=destination,
        template=f"verification/{Purpose.SIGNUP_CONTACT}",
        context={"code": code, "minutes": settings.OTP_LIFETIME // 60},
    )
    return contact_code_hmac(destination, code)


def signup_request_submit(*, person: Person, code: str, decide_link) -> list[SignupRequest]:
    """Check the code sent to the typed contact (raises CodeInvalid), then file a request for the holder of each of
    the member's cases; the holder is told, and the member on the contact they proved."""
    otp = verification.code_verify(person=person, purpose=Purpose.SIGNUP_CONTACT, code=code)
    with transaction.atomic():
        created = []
        if signup_standing(person) == Standing.ELIGIBLE:
            created = [
                invitations.signup_request_create(
                    case=membership.case,
                    person=person,
                    medium=otp.medium,
                    destination=otp.destination,
                    decide_link=decide_link,
                )
                for membership in signup_memberships(person)
            ]
        invitations.signup_request_receipt(medium=otp.medium, destination=otp.destination, person_id=person.pk)
    return created


@transaction.atomic
def signup_contact_proven_without_request(*, person: Person | None, medium: str, destination: str) -> None:
    """The typed contact is proven but no request can be filed (unknown details, an account already, a holder):
    the same receipt as for a request, and a notice to an account holder on their own validated contacts."""
    invitations.signup_request_receipt(medium=medium, destination=destination)
    if signup_standing(person) == Standing.HAS_ACCOUNT and _notice_allowed(
        person, "accounts/notices/signup_existing_account"
    ):
        person_notify(
            person_id=person.pk,
            template="accounts/notices/signup_existing_account",
            context={"person": person, "when": timezone.localtime()},
        )


# --- Invitation links -----------------------------------------------------------------------------------------------


def _failures_key(invitation: Invitation) -> str:
    return f"signup:invitation-birth-date:{invitation.pk}"


def invitation_birth_date_check(*, invitation: Invitation, birth_date: datetime.date) -> int | None:
    """Whether the birth date typed on the link is the invitee's: None when it is, else the number of tries left
    (0: the link has just been revoked, a forwarded link is not enough to open someone's account)."""
    if invitation.person.birth_date == birth_date:
        return None
    failures = counters.incr(_failures_key(invitation), timeout=settings.INVITATION_LIFETIME_HOURS * 3600)
    left = max(INVITATION_MAX_BIRTH_DATE_FAILURES - failures, 0)
    if left == 0:
        invitations.invitation_revoke(invitation=invitation, reason="birth_date_failures")
    return left


class InvitationCodeRequired(Exception):
    """The invitation went to a contact the holder typed: it opens the account only with the code sent there
    (`invitation_accept_with_code`)."""


def invitation_needs_code(invitation: Invitation) -> bool:
    """Issue 8, item 2: the holder typed the destination and knows the birth date, so neither proves the invitee.
    Such an invitation asks for a code sent to that destination, typed in the invitee's session; it validates no
    contact, and the invitee's contacts on file are told."""
    return invitation.destination_source == Invitation.DestinationSource.TYPED


def invitation_accept(*, invitation: Invitation, password: str) -> Account:
    """Open the invitee's account from their link (the caller checked the birth date): the link is used up, the
    contact it was sent to is validated (a contact the agency holds for the invitee, or one the invitee proved by a
    code before the holder approved their request: receiving the link there proves it), the holder is told. Raises
    Invitation.DoesNotExist when the link no longer works (used, revoked or expired meanwhile), ValidationError for a
    password the rules refuse, and InvitationCodeRequired for an invitation to a contact the holder typed."""
    if invitation_needs_code(invitation):
        raise InvitationCodeRequired
    person = invitation.person
    validate_password(password, user=Account(person=person, login_id=services._login_id(person)))
    with transaction.atomic():
        if not may_open_account(person):
            raise Invitation.DoesNotExist
        used = invitations.invitation_use(invitation=invitation)
        return _open(
            person=person, via="invitation", medium=used.medium, destination=used.destination, password=password
        )


# --- Invitations to a contact the holder typed (issue 8, item 2) --------------------------------------------------


def _code_lane(invitation: Invitation) -> str:
    # The codes of one invitation count in their own quota: what anyone who knows the NIR asks for elsewhere (the
    # signup page, a reset) never spends it, and the holder's hourly limit on invitations bounds how many lanes exist.
    return f"invitation:{invitation.pk}"


def invitation_password_prepare(*, invitation: Invitation, password: str) -> str:
    """Check the password the invitee chose against the rules and their record (raises ValidationError; the caller
    checked the birth date first) and return its hash, for the session to keep while the code travels."""
    person = invitation.person
    validate_password(password, user=Account(person=person, login_id=services._login_id(person)))
    return make_password(password)


def invitation_code_send(*, invitation: Invitation) -> None:
    """Send the one-time code that proves the invitee receives messages at the destination the holder typed. Only
    after the birth date was right in this session (the caller); the code works in this session only. Raises
    CodeThrottled (resend delay, hourly quota)."""
    if not invitation_needs_code(invitation):
        raise ValueError("only an invitation to a typed contact needs a code")
    verification.code_issue(
        person=invitation.person,
        purpose=Purpose.INVITATION,
        medium=invitation.medium,
        destination=invitation.destination,
        lane=_code_lane(invitation),
    )


def _same_destination(medium: str, a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower() if medium == "email" else a == b


def invitation_accept_with_code(*, invitation: Invitation, code: str, password_hash: str) -> Account:
    """Open the invitee's account from an invitation to a contact the holder typed, once the code sent there is
    right (raises CodeInvalid; a wrong try is counted). `password_hash`: from `invitation_password_prepare`.

    The contact is NOT validated: the invitee proved they receive messages there, but the holder typed it and may
    read it too, so it is no better than a guess as a way back into the account. The account opens with no
    validated contact: the migration gate then has the person validate one of their own, and until then a reset
    code can go only to their contacts on file. Those are told now that the account opened with another contact
    (with a "Ce n'était pas moi" link by e-mail). Raises Invitation.DoesNotExist when the link no longer works."""
    if not invitation_needs_code(invitation):
        raise ValueError("this invitation opens the account without a code")
    person = invitation.person
    if not may_open_account(person):
        raise Invitation.DoesNotExist
    otp = verification.code_verify(person=person, purpose=Purpose.INVITATION, code=code)
    if otp.medium != invitation.medium or not _same_destination(otp.medium, otp.destination, invitation.destination):
        # A code of an older invitation, sent elsewhere (the holder sent a new one meanwhile).
        raise verification.no_code_refusal()
    with transaction.atomic():
        if has_account(person):
            raise Invitation.DoesNotExist
        used = invitations.invitation_use(invitation=invitation)
        account = _open(person=person, via="invitation", password_hash=password_hash)
        with journal_context.acting(actor_account_id=journal_context.current().actor_account_id or account.pk):
            _tell_contacts_on_file_account_opened(account=account, invitation=used)
    return account


def _tell_contacts_on_file_account_opened(*, account: Account, invitation: Invitation) -> None:
    person = account.person
    created = Entry.objects.filter(person_id=person.pk, kind="account.created").latest("pk")
    told = invitations.contacts_on_file_tell(
        person=person,
        template="accounts/notices/account_opened_other_contact",
        context={
            "when": timezone.localtime(created.created_at),
            "medium": invitation.medium,
            "destination": verification.mask_destination(invitation.destination),
            "not_me_url": not_me_url(site_url=settings.SITE_URL, account=account, entry=created),
        },
        besides=invitation.destination,
    )
    if told:
        journal.record(
            "invitation.on_file_told",
            person_id=person.pk,
            case_number=invitation.case.case_number,
            after={
                "invitation": invitation.pk,
                "stage": "accepted",
                "media": told,
                "destination": verification.mask_destination(invitation.destination),
            },
        )
