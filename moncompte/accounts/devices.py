"""Trusted devices (OWASP "slow down online guessing with device cookies").

A successful sign-in leaves, in a signed cookie, a random token that makes this browser a trusted device of that
account (several accounts of a household may share a browser: the cookie holds one token per account, the newest
first). Only the token's hash is stored. The login limits that an attacker who knows a NIR can spend (per NIR
across addresses, per NIR and address) never apply to a trusted device; it has its own small limit per NIR and
device (accounts.throttling). "Ce n'était pas moi" and a password reset withdraw the trust of every device."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from moncompte.accounts.models import Account, TrustedDevice
from moncompte.identity.models import Person
from moncompte.identity.selectors import login_lookup

COOKIE_SALT = "moncompte.trusted-device"
#: Accounts remembered by one browser (a family computer); the oldest token is dropped past it.
MAX_TOKENS = 8
#: Set by `device_remember`, written to the response by DeviceCookieMiddleware.
REQUEST_ATTR = "_device_cookie_tokens"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _max_age() -> int:
    return settings.DEVICE_TRUST_DAYS * 24 * 60 * 60


def _tokens(request: HttpRequest) -> list[str]:
    raw = request.COOKIES.get(settings.DEVICE_COOKIE_NAME)
    if not raw:
        return []
    try:
        tokens = signing.loads(raw, salt=COOKIE_SALT, max_age=_max_age())
    except signing.BadSignature:
        return []
    if not isinstance(tokens, list):
        return []
    return [token for token in tokens if isinstance(token, str)][:MAX_TOKENS]


def device_for_account(request: HttpRequest, account_id: int | None) -> TrustedDevice | None:
    """The trusted device this browser is for that account, or None (no cookie: no query)."""
    tokens = _tokens(request)
    if not tokens or account_id is None:
        return None
    return TrustedDevice.objects.filter(
        account_id=account_id, token_hash__in=[_hash(token) for token in tokens], expires_at__gt=timezone.now()
    ).first()


def device_for_login_id(request: HttpRequest, identifier: str) -> TrustedDevice | None:
    """The trusted device this browser is for the account that signs in with `identifier` (a NIR, or a provisional
    identifier not yet retired), or None."""
    if not _tokens(request):
        return None
    account_id = Account.objects.filter(**login_lookup(identifier, "person__")).values_list("pk", flat=True).first()
    return device_for_account(request, account_id)


def device_for_person(request: HttpRequest, person: Person | None) -> TrustedDevice | None:
    if person is None or not _tokens(request):
        return None
    account_id = Account.objects.filter(person=person).values_list("pk", flat=True).first()
    return device_for_account(request, account_id)


@transaction.atomic
def device_remember(request: HttpRequest, account: Account) -> TrustedDevice:
    """After a successful sign-in: make (or keep) this browser a trusted device of the account, for
    DEVICE_TRUST_DAYS from now. The cookie is written on the response by DeviceCookieMiddleware."""
    now = timezone.now()
    expires = now + timedelta(days=settings.DEVICE_TRUST_DAYS)
    tokens = getattr(request, REQUEST_ATTR, None) or _tokens(request)
    device = device_for_account(request, account.pk)
    if device is not None:
        device.last_used_at, device.expires_at = now, expires
        device.save(update_fields=["last_used_at", "expires_at"])
        token = next(token for token in tokens if _hash(token) == device.token_hash)
    else:
        token = secrets.token_urlsafe(32)
        device = TrustedDevice.objects.create(
            account=account,
            token_hash=_hash(token),
            user_agent=request.headers.get("User-Agent", "")[:256],
            last_used_at=now,
            expires_at=expires,
        )
    setattr(request, REQUEST_ATTR, [token, *(other for other in tokens if other != token)][:MAX_TOKENS])
    return device


@transaction.atomic
def devices_forget(*, account: Account, keep_id: int | None = None) -> int:
    """Withdraw the trust of every device of the account (someone else may hold one), but `keep_id` (the device the
    person is using, after a password change). Returns how many."""
    count, _detail = TrustedDevice.objects.filter(account=account).exclude(pk=keep_id).delete()
    return count


def write_cookie(request: HttpRequest, response: HttpResponse) -> None:
    tokens = getattr(request, REQUEST_ATTR, None)
    if tokens:
        response.set_cookie(
            settings.DEVICE_COOKIE_NAME,
            signing.dumps(tokens, salt=COOKIE_SALT, compress=True),
            max_age=_max_age(),
            path="/",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
