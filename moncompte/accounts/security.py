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
from django.urls import reverse
from django.utils import timezone

from moncompte.accounts import devices, services, sessions
from moncompte.accounts.models import Account, SecurityReport
from moncompte.accounts.sessions import EndReason
from moncompte.households.models import Delegation, DelegationOrigin
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.services import message_queue, person_notify
from moncompte.verification import services as verification
from moncompte.verification.models import Purpose

# --- Contact changes -------------------------------------------------------------------------------------------------


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
        ended = sessions.session_records_end_all(account=account, reason=EndReason.SECURITY_REPORT)
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
    ended = sessions.session_records_end_all(account=account, reason=EndReason.AGENT)
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
