"""Signed-in sessions, for every channel: opening one (`start_session`), its clocks in the session data, its record
in "Mes sessions" (`SessionRecord`), and every way it ends (logout, expiry, "Mes sessions", a password change, an
agent). accounts.middleware.SessionLifetimeMiddleware enforces the clocks; docs/sessions.md says why they are what
they are."""

from __future__ import annotations

import time

from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from moncompte.accounts import devices
from moncompte.accounts.models import Account, SessionRecord
from moncompte.journal import context as journal_context
from moncompte.journal import services as journal
from moncompte.journal.middleware import client_ip

#: When the password was last typed in this session (login or re-authentication), as a Unix time.
SESSION_AUTH_AT = "_auth_at"
#: When the session was opened (the absolute lifetime counts from here; a re-authentication does not extend it).
SESSION_STARTED_AT = "_started_at"
SESSION_LAST_SEEN = "_last_seen"

#: The session data key holding the id of the session's record.
SESSION_RECORD_KEY = "_session_record"
#: last_seen_at is written at most this often (seconds): one write a minute, not one a request.
TOUCH_INTERVAL = 60


class EndReason:
    LOGOUT = "logout"
    EXPIRED = "expired"
    SIGNED_OUT = "signed_out"  # from "Mes sessions"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (a reason, not a secret)
    SECURITY_REPORT = "security_report"
    AGENT = "agent"  # an agent closed them from the admin


# --- Session records -------------------------------------------------------------------------------------------------


@transaction.atomic
def session_record_open(
    *, account: Account, session_key: str | None, via: str, user_agent: str, ip_address: str | None
) -> SessionRecord:
    """A new signed-in session, as "Mes sessions" lists it. The caller stores the record's id in the session."""
    return SessionRecord.objects.create(
        account=account,
        session_ref=journal_context.session_ref(session_key),
        via=via[:16],
        user_agent=(user_agent or "")[:256],
        ip_address=ip_address,
        last_seen_at=timezone.now(),
    )


def session_record_touch(*, record: SessionRecord, session_key: str | None) -> None:
    """The session is in use: move last_seen_at (at most once a minute), and follow the session key when Django
    rotated it (a password change does), so the record keeps the fingerprint the journal entries carry."""
    now = timezone.now()
    ref = journal_context.session_ref(session_key)
    changes = {}
    if (now - record.last_seen_at).total_seconds() >= TOUCH_INTERVAL:
        changes["last_seen_at"] = now
    if ref and ref != record.session_ref:
        changes["session_ref"] = ref
    if changes:
        SessionRecord.objects.filter(pk=record.pk, ended_at__isnull=True).update(**changes)


def session_record_follow_key(*, account: Account, record_id: int | None, session_key: str | None) -> None:
    """The session key was just rotated (a re-authentication, `web.mark_authenticated`): the record takes the new
    key's fingerprint at once rather than at the next request, so that a password change, which keeps the record of
    the current session by that fingerprint, still recognises it. "Mes sessions" knows the current record by the id
    the session holds, which the rotation keeps."""
    ref = journal_context.session_ref(session_key)
    if record_id is None or not ref:
        return
    SessionRecord.objects.filter(pk=record_id, account=account, ended_at__isnull=True).update(session_ref=ref)


def session_record_end(*, account: Account, record_id: int | None, reason: str) -> None:
    """The session ended on its own terms (logout, expiry). Nothing to journal; unknown ids are ignored."""
    if record_id is None:
        return
    SessionRecord.objects.filter(pk=record_id, account=account, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason
    )


def session_records_end_all(*, account: Account, reason: str) -> int:
    """Mark ended every open record of the account (each session is signed out at its next request). Returns how
    many were open; the caller journals why."""
    return SessionRecord.objects.filter(account=account, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason
    )


def session_records_end_others(*, account: Account, keep_session_ref: str, reason: str) -> int:
    """Mark ended every open record of the account but the one of the current session (by its fingerprint; an empty
    one keeps none). Called by `services.password_set`, whose new password already ends those sessions for Django."""
    records = SessionRecord.objects.filter(account=account, ended_at__isnull=True)
    if keep_session_ref:
        records = records.exclude(session_ref=keep_session_ref)
    return records.update(ended_at=timezone.now(), end_reason=reason)


