"""FranceConnect and our accounts: what a checked callback leads to, linking and unlinking, signing in, and opening
an account from a FranceConnect identity. Each change runs in one transaction and writes its journal entry.

Who FranceConnect identified is decided here, in this order (the matching rules are `identity.matching`):
1. the `sub` of a link made before: that account;
2. otherwise the one person of the registry the pivot identity describes: their account, to be proven once (its
   password, or a code to its validated contact) before it is linked; or, without an account, a member who may open
   one (15 or more), whose account opens from the FranceConnect identity;
3. otherwise nobody: no person, several (we never choose), or someone who may not have an account.
Never by e-mail address: spouses share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from moncompte.accounts import services as accounts
from moncompte.accounts.models import Account
from moncompte.accounts.sessions import start_session
from moncompte.franceconnect.claims import pivot_identity
from moncompte.franceconnect.models import Link
from moncompte.identity.matching import Found, match_person
from moncompte.identity.models import Person
from moncompte.journal import context as journal_context
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.lib import counters
from moncompte.messaging.models import Medium
from moncompte.messaging.services import person_notify
from moncompte.signup.services import household_notify_new_account, may_open_account
from moncompte.verification import services as verification
from moncompte.verification.models import Purpose

VIA = "franceconnect"
HOUR, DAY = 3600, 24 * 3600
LINK_PASSWORD_TRIES_PER_DAY = 10
REFUSALS_JOURNALED_PER_ADDRESS = 20
#: The session keeps the id_token of a FranceConnect sign-in: the logout hands it back to the provider.
ID_TOKEN_KEY = "franceconnect_id_token"  # noqa: S105 (a session key's name)
LOGOUT_STATE_KEY = "franceconnect_logout_state"


class Arrival(StrEnum):
    LOGIN = "login"
    LINK = "link"
    CREATE = "create"
    NO_MATCH = "no_match"
    SEVERAL = "several"
    NOT_ELIGIBLE = "not_eligible"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class Outcome:
    arrival: Arrival
    account: Account | None = None
    person: Person | None = None


def arrival(*, sub: str, claims: dict[str, Any]) -> Outcome:
    """Where a FranceConnect identity (checked `sub` and userinfo claims) leads."""
    link = Link.objects.select_related("account__person").filter(sub=sub).first()
    if link is not None:
        return Outcome(Arrival.LOGIN if link.account.is_active else Arrival.INACTIVE, account=link.account)
    identity = pivot_identity(claims)
    if identity is None:
        return Outcome(Arrival.NO_MATCH)
    match = match_person(identity)
    if match.found == Found.SEVERAL:
        return Outcome(Arrival.SEVERAL)
    if match.found == Found.NONE:
        return Outcome(Arrival.NO_MATCH)
    person = match.person
    account = Account.objects.filter(person=person).first()
    if account is not None:
        return Outcome(Arrival.LINK if account.is_active else Arrival.INACTIVE, account=account, person=person)
    if may_open_account(person):
        return Outcome(Arrival.CREATE, person=person)
    return Outcome(Arrival.NOT_ELIGIBLE, person=person)


def _notify(account: Account, template: str) -> None:
    person_notify(
        person_id=account.person_id,
        template=template,
        context={"person": account.person, "when": timezone.localtime()},
    )


def link_of(account: Account) -> Link | None:
    return Link.objects.filter(account=account).first()


def link_data(account: Account) -> dict[str, Any] | None:
    """The link as the person's data download gives it (the `sub` included: it is data about them)."""
    link = link_of(account)
    if link is None:
        return None
    return {
        "sub": link.sub,
        "linked_at": link.created_at.isoformat(),
        "last_login_at": link.last_login_at.isoformat() if link.last_login_at else None,
    }


# --- Signing in ------------------------------------------------------------------------------------------------------


@transaction.atomic
def sign_in(request: HttpRequest, account: Account, *, id_token: str) -> None:
    """Open a session for a linked account (accounts.sessions: new key, clocks, record, `login.succeeded`)."""
    start_session(request, account, via=VIA)
    Link.objects.filter(account=account).update(last_login_at=timezone.now())
    request.session[ID_TOKEN_KEY] = id_token


@transaction.atomic
def link_and_sign_in(request: HttpRequest, account: Account, *, sub: str, id_token: str) -> Link:
    """The person proved the account is theirs: link it to the `sub`, then sign in."""
    link = link_create(account=account, sub=sub)
    sign_in(request, account, id_token=id_token)
    return link


