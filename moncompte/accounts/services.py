"""Changes to accounts: opening one, passwords, contacts, onboarding, logins. Each function runs in one transaction
and writes its journal entry in it; views and commands call these, never `.save()` on an account.

Permissions: callers have authenticated the person (or proved a one-time code) before calling; these functions do
not check who is asking beyond that.
"""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from moncompte.accounts import devices
from moncompte.accounts.models import Account
from moncompte.accounts.sessions import EndReason, session_records_end_others
from moncompte.households.delegation import delegation_grant_from_case_pin
from moncompte.households.models import PIN_ROLES, Case
from moncompte.households.selectors import memberships_for_person
from moncompte.identity import linking as identity_linking
from moncompte.identity.models import Person
from moncompte.journal import context as journal_context
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.models import Medium
from moncompte.messaging.services import message_queue, person_notify
from moncompte.messaging.services import register_contact_resolver as message_register_contact_resolver
from moncompte.verification import services as verification
from moncompte.verification.models import Lane, Purpose


def _login_id(person: Person) -> str:
    return person.nir or person.provisional_id or ""


@transaction.atomic
def account_open(*, person: Person, via: str, case_number: str = "") -> Account:
    """Open the personal account of a person who has none (no password yet: the caller sets one)."""
    account, created = Account.objects.get_or_create(
        person=person, defaults={"login_id": _login_id(person), "password": make_password(None)}
    )
    if created:
        journal.record(
            "account.created",
            person_id=person.pk,
            case_number=case_number,
            after={"account": account.pk, "via": via},
            # Opened by the person (case PIN, reset code) unless someone signed in acts for them.
            actor_account_id=journal_context.current().actor_account_id or account.pk,
        )
    return account


@transaction.atomic
def account_open_with_case_pin(*, person: Person, case_number: str) -> Account:
    """First web login of a holder or partner with the case PIN: the account exists from now on, without a password
    until the person creates one (MigrationGateMiddleware lets them do nothing else).

    A partner who knew the shared PIN already acted for the household: they start with the delegation, and the holder
    is told and may revoke it (households decides whether the case allows it)."""
    is_new = not Account.objects.filter(person=person).exists()
    account = account_open(person=person, via="case_pin", case_number=case_number)
    if is_new:
        case = Case.objects.filter(case_number=case_number).first()
        if case is not None:
            with journal_context.acting(actor_account_id=journal_context.current().actor_account_id or account.pk):
                delegation_grant_from_case_pin(case=case, partner=person)
    return account


@journal.register_undo("account.created")
def _undo_account_created(entry: Entry) -> None:
    # The person goes back to the legacy path (case PIN / forgotten password); journal rows keep the id only.
    Account.objects.filter(pk=entry.after.get("account")).delete()


@message_register_contact_resolver
def validated_contacts(person_id: int) -> dict[str, str]:
    """The contacts a person proved by a one-time code: where notices about their account go."""
    account = (
        Account.objects.filter(person_id=person_id)
        .only("email", "email_verified_at", "mobile", "mobile_verified_at")
        .first()
    )
    contacts = {}
    if account is not None and account.email_verified_at:
        contacts[Medium.EMAIL] = account.email
    if account is not None and account.mobile_verified_at:
        contacts[Medium.SMS] = account.mobile
    return contacts


def _notify(account: Account, template: str, context: dict | None = None) -> None:
    """Tell the person, on every validated contact, that a security change happened on their account."""
    context = {"person": account.person, "when": timezone.localtime(), **(context or {})}
    person_notify(person_id=account.person_id, template=template, context=context)


# --- A NIR linked to a person who had a provisional identifier (identity.linking) ----------------------------------


def _login_id_set(person: Person, login_id: str) -> int:
    """Inside the link's atomic block: a refusal raised here leaves it, and so rolls the whole link back."""
    try:
        return Account.objects.filter(person=person).update(login_id=login_id)
    except IntegrityError:  # another account (an agent's) has that login id: the link is refused, nothing changed
        raise identity_linking.LinkRefused(identity_linking.MSG_TAKEN, "taken") from None


@identity_linking.on_nir_linked
def _account_follows_the_linked_nir(person: Person, retired_provisional_id: str | None) -> None:
    """The account's login id becomes the NIR, and the person learns, on every contact they validated, that they
    sign in with their NIR from now on. Inside the link's transaction: a refusal here undoes the link."""
    _login_id_set(person, person.nir)
    person_notify(
        person_id=person.pk,
        template="accounts/notices/nir_linked",
        context={"person": person, "when": timezone.localtime()},
    )


@identity_linking.on_nir_unlinked
def _account_follows_the_unlinked_nir(person: Person, provisional_id: str | None) -> None:
    if provisional_id:
        _login_id_set(person, provisional_id)


