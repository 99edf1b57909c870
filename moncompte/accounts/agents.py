"""Agents (issue 13, item 2): accounts of their own kind, their roles, and their second factor.

An agent's account has no person and a login id that is not a NIR: it can never sign in on the citizens' pages
(`NirBackend` finds accounts through a person), and a citizen's account can never become an agent's (the model's
constraint, `services.account_roles_set`). Agents sign in at the desk's login with their password, then a TOTP code
from an authenticator application (django-otp); the first time, or after a supervisor reset it, they enrol one by QR
code and get ten backup codes. Every agent screen, the desk's and the Django admin's, requires a session whose second
factor was verified.

Roles are permission groups, kept in step with `ROLES` after each `migrate` (`roles_sync`): an operator gives them with
`manage.py agent_create` or `agent_roles`, journaled. Only the security team reaches the incident tooling and the
security reports (`is_security_team`): a superuser who is not in the team does not (docs/decisions/017-agents.md).

Backup codes are stored as a keyed hash (django-otp keeps static tokens as typed): reading the database does not give
them away. Wrong codes slow the device down (django-otp's throttling: 1, 2, 4… seconds after each failure, reset by a
right code), and a session that types five wrong codes in a row is signed out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from moncompte.accounts import sessions
from moncompte.accounts.models import Account
from moncompte.identity.provisional import parse_login_identifier
from moncompte.journal import context as journal_context
from moncompte.journal import services as journal


@dataclass(frozen=True)
class Role:
    key: str
    group: str
    description: str
    permissions: tuple[str, ...]


DESK = "desk"
SUPERVISOR = "supervisor"
SECURITY = "security"

_DESK_PERMISSIONS = ("accounts.desk_use",)
ROLES: dict[str, Role] = {
    DESK: Role(
        DESK,
        "Accueil et téléphone",
        "reçoit les personnes au guichet et au téléphone",
        _DESK_PERMISSIONS,
    ),
    SUPERVISOR: Role(
        SUPERVISOR,
        "Superviseurs",
        "encadre les agents : réinitialise leur double authentification, traite les signalements d'erreur",
        (
            *_DESK_PERMISSIONS,
            "accounts.second_factor_reset",
            "identity.view_correctionrequest",
            "identity.change_correctionrequest",
        ),
    ),
    SECURITY: Role(
        SECURITY,
        "Équipe sécurité",
        "incidents, fermeture du service, signalements « Ce n'était pas moi », alertes et journal",
        (
            "accounts.second_factor_reset",
            "incidents.view_incident",
            "incidents.add_incident",
            "incidents.change_incident",
            "incidents.close_service",
            "incidents.view_closure",
            "incidents.view_notice",
            "incidents.view_workitem",
            "accounts.view_securityreport",
            "accounts.change_securityreport",
            "accounts.view_sessionrecord",
            "accounts.view_account",
            "accounts.change_account",
            "journal.view_entry",
            "journal.view_securityalert",
            "journal.view_read",
        ),
    ),
}

#: The security team's alone (Account.has_perm): the incident tooling, the security reports and alerts, the journal and
#: its record of who saw what. Every permission on these models (view, change, add, delete): one given to an agent
#: one by one, or a superuser's, does not reach them; the team's group does.
SECURITY_ONLY_APPS = frozenset({"incidents"})
SECURITY_ONLY_MODELS = frozenset({"accounts.securityreport", "journal.securityalert", "journal.entry", "journal.read"})


def team_only(perm: str) -> bool:
    app_label, _dot, codename = perm.partition(".")
    model = codename.partition("_")[2]
    return app_label in SECURITY_ONLY_APPS or f"{app_label}.{model}" in SECURITY_ONLY_MODELS


BACKUP_CODES = 10
TOTP_DEVICE_NAME = "Application d'authentification"
BACKUP_DEVICE_NAME = "Codes de secours"


class AgentError(Exception):
    """A refusal an operator or a supervisor reads, in French."""


class SecondFactorRefused(Exception):
    """The code typed is not right."""


class SecondFactorWait(Exception):
    """The device is slowed down after wrong codes (django-otp's throttling): no code is checked until `seconds` have
    passed. Nothing is counted: the agent is told to wait."""

    def __init__(self, seconds: float):
        super().__init__(seconds)
        self.seconds = max(1, math.ceil(seconds))


def _allowed(device) -> None:
    """Raise SecondFactorWait while django-otp refuses to check a code on this device."""
    allowed, data = device.verify_is_allowed()
    if not allowed and data and data.get("locked_until"):
        raise SecondFactorWait((data["locked_until"] - timezone.now()).total_seconds())


# --- Roles ---------------------------------------------------------------------------------------------------------


def roles_sync(**kwargs) -> None:
    """Create the role groups and give them exactly their permissions (those that exist yet: run after each app's
    `migrate`, the last run sees them all)."""
    for role in ROLES.values():
        group, _created = Group.objects.get_or_create(name=role.group)
        wanted = []
        for name in role.permissions:
            app_label, codename = name.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def role_groups(keys: list[str]) -> list[str]:
    """The group names of role keys; raises AgentError for an unknown key."""
    unknown = [key for key in keys if key not in ROLES]
    if unknown:
        raise AgentError(f"Rôle inconnu : {', '.join(unknown)}. Rôles : {', '.join(ROLES)}.")
    return [ROLES[key].group for key in keys]


def roles_of(account: Account) -> list[str]:
    """The role keys the account has, in ROLES's order."""
    if not account.is_authenticated or not account.is_staff:
        return []
    cache = account.__dict__.get("_agent_roles")
    if cache is None:
        names = set(account.groups.values_list("name", flat=True))
        cache = [key for key, role in ROLES.items() if role.group in names]
        account.__dict__["_agent_roles"] = cache
    return cache


def has_role(account, key: str) -> bool:
    return bool(getattr(account, "is_authenticated", False)) and account.is_active and key in roles_of(account)


def is_security_team(account) -> bool:
    """The incident tooling and the security reports are theirs alone (a superuser outside the team included)."""
    return has_role(account, SECURITY) and is_verified(account)


def is_verified(account) -> bool:
    """Whether this request's agent proved their second factor in this session (django-otp's middleware)."""
    check = getattr(account, "is_verified", None)
    return bool(getattr(account, "is_authenticated", False) and account.is_staff and check is not None and check())


def agents():
    """Every agent's account, for the supervisors' list."""
    return Account.objects.filter(person__isnull=True, is_staff=True).order_by("login_id")


@transaction.atomic
def agent_create(*, login_id: str, password: str, roles: list[str], reason: str) -> Account:
    """Open an agent's account. Its login id cannot be read as a NIR or a provisional identifier (the two logins
    never meet); its password follows the citizens' rules. The second factor is enrolled at the first sign-in."""
    login_id = login_id.strip()
    if not login_id or len(login_id) > 32 or any(ch.isspace() for ch in login_id):
        raise AgentError("L'identifiant d'un agent fait de 1 à 32 caractères, sans espace.")
    try:
        parse_login_identifier(login_id)
    except ValueError:
        pass
    else:
        raise AgentError("L'identifiant d'un agent ne peut pas être un numéro de Sécurité sociale.")
    if Account.objects.filter(login_id=login_id).exists():
        raise AgentError(f"Un compte a déjà l'identifiant « {login_id} ».")
    groups = role_groups(roles)
    account = Account(login_id=login_id, is_staff=True)
    validate_password(password, user=account)
    account.set_password(password)
    account.save()
    account.groups.set(Group.objects.filter(name__in=groups))
    journal.record(
        "agent.created", after={"account": account.pk, "login_id": login_id, "roles": roles, "reason": reason}
    )
    return account


# --- Second factor -------------------------------------------------------------------------------------------------


def totp_confirmed(account: Account) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(account, confirmed=True).first()


def has_second_factor(account: Account) -> bool:
    return totp_confirmed(account) is not None


def backup_codes_left(account: Account) -> int:
    return StaticToken.objects.filter(device__user=account, device__confirmed=True).count()


@transaction.atomic
def enrolment_start(account: Account) -> TOTPDevice:
    """A new secret to scan, while the agent has no confirmed device (first sign-in, or after a reset): the earlier
    unconfirmed one is dropped. Raises AgentError when one is confirmed already."""
    if has_second_factor(account):
        raise AgentError("Votre double authentification est déjà activée.")
    TOTPDevice.objects.filter(user=account, confirmed=False).delete()
    return TOTPDevice.objects.create(user=account, name=TOTP_DEVICE_NAME, confirmed=False)


def enrolment_pending(account: Account) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=account, confirmed=False).order_by("-id").first()