@transaction.atomic
def account_open_and_sign_in(request: HttpRequest, person: Person, *, sub: str, id_token: str) -> Account | None:
    """A member of 15 or more without an account, identified by FranceConnect (which counts as a proof of who they
    are): the account opens, linked, and the holder is told. None if the person may no longer open one."""
    if not may_open_account(person):
        return None
    account = accounts.account_open(person=person, via=VIA)
    link_create(account=account, sub=sub)
    household_notify_new_account(person=person, via=VIA)
    sign_in(request, account, id_token=id_token)
    return account


# --- Linking ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def link_create(*, account: Account, sub: str) -> Link:
    """Link the account to a FranceConnect `sub` (replacing a link to another one), journaled and notified."""
    previous = Link.objects.select_for_update().filter(account=account).first()
    if previous is not None and previous.sub == sub:
        return previous
    if previous is not None:
        previous.delete()
    try:
        with transaction.atomic():
            link = Link.objects.create(account=account, sub=sub)
    except IntegrityError:
        raise LinkTaken from None
    journal.record(
        "franceconnect.linked",
        person_id=account.person_id,
        before={"sub": previous.sub} if previous else {},
        after={"account": account.pk, "link": link.pk, "sub": sub},
        actor_account_id=account.pk,
    )
    _notify(account, "franceconnect/notices/linked")
    return link


class LinkTaken(Exception):
    """Another account was linked to this `sub` in the meantime."""


@transaction.atomic
def link_remove(*, account: Account) -> bool:
    link = Link.objects.select_for_update().filter(account=account).first()
    if link is None:
        return False
    link.delete()
    journal.record(
        "franceconnect.unlinked", person_id=account.person_id, before={"account": account.pk, "sub": link.sub}
    )
    _notify(account, "franceconnect/notices/unlinked")
    return True


@journal.register_undo("franceconnect.linked")
def _undo_linked(entry: Entry) -> None:
    Link.objects.filter(pk=entry.after.get("link")).delete()
    if entry.before.get("sub") and not Link.objects.filter(sub=entry.before["sub"]).exists():
        Link.objects.create(account_id=entry.after["account"], sub=entry.before["sub"])


@journal.register_undo("franceconnect.unlinked")
def _undo_unlinked(entry: Entry) -> None:
    account_id, sub = entry.before.get("account"), entry.before.get("sub")
    if not Link.objects.filter(account_id=account_id).exists() and not Link.objects.filter(sub=sub).exists():
        Link.objects.create(account_id=account_id, sub=sub)


# --- Proving an account before linking it ----------------------------------------------------------------------------


def link_code_destination(account: Account) -> tuple[str, str]:
    """A validated contact of the account (mobile first), where a code proving the account may go; ("", "") when
    it has none. Never a contact on file: it proves nothing about who holds the account."""
    contacts = accounts.validated_contacts(account.person_id)
    for medium in (Medium.SMS, Medium.EMAIL):
        if contacts.get(medium):
            return medium, contacts[medium]
    return "", ""


def link_code_send(*, account: Account, medium: str, destination: str) -> None:
    verification.code_issue(
        person=account.person,
        purpose=Purpose.FRANCECONNECT,
        medium=medium,
        destination=destination,
        lane=accounts.proven_lane(account),
    )


def link_code_check(*, account: Account, code: str) -> None:
    """Raises CodeInvalid; journaled by verification."""
    verification.code_verify(person=account.person, purpose=Purpose.FRANCECONNECT, code=code)


def link_password_allowed(account: Account) -> bool:
    """Whether the account's password may still be tried to link it today: LINK_PASSWORD_TRIES_PER_DAY wrong ones
    over every FranceConnect flow (each flow allows 5 in a row), then only a code to its validated contact."""
    return counters.get(_link_failures_key(account)) < LINK_PASSWORD_TRIES_PER_DAY


def _link_failures_key(account: Account) -> str:
    return counters.window_key(f"franceconnect-link-failures:{account.pk}", DAY)


@transaction.atomic
def link_failed(*, account: Account) -> None:
    """A wrong password typed to link the account (shown in the person's security history)."""
    counters.incr(_link_failures_key(account), timeout=DAY)
    journal.record("franceconnect.link_failed", person_id=account.person_id)


@transaction.atomic
def refused(*, reason: str) -> None:
    """A callback that failed a check: an alert for the security team, with the reason (never a token). Anyone may
    call the callback: past REFUSALS_JOURNALED_PER_ADDRESS an hour from one address, the rest are not journaled."""
    address = counters.address_bucket(journal_context.current().ip_address)
    key = counters.window_key(f"franceconnect-refused:{address}", HOUR)
    if counters.incr(key, timeout=HOUR) <= REFUSALS_JOURNALED_PER_ADDRESS:
        journal.record("franceconnect.refused", after={"reason": reason[:64]})
