"""Changes behind "Mes informations" (issue 3, items 5, 6 and 8): contact changes, "Ce n'était pas moi" and the
session records. Each function runs in one transaction and writes its journal entry in it.

Session records are bookkeeping, not actions: opening one is part of the login (journaled as `login.succeeded`),
touching and ending one at logout or expiry is not journaled. A person signing sessions out is
(`security.sessions_ended`). Neither that nor `security.reported` is undoable: undoing them would hand a session or
a password back to whoever the person disowned.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from django.core import signing
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from moncompte.accounts import devices, services
from moncompte.accounts.models import Account, SecurityReport, SessionRecord
from moncompte.households.models import Delegation, DelegationOrigin
from moncompte.journal import context as journal_context
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.services import message_queue, person_notify
from moncompte.verification import services as verification
from moncompte.verification.models import OneTimeCode, Purpose

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


# --- Contact changes -------------------------------------------------------------------------------------------------


def contact_change_start(*, account: Account, medium: str, value: str) -> OneTimeCode:
    """Send a code to the NEW contact (raises CodeThrottled). The caller re-authenticated the person and checked
    that the value differs from the current one."""
    return services.contact_send_code(account=account, medium=medium, value=value)


def contact_change_confirm(*, account: Account, code: str, site_url: str) -> Account:
    """Check the code (raises CodeInvalid; wrong tries are counted), record the new contact, warn the contacts the
    person had validated until now (with a "Ce n'était pas moi" link) and confirm to the new one.

    `site_url`: the site's address (scheme and host), for the link in the messages."""
    otp = verification.code_verify(person=account.person, purpose=Purpose.CONTACT, code=code)
    with transaction.atomic():
        previous = services.validated_contacts(account.person_id)
        services.contact_validated(account=account, medium=otp.medium, value=otp.destination)
        entry = Entry.objects.filter(person_id=account.person_id, kind="contact.validated").latest("pk")
        context = {
            "person": account.person,
            "when": timezone.localtime(entry.created_at),
            "medium": otp.medium,
            # Replaced, or added (a first mobile): the old contacts are told which, in plain words.
            "replaced": bool(previous.get(otp.medium)),
            "new_contact": verification.mask_destination(otp.destination),
            "not_me_url": not_me_url(site_url=site_url, account=account, entry=entry),
            "reset_url": site_url.rstrip("/") + reverse("accounts:password_reset"),
        }
        for medium, address in previous.items():
            if address != otp.destination:
                message_queue(
                    medium=medium,
                    to=address,
                    template="accounts/notices/contact_changed_old",
                    context=context,
                    person_id=account.person_id,
                )
        message_queue(
            medium=otp.medium,
            to=otp.destination,
            template="accounts/notices/contact_changed_new",
            context=context,
            person_id=account.person_id,
        )
    return account


# --- "Ce n'était pas moi" ------------------------------------------------------------------------------------------

NOT_ME_SALT = "moncompte.accounts.not-me"
NOT_ME_MAX_AGE = datetime.timedelta(days=30)


class NotMeLinkError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "expired" or "invalid"


def not_me_token(*, account: Account, entry: Entry) -> str:
    return signing.dumps({"a": account.pk, "e": entry.pk}, salt=NOT_ME_SALT)


def not_me_url(*, site_url: str, account: Account, entry: Entry) -> str:
    """The absolute "Ce n'était pas moi" link of a notice about `entry` (any app may put one in its notices)."""
    path = reverse("profile:not_me", kwargs={"token": not_me_token(account=account, entry=entry)})
    return site_url.rstrip("/") + path


def not_me_check(token: str) -> tuple[Account, Entry]:
    """The account and journal entry a link names; raises NotMeLinkError for an expired, tampered or foreign one."""
    try:
        payload = signing.loads(token, salt=NOT_ME_SALT, max_age=NOT_ME_MAX_AGE)
    except signing.SignatureExpired:
        raise NotMeLinkError("expired") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise NotMeLinkError("invalid") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("a"), int) or not isinstance(payload.get("e"), int):
        raise NotMeLinkError("invalid")
    account = Account.objects.select_related("person").filter(pk=payload["a"], person__isnull=False).first()
    entry = Entry.objects.filter(pk=payload["e"]).first()
    if account is None or entry is None or entry.person_id != account.person_id:
        raise NotMeLinkError("invalid")
    return account, entry


@dataclass(frozen=True)
class ReportOutcome:
    report: SecurityReport
    already_reported: bool = False
    contact_restored: bool = False
    sessions_ended: int = 0