def secret_grouped(device: TOTPDevice) -> str:
    """The secret as an authenticator application's manual entry takes it: base32, by groups of four."""
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def enrolment_confirm(*, account: Account, device: TOTPDevice, token: str) -> list[str]:
    """The first code of the scanned secret proves the application has it: the device is confirmed and ten backup
    codes are made, returned once (only their keyed hash is kept). Raises SecondFactorRefused."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=account, confirmed=False).first()
        if device is None or has_second_factor(account):
            raise SecondFactorRefused
        _allowed(device)
        verified = device.verify_token(_digits(token))
    if not verified:
        with journal_for(account):
            journal.record("agent.second_factor_failed", after={"account": account.pk, "step": "enrolment"})
        raise SecondFactorRefused
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _backup_codes_new(account)
        with journal_for(account):
            journal.record("agent.second_factor_enrolled", after={"account": account.pk})
    return codes


def second_factor_check(*, account: Account, token: str, application_only: bool = False) -> TOTPDevice | StaticDevice:
    """A code of the agent's application (6 digits) or one of their backup codes: the device that took it (used up,
    for a backup code), or SecondFactorRefused (journaled); SecondFactorWait while the device is slowed down."""
    typed = "".join(ch for ch in str(token) if ch.isalnum()).lower()[:16]
    device: TOTPDevice | StaticDevice | None
    with transaction.atomic():
        if application_only and not (typed.isdigit() and len(typed) == 6):
            device = None
            accepted = False
        elif typed.isdigit() and len(typed) == 6:
            device = TOTPDevice.objects.select_for_update().filter(user=account, confirmed=True).first()
            if device is not None:
                _allowed(device)
            accepted = device is not None and device.verify_token(typed)
        else:
            device = StaticDevice.objects.select_for_update().filter(user=account, confirmed=True).first()
            if device is not None:
                _allowed(device)
            accepted = device is not None and bool(typed) and device.verify_token(backup_code_hash(typed))
    with transaction.atomic(), journal_for(account):
        if not accepted:
            journal.record("agent.second_factor_failed", after={"account": account.pk, "step": "login"})
        elif isinstance(device, StaticDevice):
            journal.record("agent.backup_code_used", after={"account": account.pk, "left": backup_codes_left(account)})
        else:
            journal.record("agent.second_factor_verified", after={"account": account.pk})
    if not accepted:  # raised once the entry is committed
        raise SecondFactorRefused
    return device


@transaction.atomic
def backup_codes_renew(*, account: Account) -> list[str]:
    """Ten new backup codes; the old ones stop working."""
    codes = _backup_codes_new(account)
    journal.record("agent.backup_codes_renewed", after={"account": account.pk})
    return codes


@transaction.atomic
def second_factor_reset(*, agent: Account, by: Account, reason: str) -> None:
    """A supervisor resets another agent's second factor (a lost phone): the devices are deleted, the agent's
    sessions end, and their next sign-in enrols a new application. A supervisor cannot reset their own."""
    agent = Account.objects.select_for_update().get(pk=agent.pk)
    if agent.person_id is not None or not agent.is_staff:
        raise AgentError("Ce compte n'est pas celui d'un agent.")
    if agent.pk == by.pk:
        raise AgentError("Vous ne pouvez pas réinitialiser votre propre double authentification : demandez-le à un "
                         "autre superviseur.")  # fmt: skip
    if not may_reset(by, agent):
        raise AgentError(
            f"{agent.login_id} a des droits que vous n'avez pas : sa double authentification ne peut être "
            "réinitialisée que par un agent qui les a aussi (l'équipe sécurité pour les siens)."
        )
    if not reason.strip():
        raise AgentError("Indiquez le motif de la réinitialisation.")
    TOTPDevice.objects.filter(user=agent).delete()
    StaticDevice.objects.filter(user=agent).delete()
    ended = sessions.session_records_end_all(account=agent, reason=sessions.EndReason.AGENT)
    journal.record(
        "agent.second_factor_reset",
        after={"account": agent.pk, "login_id": agent.login_id, "reason": reason.strip()[:500], "sessions": ended},
    )


def may_reset(by: Account, agent: Account) -> bool:
    """Whether `by` may reset `agent`'s second factor: someone else, with the permission, whose roles give at least
    what the agent's give (a supervisor cannot strip the security team's second factor, nor a superuser's, to enrol
    their own application on it)."""
    if agent.pk == by.pk or not by.has_perm("accounts.second_factor_reset"):
        return False
    if agent.is_superuser and not by.is_superuser:
        return False
    return _role_permissions(agent) <= _role_permissions(by)


def _role_permissions(account: Account) -> set[str]:
    return {name for key in roles_of(account) for name in ROLES[key].permissions}


def backup_code_hash(code: str) -> str:
    """What is stored for a backup code: 16 hex digits of its HMAC under the project's secret key."""
    normalised = "".join(ch for ch in code if ch.isalnum()).lower()
    return hmac.new(settings.SECRET_KEY.encode(), normalised.encode(), hashlib.sha256).hexdigest()[:16]


def backup_code_display(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def _backup_codes_new(account: Account) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=account, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper
    codes = ["".join(secrets.choice(alphabet) for _ in range(10)) for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=backup_code_hash(code)) for code in codes)
    return [backup_code_display(code) for code in codes]


def _digits(token: str) -> str:
    return "".join(ch for ch in str(token) if ch.isdigit())[:6]


def journal_for(account: Account):
    """Entries about an agent's own sign-in name them as the actor (the session may not be signed in yet)."""
    return journal_context.acting(actor_account_id=account.pk)