@transaction.atomic
def password_set(*, account: Account, password: str, reason: str, keep_device_id: int | None = None) -> Account:
    """Set a new personal password after checking it against AUTH_PASSWORD_VALIDATORS (raises ValidationError).

    Django's session hash changes with the password, so every other session of the account ends; the caller keeps
    the current one with `update_session_auth_hash`. A changed password also withdraws the trust of every device
    but the one in use (`keep_device_id`): whoever signed in elsewhere with the old password keeps no way around the
    login limits."""
    validate_password(password, user=account)
    first = not account.has_usable_password()
    account.set_password(password)
    account.password_changed_at = timezone.now()
    account.save(update_fields=["password", "password_changed_at"])
    journal.record(
        "password.created" if first else "password.changed", person_id=account.person_id, after={"reason": reason}
    )
    # "Mes sessions" shows the other sessions as ended too; the current one is known by the journal's fingerprint.
    session_records_end_others(
        account=account, keep_session_ref=journal_context.current().session_ref, reason=EndReason.PASSWORD_CHANGED
    )
    if not first:
        devices.devices_forget(account=account, keep_id=keep_device_id)
        _notify(account, "accounts/notices/password_changed")
    return account


@journal.register_undo("password.changed")
def _undo_password_changed(entry: Entry) -> None:
    # A password changed by someone else must not be restored (it may be known to them): the person sets a new one
    # through "Mot de passe oublié ?", with a code sent to their validated contact.
    account = Account.objects.filter(person_id=entry.person_id).first()
    if account is not None:
        account.set_unusable_password()
        account.save(update_fields=["password"])


def contact_field(medium: str) -> tuple[str, str]:
    return ("email", "email_verified_at") if medium == Medium.EMAIL else ("mobile", "mobile_verified_at")


@transaction.atomic
def contact_validated(*, account: Account, medium: str, value: str) -> Account:
    """Record a contact the person proved by a one-time code (the caller has checked the code)."""
    field, verified_field = contact_field(medium)
    before = {field: getattr(account, field), verified_field: _iso(getattr(account, verified_field))}
    setattr(account, field, value)
    setattr(account, verified_field, timezone.now())
    account.save(update_fields=[field, verified_field])
    journal.record(
        "contact.validated",
        person_id=account.person_id,
        before=before,
        after={field: value, verified_field: _iso(getattr(account, verified_field)), "medium": medium},
    )
    return account


@journal.register_undo("contact.validated")
def _undo_contact_validated(entry: Entry) -> None:
    account = Account.objects.get(person_id=entry.person_id)
    for field, value in entry.before.items():
        setattr(account, field, value)
    account.save(update_fields=list(entry.before))


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def contact_send_code(*, account: Account, medium: str, value: str):
    """Send a code to a contact the person typed, to prove they receive messages there (raises CodeThrottled)."""
    return verification.code_issue(
        person=account.person, purpose=Purpose.CONTACT, medium=medium, destination=value, lane=Lane.PROVEN
    )


def contact_confirm_code(*, account: Account, code: str) -> Account:
    """Check the code of the pending contact validation (raises CodeInvalid) and record the contact."""
    otp = verification.code_verify(person=account.person, purpose=Purpose.CONTACT, code=code)
    return contact_validated(account=account, medium=otp.medium, value=otp.destination)


@transaction.atomic
def onboarding_complete(*, account: Account) -> Account:
    if account.onboarded_at is None:
        account.onboarded_at = timezone.now()
        account.save(update_fields=["onboarded_at"])
        journal.record("account.onboarded", person_id=account.person_id)
    return account


@transaction.atomic
def login_succeeded(*, account: Account, via: str) -> None:
    journal.record("login.succeeded", person_id=account.person_id, after={"via": via})


@transaction.atomic
def reauth_failed(*, account: Account) -> None:
    """A wrong password typed to confirm a security change, in a signed-in session (shown in the security history)."""
    journal.record("reauth.failed", person_id=account.person_id)


@transaction.atomic
def login_failed(*, person_id: int | None) -> None:
    journal.record("login.failed", person_id=person_id)


def proven_lane(account: Account) -> str:
    """The quota of the login codes of this account, which only someone with its password can ask for: its own, so
    that codes someone else sends to the same address (from their own account, to validate it as theirs) never
    spend it. Signed-in contact codes share the lane "proven", whose per-destination ceiling stops one address from
    being flooded by many accounts."""
    return f"{Lane.PROVEN}:{account.person_id}"


