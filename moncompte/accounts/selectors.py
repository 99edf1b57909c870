"""Reads of accounts: whether a person has one, and for "Mes informations", the security history and the session
list, always scoped to one account, never by a bare id. `personal_data` gathers everything held about a person once,
for both download formats."""

from __future__ import annotations

import datetime
import ipaddress
import re
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from moncompte.accounts.models import Account, SecurityReport, SessionRecord
from moncompte.households import policy
from moncompte.households.models import Role
from moncompte.identity.models import FRANCE, CorrectionRequest, Person
from moncompte.identity.nir import NirError, nir_grouped, parse_nir
from moncompte.identity.phones import format_mobile, format_mobile_as_written
from moncompte.journal import kinds
from moncompte.journal.models import Channel, Entry

# --- Security history --------------------------------------------------------------------------------------------

HISTORY_PAGE_SIZE = 20


def has_account(person: Person) -> bool:
    """Whether the person has opened their account (one per person)."""
    return Account.objects.filter(person=person).exists()


def security_history(account: Account) -> QuerySet[Entry]:
    """The account's security events, newest first: entries about the person, and the delegation changes of the
    cases where they are holder, or partner when the delegation was theirs (a grant is recorded about the holder, yet
    it concerns the partner too; a former partner's is none of a new partner's business).
    Who did what is shown by `shows_device`: never another person's device or address."""
    memberships = list(policy.memberships_of(account.person))
    held = [m.case.case_number for m in memberships if m.role == Role.HOLDER]
    partnered = [m.case.case_number for m in memberships if m.role == Role.PARTNER]
    delegation = Q(kind__startswith="delegation.")
    theirs = Q(after__partner=account.person_id) | Q(before__partner=account.person_id)
    mine = (
        Q(person_id=account.person_id)
        | (Q(actor_account_id=account.pk) & delegation)
        | (Q(case_number__in=held) & delegation)
        | (Q(case_number__in=partnered) & delegation & theirs)
    )
    return Entry.objects.filter(mine, kind__in=kinds.security_names()).order_by("-created_at", "-id")


def history_entry_get(account: Account, entry_id) -> Entry:
    """One entry of the account's security history; raises Entry.DoesNotExist for anything else (a foreign id,
    another kind, garbage)."""
    try:
        pk = int(entry_id)
    except (TypeError, ValueError):
        raise Entry.DoesNotExist from None
    return security_history(account).get(pk=pk)


def is_reportable(account: Account, entry: Entry) -> bool:
    """« Ce n'était pas moi » fits what happened on this account by its own hand (or by an unknown hand: a failed
    login); not what another member or an agent did, nor a report itself, nor an undone action."""
    if not kinds.is_disownable(entry) or entry.undone_at:
        return False
    return entry.actor_account_id in (None, account.pk)


def shows_device(account: Account, entry: Entry) -> bool:
    """Device and address are shown for what this account did, or an unknown hand tried (a failed login); never
    those of another member or of an agent."""
    return entry.actor_account_id in (None, account.pk)


# --- Devices and addresses, as a person can read them -------------------------------------------------------------

