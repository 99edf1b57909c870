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
from django.utils.translation import gettext_lazy

from moncompte.accounts.models import Account, SecurityReport, SessionRecord
from moncompte.households import policy
from moncompte.households.models import Role
from moncompte.identity.models import FRANCE, CorrectionRequest, Person
from moncompte.identity.nir import NirError, nir_grouped, parse_nir
from moncompte.identity.phones import format_mobile
from moncompte.journal.models import Entry
from moncompte.messaging.models import Medium

# --- Security history --------------------------------------------------------------------------------------------

#: The journal kinds a person sees in "Historique de connexion et de sécurité" (issue 3, item 8).
SECURITY_KINDS = ("login.succeeded", "login.failed", "reauth.failed", "account.created")
SECURITY_KIND_PREFIXES = ("password.", "contact.", "delegation.", "security.")
HISTORY_PAGE_SIZE = 20

#: A French label for every kind of action the journal records (tests/accounts/test_wording.py finds each kind the
#: code records and fails on one missing here). An undo reads "Annulation : <label>".
KIND_LABELS = {
    "login.succeeded": gettext_lazy("Connexion réussie"),
    "login.failed": gettext_lazy("Échec de connexion (mot de passe incorrect)"),
    "reauth.failed": gettext_lazy("Mot de passe incorrect lors d'une confirmation"),
    "account.created": gettext_lazy("Création du compte"),
    "password.created": gettext_lazy("Création du mot de passe"),
    "password.changed": gettext_lazy("Changement du mot de passe"),
    "password.reset": gettext_lazy("Nouveau mot de passe (mot de passe oublié)"),
    "security.reported": gettext_lazy("Signalement « Ce n'était pas moi »"),
    "security.sessions_ended": gettext_lazy("Fermeture de sessions"),
    "correction.requested": gettext_lazy("Signalement d'une erreur dans vos informations"),
    "correction.handled": gettext_lazy("Signalement d'erreur traité par la Caf"),
    "code.sent": gettext_lazy("Envoi d'un code à usage unique"),
    "code.verified": gettext_lazy("Code à usage unique validé"),
    "code.failed": gettext_lazy("Code à usage unique incorrect"),
    "account.onboarded": gettext_lazy("Présentation du nouvel espace vue"),
    "contact.validated": gettext_lazy("Validation d'une coordonnée"),
    "delegation.granted": gettext_lazy("Délégation accordée au conjoint"),
    "delegation.revoked": gettext_lazy("Délégation retirée au conjoint"),
    "security.report_handled": gettext_lazy("Signalement « Ce n'était pas moi » examiné par l'équipe sécurité"),
    "person.corrected": gettext_lazy("Correction de vos informations par la Caf"),
    "signup.code_sent": gettext_lazy("Envoi d'un code pour créer votre compte"),
    "signup.requested": gettext_lazy("Demande de création de compte, à approuver par l'allocataire"),
    "signup.approved": gettext_lazy("Demande de création de compte approuvée par l'allocataire"),
    "signup.refused": gettext_lazy("Demande de création de compte refusée par l'allocataire"),
    "invitation.sent": gettext_lazy("Invitation à créer votre compte envoyée"),
    "invitation.revoked": gettext_lazy("Invitation à créer votre compte annulée"),
    "invitation.accepted": gettext_lazy("Invitation utilisée pour créer votre compte"),
    "invitation.on_file_told": gettext_lazy(
        "Avertissement à vos coordonnées connues de la Caf : invitation envoyée à une autre coordonnée"
    ),
    "separation.declared": gettext_lazy("Déclaration de séparation"),
    "separation.processed": gettext_lazy("Séparation traitée par la Caf"),
    "case.imported": gettext_lazy("Reprise du dossier depuis l'ancien système"),
    "case.pin_changed": gettext_lazy("Changement du mot de passe à 8 chiffres du dossier"),
    "case.pin_rehashed": gettext_lazy("Mise à jour de la protection du mot de passe du dossier"),
    "contact.corrected_by_agent": gettext_lazy("Correction d'une coordonnée par la Caf"),
    "security.sessions_ended_by_agent": gettext_lazy("Fermeture de vos sessions par la Caf"),
    "security.all_sessions_ended_by_agent": gettext_lazy("Fermeture de toutes les sessions par la Caf"),
    "account.roles_changed": gettext_lazy("Changement des droits d'agent du compte"),
    "security.code_budget_spent": gettext_lazy(
        "Nombreux codes demandés ou essayés pour votre numéro : suspendus pour la journée, sauf sur vos appareils "
        "connus"
    ),
    "alert.code_ceiling": gettext_lazy("Plafond de codes à usage unique atteint"),
    "account.deactivated_by_agent": gettext_lazy("Fermeture de votre compte par la Caf"),
    "account.reactivated_by_agent": gettext_lazy("Réouverture de votre compte par la Caf"),
}
#: Delegation granted at the partner's first login with the shared case PIN (origin "case_pin").
DELEGATION_FROM_PIN_LABEL = gettext_lazy("Délégation reprise du mot de passe du dossier, à la première connexion")
PREFIX_LABELS = {
    "password.": gettext_lazy("Mot de passe"),
    "contact.": gettext_lazy("Coordonnées"),
    "delegation.": gettext_lazy("Délégation"),
    "security.": gettext_lazy("Sécurité"),
}
#: Entries that cannot be disowned with "Ce n'était pas moi": a report itself, and what a report did.
NOT_DISOWNABLE_PREFIXES = ("security.",)