@transaction.atomic
def sessions_end(*, account: Account, records: QuerySet[SessionRecord], scope: str) -> int:
    """The person signs sessions out from "Mes sessions" (`scope`: one, others, all). Each is signed out at its next
    request (SessionLifetimeMiddleware). The caller scoped `records` to the account; this checks it again."""
    ids = list(records.filter(account=account, ended_at__isnull=True).values_list("pk", flat=True))
    if not ids:
        return 0
    SessionRecord.objects.filter(pk__in=ids).update(ended_at=timezone.now(), end_reason=EndReason.SIGNED_OUT)
    journal.record("security.sessions_ended", person_id=account.person_id, after={"scope": scope, "count": len(ids)})
    return len(ids)


@transaction.atomic
def start_session(request: HttpRequest, account: Account, *, via: str) -> None:
    """Log in with a new session key (Django rotates it), start the session clocks, journal the login and make this
    browser a trusted device of the account (a citizen's; an agent's browser is never trusted).

    One transaction: the new session row, last_login, axes' bookkeeping and the journal entry commit together, in
    one commit instead of four (each commit waits for the disk; see docs/benchmarks.md)."""
    agent = account.person_id is None and account.is_staff
    backend = "StaffBackend" if agent else "NirBackend"
    auth_login(request, account, backend=f"moncompte.accounts.authentication.{backend}")
    now = time.time()
    request.session[SESSION_STARTED_AT] = now
    request.session[SESSION_AUTH_AT] = now
    request.session[SESSION_LAST_SEEN] = now
    request.session["auth_via"] = via
    # The session as "Mes sessions" lists it; its id in the session lets SessionLifetimeMiddleware find it.
    record = session_record_open(
        account=account,
        session_key=request.session.session_key,
        via=via,
        user_agent=request.headers.get("User-Agent", ""),
        ip_address=client_ip(request),
    )
    request.session[SESSION_RECORD_KEY] = record.pk
    if not agent:
        devices.device_remember(request, account)
    with journal_context.acting(
        actor_account_id=account.pk, session_ref=journal_context.session_ref(request.session.session_key)
    ):
        journal.record("login.succeeded", person_id=account.person_id, after={"via": via})


def session_end_current(request: HttpRequest) -> None:
    """Sign out: end the session, and its record in "Mes sessions"."""
    if request.user.is_authenticated:
        session_record_end(
            account=request.user, record_id=request.session.get(SESSION_RECORD_KEY), reason=EndReason.LOGOUT
        )
    auth_logout(request)


def session_reauthenticated(request: HttpRequest) -> None:
    """The person just typed their password again (re-authentication). The session gets a new key, its data kept
    (ASVS 7.2.4: a key copied before this point no longer opens the session; the old one is deleted from the store),
    and the password's clock restarts. The absolute lifetime still counts from the login (SESSION_STARTED_AT). The
    login rotates the key itself (`django.contrib.auth.login`, in `start_session`)."""
    request.session.cycle_key()
    request.session[SESSION_AUTH_AT] = time.time()
    if request.user.is_authenticated:
        session_record_follow_key(
            account=request.user,
            record_id=request.session.get(SESSION_RECORD_KEY),
            session_key=request.session.session_key,
        )


# --- Sessions ended by an agent (issue 8, item 4; ASVS 7.4.5) -------------------------------------------------------


@transaction.atomic
def sessions_end_by_agent(*, account: Account, agent_account_id: int | None) -> int:
    """An agent closes every session of an account (a stolen phone reported at the counter, an account under attack).
    Each is signed out at its next request (SessionLifetimeMiddleware), as from "Mes sessions"; the person sees the
    closing in their security history. Returns how many sessions were open."""
    ended = session_records_end_all(account=account, reason=EndReason.AGENT)
    journal.record(
        "security.sessions_ended_by_agent",
        person_id=account.person_id,
        after={"account": account.pk, "count": ended},
        actor_account_id=agent_account_id,
    )
    return ended


@transaction.atomic
def sessions_end_all_by_agent(*, agent_account_id: int | None) -> int:
    """Every citizen's session ends (a leaked session store, a flaw in the login): one UPDATE, one journal entry
    with the count. Agents' sessions stay open, the asking agent's included. Returns how many were open."""
    ended = SessionRecord.objects.filter(ended_at__isnull=True, account__is_staff=False).update(
        ended_at=timezone.now(), end_reason=EndReason.AGENT
    )
    journal.record("security.all_sessions_ended_by_agent", after={"count": ended}, actor_account_id=agent_account_id)
    return ended