def security_report(*, account: Account, entry: Entry, source: str, site_url: str) -> ReportOutcome:
    """The person disowns `entry` (from a notice's link, or from the security history):

    - every session of the account ends (records ended; a new password hash ends them for Django too);
    - the password is replaced by a random one nobody knows: the person sets a new one through "Mot de passe
      oublié ?" (an *unusable* password would let the case PIN open the account again, for anyone who knows it);
    - pending one-time codes are voided (one may have gone to a contact the person disowns);
    - every trusted device of the account loses its trust (whoever acted may hold one);
    - a contact change is undone if nothing changed that contact since, so the reset code goes to the old one;
    - a delegation the holder did not grant is withdrawn, if still running (the partner is told);
    - a SecurityReport is filed for the security team, `security.reported` is journaled, the person is told.

    A second report of the same entry changes nothing (the person may have set a new password since)."""
    with transaction.atomic():
        account = Account.objects.select_for_update(of=("self",)).select_related("person").get(pk=account.pk)
        existing = SecurityReport.objects.filter(account=account, entry_id=entry.pk).first()
        if existing is not None:
            return ReportOutcome(existing, already_reported=True)
        contact_restored = _undo_contact_change(account, entry)
        if contact_restored:
            account.refresh_from_db()
        delegation_withdrawn = _undo_delegation_grant(account, entry)
        account.set_password(secrets.token_urlsafe(32))
        account.save(update_fields=["password"])
        # A code in flight may be a reset code sent to the disowned contact: none survives the report.
        verification.codes_void_all(person_id=account.person_id)
        # Whoever acted may hold a trusted device of the account: it loses the trust, and the limits apply to it.
        devices_forgotten = devices.devices_forget(account=account)
        ended = SessionRecord.objects.filter(account=account, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=EndReason.SECURITY_REPORT
        )
        report = SecurityReport.objects.create(account=account, entry_id=entry.pk, kind=entry.kind, source=source)
        journal.record(
            "security.reported",
            person_id=account.person_id,
            after={
                "report": report.pk,
                "entry": entry.pk,
                "kind": entry.kind,
                "source": source,
                "contact_restored": contact_restored,
                "devices_forgotten": devices_forgotten,
                "delegation_withdrawn": delegation_withdrawn,
                "sessions_ended": ended,
                "password_disabled": True,
            },
        )
        person_notify(
            person_id=account.person_id,
            template="accounts/notices/security_report_received",
            context={
                "person": account.person,
                "when": timezone.localtime(report.created_at),
                "contact_restored": contact_restored,
                "reset_url": site_url.rstrip("/") + reverse("accounts:password_reset"),
            },
        )
    return ReportOutcome(report, contact_restored=contact_restored, sessions_ended=ended)


def _undo_delegation_grant(account: Account, entry: Entry) -> bool:
    """A grant the holder disowns ends, if it is still the running delegation; the partner is told it ended."""
    if entry.kind != "delegation.granted" or entry.undone_at is not None or entry.person_id != account.person_id:
        return False
    if (entry.after or {}).get("origin") != DelegationOrigin.HOLDER:
        return False
    delegation = Delegation.objects.filter(pk=(entry.after or {}).get("delegation"), revoked_at__isnull=True).first()
    if delegation is None:
        return False
    journal.undo(entry)
    person_notify(
        person_id=delegation.partner_id,
        template="households/notices/delegation_revoked",
        context={
            "person": delegation.partner,
            "as_holder": False,
            "case_number": entry.case_number,
            "when": timezone.localtime(),
        },
    )
    return True


def _undo_contact_change(account: Account, entry: Entry) -> bool:
    if entry.kind != "contact.validated" or entry.undone_at is not None:
        return False
    field, _verified = services.contact_field((entry.after or {}).get("medium", ""))
    if getattr(account, field) != (entry.after or {}).get(field):
        return False  # changed again since: restoring the old value would undo more than the person disowned
    journal.undo(entry)
    return True


@transaction.atomic
def security_report_mark_handled(*, report: SecurityReport, agent_account_id: int | None) -> SecurityReport:
    """The security team looked into the report."""
    report = SecurityReport.objects.select_for_update().get(pk=report.pk)
    if report.handled_at is None:
        report.handled_at = timezone.now()
        report.save(update_fields=["handled_at"])
        journal.record(
            "security.report_handled",
            person_id=report.account.person_id,
            after={"report": report.pk},
            actor_account_id=agent_account_id,
        )
    return report


# --- Sessions ended by an agent (issue 8, item 4; ASVS 7.4.5) -------------------------------------------------------

#: The end reason of the sessions an agent closed from the admin.
END_REASON_AGENT = "agent"


@transaction.atomic
def sessions_end_by_agent(*, account: Account, agent_account_id: int | None) -> int:
    """An agent closes every session of an account (a stolen phone reported at the counter, an account under attack).
    Each is signed out at its next request (SessionLifetimeMiddleware), as from "Mes sessions"; the person sees the
    closing in their security history. Returns how many sessions were open."""
    ended = SessionRecord.objects.filter(account=account, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=END_REASON_AGENT
    )
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
        ended_at=timezone.now(), end_reason=END_REASON_AGENT
    )
    journal.record("security.all_sessions_ended_by_agent", after={"count": ended}, actor_account_id=agent_account_id)
    return ended


@transaction.atomic
def account_deactivate_by_agent(*, account: Account, agent_account_id: int | None) -> bool:
    """An agent closes an account (a death, a fraud under investigation): it can no longer sign in, by any pathway
    nor a reset (ASVS 7.4.2), every session ends, every device loses its trust and every code in flight is voided.
    Journaled; the person is not told here (the agency writes to them as the case requires). Returns False when the
    account was already closed (nothing changes)."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    if not account.is_active:
        return False
    account.is_active = False
    account.save(update_fields=["is_active"])
    ended = SessionRecord.objects.filter(account=account, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=END_REASON_AGENT
    )
    devices.devices_forget(account=account)
    verification.codes_void_all(person_id=account.person_id)
    journal.record(
        "account.deactivated_by_agent",
        person_id=account.person_id,
        after={"account": account.pk, "sessions_ended": ended},
        actor_account_id=agent_account_id,
    )
    return True


@transaction.atomic
def account_reactivate_by_agent(*, account: Account, agent_account_id: int | None) -> bool:
    """An agent reopens a closed account. Its password is unchanged; no session or device trust comes back.
    Journaled. Returns False when the account was open (nothing changes)."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    if account.is_active:
        return False
    account.is_active = True
    account.save(update_fields=["is_active"])
    journal.record(
        "account.reactivated_by_agent",
        person_id=account.person_id,
        after={"account": account.pk},
        actor_account_id=agent_account_id,
    )
    return True