def login_code_destination(account: Account) -> tuple[str, str]:
    """Where the code of a stepped-up login goes: a validated mobile, else a validated e-mail, else a contact on file
    (a holder who signs in with the case PIN for the first time has validated none yet). ("", "") when none."""
    for destinations in (validated_contacts(account.person_id), reset_destinations(account.person)):
        for medium in (Medium.SMS, Medium.EMAIL):
            if destinations.get(medium):
                return medium, destinations[medium]
    return "", ""


def login_code_send(*, account: Account, medium: str, destination: str) -> None:
    """The password was right but the NIR is under attack and the client untrusted: send the code that completes
    the login. Counted in the lane of proven requests, which no one without the password can spend."""
    verification.code_issue(
        person=account.person, purpose=Purpose.LOGIN, medium=medium, destination=destination, lane=proven_lane(account)
    )


def login_code_check(*, account: Account, code: str) -> None:
    """Check the code of a stepped-up login (raises CodeInvalid); journaled by verification."""
    verification.code_verify(person=account.person, purpose=Purpose.LOGIN, code=code)


# --- Forgotten password --------------------------------------------------------------------------------------------


def reset_destinations(person: Person) -> dict[str, str]:
    """Where a reset code may go: the contacts the person validated; only when they validated none, the ones on file
    from the legacy system. Never a contact typed in the reset form: it would prove nothing about who is asking.

    A person who validated an e-mail gets no code on a legacy mobile they never confirmed (ASVS 6.6.1): that number
    may have been reassigned, and a SIM swap needs only the number."""
    account = Account.objects.filter(person=person).first()
    validated = validated_contacts(person.pk) if account is not None else {}
    if validated:
        return validated
    destinations = {}
    if person.email_on_file:
        destinations[Medium.EMAIL] = person.email_on_file
    if person.mobile_on_file:
        destinations[Medium.SMS] = person.mobile_on_file
    return destinations


def password_reset_allowed(person: Person) -> bool:
    """Someone with an account, or a holder or partner of a case: one who may still migrate with the case PIN, or
    the holder of a case that has no PIN (a partner who left in a separation and never opened an account gets a new
    case without one). Children and other members open their first account through the member signup, not through a
    reset. A deactivated account cannot be reopened by a reset."""
    account = Account.objects.filter(person=person).first()
    if account is not None:
        return account.is_active
    return memberships_for_person(person).filter(role__in=PIN_ROLES).exists()


def password_reset_request(*, person: Person | None, medium: str, lane: str = Lane.ANONYMOUS) -> bool:
    """Send a reset code to the person's contact of that medium, if any. Returns whether a code left; the caller
    must show the same page either way (a NIR is not a secret, whether it has an account is), unless the request
    comes from a trusted device of the person (lane "device:<id>"), which may be told.

    The lane is the quota the code counts in: anonymous requests, which anyone who knows the NIR can make, never
    spend the quota of the person's trusted devices."""
    if person is None or not password_reset_allowed(person):
        return False
    destination = reset_destinations(person).get(medium)
    if not destination:
        return False
    try:
        verification.code_issue(
            person=person, purpose=Purpose.PASSWORD_RESET, medium=medium, destination=destination, lane=lane
        )
    except verification.CodeThrottled:
        return False
    return True


def password_reset_complete(
    *, person: Person, code: str, password: str, purpose: str = Purpose.PASSWORD_RESET
) -> Account:
    """Check the code (raises CodeInvalid; ValidationError for a password built from the person's own data, the code
    then left unused), then set the new password. For a person who never migrated, this opens
    the account and completes the migration: the code proved the contact it was sent to."""
    if not password_reset_allowed(person):
        raise verification.no_code_refusal()
    candidate = Account.objects.filter(person=person).first() or Account(person=person, login_id=_login_id(person))
    # The person's own data (name, birth date, NIR) is checked only once the code is proven right, and a refusal
    # leaves the code unused: before it, the answer would tell a known NIR and confirm its owner's name.
    otp = verification.code_verify(
        person=person,
        purpose=purpose,
        code=code,
        before_use=lambda: validate_password(password, user=candidate),
    )
    with transaction.atomic():
        account = account_open(person=person, via="password_reset")
        # Whoever knew the old password may hold a trusted device: none keeps its trust (the resetting browser
        # becomes one when the person is signed in).
        devices.devices_forget(account=account)
        # The code proved who is acting: the entries name the account as their actor, as after a login.
        with journal_context.acting(actor_account_id=journal_context.current().actor_account_id or account.pk):
            password_set(account=account, password=password, reason="reset")
            field, verified_field = contact_field(otp.medium)
            if not getattr(account, verified_field) or getattr(account, field) != otp.destination:
                contact_validated(account=account, medium=otp.medium, value=otp.destination)
            journal.record("password.reset", person_id=person.pk, after={"medium": otp.medium})
    return account