def has_account(person: Person) -> bool:
    """Whether the person has opened their account (one per person)."""
    return Account.objects.filter(person=person).exists()


def security_kinds_q() -> Q:
    query = Q(kind__in=SECURITY_KINDS)
    for prefix in SECURITY_KIND_PREFIXES:
        query |= Q(kind__startswith=prefix)
    return query


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
    return Entry.objects.filter(mine & security_kinds_q()).order_by("-created_at", "-id")


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
    if entry.kind.startswith(NOT_DISOWNABLE_PREFIXES) or entry.kind.endswith(".undone") or entry.undone_at:
        return False
    return entry.actor_account_id in (None, account.pk)


def entry_label(entry: Entry) -> str:
    kind = entry.kind
    if kind.endswith(".undone"):
        # An undo entry keeps the undone action's states swapped (its `before` is the action's `after`).
        undone = Entry(kind=kind.removesuffix(".undone"), before=entry.after, after=entry.before)
        return _("Annulation : %(action)s") % {"action": entry_label(undone)}
    if kind == "contact.validated":
        medium = (entry.after or {}).get("medium")
        had_before = any((entry.before or {}).get(field) for field in ("email", "mobile"))
        if medium == Medium.SMS:
            return _("Changement du numéro de mobile") if had_before else _("Validation du numéro de mobile")
        if medium == Medium.EMAIL:
            return _("Changement de l'adresse e-mail") if had_before else _("Validation de l'adresse e-mail")
    if kind == "delegation.granted" and (entry.after or {}).get("origin") == "case_pin":
        return str(DELEGATION_FROM_PIN_LABEL)
    if kind in KIND_LABELS:
        return str(KIND_LABELS[kind])
    for prefix, label in PREFIX_LABELS.items():
        if kind.startswith(prefix):
            return str(label)
    return kind


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
                "kind_label": entry_label(reported.get(r.entry_id) or Entry(kind=r.kind)),
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
        "label": entry_label(entry),
        "channel": entry.channel,
        "channel_label": str(entry.get_channel_display()),
        "case_number": entry.case_number or None,
        "by_me": entry.actor_account_id == account.pk,
        "device": device_label(entry.user_agent) if own and entry.user_agent else None,
        "ip_address": entry.ip_address if own else None,
        "details": {
            key: entry.after[key] for key in _ENTRY_DETAILS if isinstance(entry.after, dict) and key in entry.after
        },
        "undone_at": _iso(entry.undone_at),
    }