_BROWSERS = (
    (re.compile(r"EdgA?/|Edg/"), "Edge"),
    (re.compile(r"OPR/|Opera"), "Opera"),
    (re.compile(r"SamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"Firefox/|FxiOS/"), "Firefox"),
    (re.compile(r"Chrome/|CriOS/|Chromium/"), "Chrome"),
    (re.compile(r"Version/[\d.]+.*Safari/"), "Safari"),
)
_SYSTEMS = (
    (re.compile(r"iPhone"), "iPhone"),
    (re.compile(r"iPad"), "iPad"),
    (re.compile(r"Android"), "Android"),
    (re.compile(r"Windows"), "Windows"),
    (re.compile(r"CrOS"), "ChromeOS"),
    (re.compile(r"Mac OS X|Macintosh"), "macOS"),
    (re.compile(r"Linux"), "Linux"),
)


def device_label(user_agent: str) -> str:
    """« Firefox sur Windows »: enough to recognise one's own device, from the User-Agent header."""
    user_agent = user_agent or ""
    if not user_agent:
        return _("Appareil inconnu")
    browser = next((name for pattern, name in _BROWSERS if pattern.search(user_agent)), "")
    system = next((name for pattern, name in _SYSTEMS if pattern.search(user_agent)), "")
    if browser and system:
        return _("%(browser)s sur %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("Autre appareil")


def entry_device(entry: Entry) -> str:
    """What the entry was done from, as its owner recognises it: « Firefox sur Windows », or for the voice server the
    calling number with its middle masked (« Serveur vocal, depuis le 06 •• •• •• 78 »)."""
    if entry.channel != Channel.PHONE:
        return device_label(entry.user_agent)
    if not entry.caller:
        return _("Serveur vocal, numéro masqué")
    first, _space, rest = format_mobile_as_written(entry.caller).partition(" ")
    masked = re.sub(r"\d", "•", rest[:-2]) + rest[-2:]  # the first group and the last two digits stay
    return _("Serveur vocal, depuis le %(number)s") % {"number": f"{first} {masked}"}


def ip_masked(ip: str | None) -> str:
    """203.0.113.•• or 2001:db8:…: the network, not the machine."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if address.version == 4:
        return ".".join(str(address).split(".")[:3]) + ".••"
    return ":".join(address.exploded.split(":")[:2]) + ":…"


# --- Sessions ------------------------------------------------------------------------------------------------------


def sessions_active(account: Account) -> QuerySet[SessionRecord]:
    """Sessions not ended and not expired by the clocks (a browser closed without signing out leaves its record
    open: it counts as ended once the idle timeout or the absolute lifetime has passed). last_seen_at is written at
    most once a minute, hence the minute of slack."""
    now = timezone.now()
    idle_limit = now - datetime.timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 60)
    absolute_limit = now - datetime.timedelta(seconds=settings.SESSION_ABSOLUTE_LIFETIME)
    return SessionRecord.objects.filter(
        account=account, ended_at__isnull=True, last_seen_at__gte=idle_limit, created_at__gte=absolute_limit
    ).order_by("-last_seen_at", "-id")


def session_get(account: Account, record_id) -> SessionRecord:
    """One active session of the account; raises SessionRecord.DoesNotExist for any other id (someone else's)."""
    try:
        pk = int(record_id)
    except (TypeError, ValueError):
        raise SessionRecord.DoesNotExist from None
    return sessions_active(account).get(pk=pk)


# --- "Mes informations" and the download ---------------------------------------------------------------------------


def birth_country_label(code: str) -> str:
    return _("France") if code == FRANCE else code


def contacts_of(account: Account) -> dict[str, Any]:
    """The validated contacts (where notices go) and the ones on file from the legacy system (unproven)."""
    person = account.person
    return {
        "email": account.email if account.email_verified_at else "",
        "email_validated_at": account.email_verified_at,
        "mobile": account.mobile if account.mobile_verified_at else "",
        "mobile_display": format_mobile(account.mobile) if account.mobile_verified_at else "",
        "mobile_validated_at": account.mobile_verified_at,
        "email_on_file": person.email_on_file,
        "mobile_on_file": person.mobile_on_file,
        "mobile_on_file_display": format_mobile(person.mobile_on_file) if person.mobile_on_file else "",
    }


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


#: What the download shows of an entry's recorded details: harmless words, never ids of other people or values.
_ENTRY_DETAILS = ("via", "medium", "reason", "purpose", "topic", "source", "scope")


def personal_data(account: Account) -> dict[str, Any]:
    """Everything the agency holds about the account's person, in one structure for the JSON and the readable
    document: identity (full NIR: it is the person's own), contacts, memberships (case number and own role only),
    correction requests, sessions, security reports and the journal entries about the person.

    Never another person's data: no other member, no actor's device or address unless it is this account, none of
    the values an entry keeps for undoing, no hash, no session fingerprint."""
    person = account.person
    nir = None
    if person.nir:
        try:
            parsed = parse_nir(person.nir)
            nir = {"value": parsed.value, "key": parsed.key, "formatted": nir_grouped(parsed.with_key)}
        except NirError:  # a stored NIR always parses; an export must not fail on one that does not
            nir = {"value": person.nir, "key": "", "formatted": person.nir}
    contacts = contacts_of(account)
    entries = Entry.objects.filter(person_id=person.pk).order_by("-created_at", "-id")
    reports = list(SecurityReport.objects.filter(account=account).order_by("-created_at"))
    # The entries the reports are about (the person's own, or a delegation change of their case): for their labels.
    reported = Entry.objects.in_bulk([r.entry_id for r in reports if r.entry_id])
    return {
        "generated_at": _iso(timezone.now()),
        "identity": {
            "nir": nir,
            "provisional_id": person.provisional_id or None,
            # The one a linked NIR replaced: it no longer signs in, but it was theirs.
            "retired_provisional_id": person.retired_provisional_id or None,
            "birth_name": person.birth_name,
            "usage_name": person.usage_name,
            "given_names": person.given_names,
            "birth_date": _iso(person.birth_date),
            "sex": person.sex,
            "sex_label": str(person.get_sex_display()),
            "birthplace": person.birthplace,
            "birth_country": person.birth_country,
            "birth_country_label": birth_country_label(person.birth_country),
        },
        "account": {
            "created_at": _iso(account.created_at),
            "last_login": _iso(account.last_login),
            "password_changed_at": _iso(account.password_changed_at),
            "onboarded_at": _iso(account.onboarded_at),
        },
        "contacts": {
            "validated": {
                "email": contacts["email"] or None,
                "email_validated_at": _iso(contacts["email_validated_at"]),
                "mobile": contacts["mobile"] or None,
                "mobile_validated_at": _iso(contacts["mobile_validated_at"]),
            },
            "on_file": {"email": person.email_on_file or None, "mobile": person.mobile_on_file or None},
        },
        "memberships": [
            {"case_number": m.case.case_number, "role": m.role, "role_label": str(m.get_role_display())}
            for m in policy.memberships_of(person)
        ],
        "correction_requests": [
            {
                "topic": c.topic,
                "topic_label": str(c.get_topic_display()),
                "message": c.message,
                "status": c.status,
                "status_label": str(c.get_status_display()),
                "created_at": _iso(c.created_at),
                "handled_at": _iso(c.handled_at),
            }
            for c in CorrectionRequest.objects.filter(person=person).order_by("-created_at")
        ],
        "sessions": [
            {
                "via": s.via,
                "device": device_label(s.user_agent),
                "user_agent": s.user_agent,
                "ip_address": s.ip_address,
                "opened_at": _iso(s.created_at),
                "last_seen_at": _iso(s.last_seen_at),
                "ended_at": _iso(s.ended_at),
                "end_reason": s.end_reason,
            }
            for s in SessionRecord.objects.filter(account=account).order_by("-created_at")
        ],
        "security_reports": [
            {
                "kind": r.kind,
                "kind_label": kinds.label(reported.get(r.entry_id) or Entry(kind=r.kind)),
                "source": r.source,
                "created_at": _iso(r.created_at),
                "handled_at": _iso(r.handled_at),
            }
            for r in reports
        ],
        "journal": [_entry_data(account, entry) for entry in entries],
    }


def _entry_data(account: Account, entry: Entry) -> dict[str, Any]:
    own = shows_device(account, entry)
    return {
        "date": _iso(entry.created_at),
        "kind": entry.kind,
        "label": kinds.label(entry),
        "channel": entry.channel,
        "channel_label": str(entry.get_channel_display()),
        "case_number": entry.case_number or None,
        "by_me": entry.actor_account_id == account.pk,
        "device": entry_device(entry) if own and (entry.user_agent or entry.caller) else None,
        "ip_address": entry.ip_address if own else None,
        "details": {
            key: entry.after[key] for key in _ENTRY_DETAILS if isinstance(entry.after, dict) and key in entry.after
        },
        "undone_at": _iso(entry.undone_at),
    }