# --- Agents (issue 8, items 3 and 4) -------------------------------------------------------------------------------


@transaction.atomic
def contact_correct_by_agent(
    *, account: Account, medium: str, value: str, agent_account_id: int | None, reason: str
) -> Account:
    """An agent corrects a person's e-mail or mobile (the person asked at a counter or on the phone). A contact typed
    by someone else proves nothing: it is recorded *unvalidated*, so no notice, login code or reset code goes to it
    until the person proves it with a code from "Mes informations" (until then `reset_destinations` ignores it).
    The old contact, if validated, is warned, and so is the person on their other validated contacts.

    The caller checked that the agent may change accounts, normalised `value` and refused the current one."""
    if medium not in (Medium.EMAIL, Medium.SMS) or not value:
        raise ValueError(f"unknown medium or empty contact: {medium!r}")
    account = Account.objects.select_for_update(of=("self",)).select_related("person").get(pk=account.pk)
    field, verified_field = contact_field(medium)
    old_value, old_verified_at = getattr(account, field), getattr(account, verified_field)
    setattr(account, field, value)
    setattr(account, verified_field, None)
    account.save(update_fields=[field, verified_field])
    # What `contact.validated` stores (the values, for the undo); the notices show them masked.
    entry = journal.record(
        "contact.corrected_by_agent",
        person_id=account.person_id,
        before={field: old_value, verified_field: _iso(old_verified_at)},
        after={field: value, verified_field: None, "medium": medium, "reason": reason},
        actor_account_id=agent_account_id,
    )
    context = {
        "person": account.person,
        "when": timezone.localtime(entry.created_at),
        "medium": medium,
        "replaced": bool(old_value),
        "new_contact": verification.mask_destination(value),
    }
    template = "accounts/notices/contact_corrected_by_agent"
    if old_verified_at and old_value and old_value != value:
        message_queue(medium=medium, to=old_value, template=template, context=context, person_id=account.person_id)
    # The corrected medium is no longer validated: this reaches the person's other validated contact, if any.
    person_notify(person_id=account.person_id, template=template, context=context)
    return account


@journal.register_undo("contact.corrected_by_agent")
def _undo_contact_corrected_by_agent(entry: Entry) -> None:
    """The old contact comes back with its validation, unless the contact changed since (the person validated the
    corrected one, or another): restoring it then would undo more than the correction."""
    account = Account.objects.select_for_update().get(person_id=entry.person_id)
    field, verified_field = contact_field((entry.after or {}).get("medium", ""))
    if getattr(account, field) != entry.after.get(field) or getattr(account, verified_field) is not None:
        raise journal.UndoError("La coordonnée a changé depuis cette correction : elle ne peut plus être annulée.")
    setattr(account, field, entry.before.get(field, ""))
    setattr(account, verified_field, parse_datetime(entry.before[verified_field] or "") or None)
    account.save(update_fields=[field, verified_field])


ROLE_FIELDS = ("is_staff", "is_superuser")


def _roles(account: Account) -> dict:
    return {
        "is_staff": account.is_staff,
        "is_superuser": account.is_superuser,
        "groups": sorted(account.groups.values_list("name", flat=True)),
    }


@transaction.atomic
def account_roles_set(
    *, account: Account, is_staff: bool, is_superuser: bool, groups: list[str], reason: str
) -> Account:
    """Give or take an account's agent roles (staff, superuser, permission groups by name): never from the admin's
    form, where an agent could raise their own rights unseen, but from `manage.py agent_roles`, journaled.

    Raises Group.DoesNotExist for an unknown group name. A citizen account (with a person) never becomes an agent."""
    from django.contrib.auth.models import Group

    account = Account.objects.select_for_update().get(pk=account.pk)
    if account.person_id is not None and (is_staff or is_superuser or groups):
        raise ValueError("a citizen's account cannot get agent roles")
    wanted = [Group.objects.get(name=name) for name in groups]
    before = _roles(account)
    account.is_staff, account.is_superuser = is_staff, is_superuser
    account.save(update_fields=list(ROLE_FIELDS))
    account.groups.set(wanted)
    after = _roles(account)
    if after != before:
        journal.record(
            "account.roles_changed",
            person_id=account.person_id,
            before=before,
            after={**after, "account": account.pk, "reason": reason},
        )
    return account


@journal.register_undo("account.roles_changed")
def _undo_account_roles_changed(entry: Entry) -> None:
    from django.contrib.auth.models import Group

    account = Account.objects.select_for_update().get(pk=entry.after["account"])
    account.is_staff, account.is_superuser = entry.before["is_staff"], entry.before["is_superuser"]
    account.save(update_fields=list(ROLE_FIELDS))
    account.groups.set(Group.objects.filter(name__in=entry.before["groups"]))
