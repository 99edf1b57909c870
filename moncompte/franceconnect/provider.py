"""The OpenID Connect relying party for FranceConnect v2: discovery, the authorization request, the token exchange,
and the checks of the id_token and of the signed userinfo (`../shared/TIPS.md`, FranceConnect v2).

Every setting comes from the environment (`FRANCECONNECT_*`, README). The URLs the provider sends the browser back
to are built from SITE_URL, never from the request. authlib's OAuth 2.0 helpers build the authorization request
and the token request (httpx carries them: authlib's own httpx client is deprecated in favour of another package);
joserfc checks every signature with a key of the provider's JWKS chosen by `kid`, with `alg` in an allow-list of
ES256/RS256 (never `none`, never HS*, whatever the token says). An unknown `kid` refetches the JWKS once (the
provider rotated its keys), then fails.

Any failure raises `Refused` with a `reason` (a short English code, journaled) and a French message for the person:
the person is never told which check failed, the journal is.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext_lazy
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from moncompte.lib.links import absolute_url

#: Never anything else, whatever the provider's metadata or a token's header says.
SAFE_ALGORITHMS = frozenset({"ES256", "RS256"})
SCOPES = "openid given_name family_name birthdate gender birthplace birthcountry email preferred_username"
#: eIDAS levels at or above the one asked for are accepted (eidas1 is FranceConnect's; FranceConnect+ gives more).
ACR_LEVELS = ("eidas1", "eidas2", "eidas3")
STATE_BYTES = 32  # token_urlsafe(32): 43 characters, more than the 32 FranceConnect requires
METADATA_CACHE_SECONDS = 3600
_DISCOVERY_KEY = "franceconnect:discovery"
_JWKS_KEY = "franceconnect:jwks"

#: Tests replace this with an httpx transport that plays the provider (in process); None: the network.
transport: httpx.BaseTransport | None = None

UNAVAILABLE = gettext_lazy(
    "FranceConnect ne répond pas pour le moment. Réessayez dans quelques minutes, ou connectez-vous avec votre "
    "numéro de Sécurité sociale et votre mot de passe."
)
REFUSED = gettext_lazy(
    "La connexion avec FranceConnect n'a pas pu être vérifiée : vous n'êtes pas connecté. Recommencez depuis la page "
    "de connexion, ou connectez-vous avec votre numéro de Sécurité sociale et votre mot de passe."
)


class Refused(Exception):
    """The provider's answer cannot be trusted or used. `reason` is for the journal, `message` for the person."""

    def __init__(self, reason: str, message=REFUSED) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


class Unavailable(Refused):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, UNAVAILABLE)


def enabled() -> bool:
    return bool(settings.FRANCECONNECT_ISSUER and settings.FRANCECONNECT_CLIENT_ID)


def algorithms() -> list[str]:
    return sorted(SAFE_ALGORITHMS & set(settings.FRANCECONNECT_ALGORITHMS))


def redirect_uri() -> str:
    return absolute_url(reverse("franceconnect:callback"))


def post_logout_redirect_uri() -> str:
    return absolute_url(reverse("franceconnect:logged_out"))


def new_secret() -> str:
    """A state or a nonce: 43 URL-safe random characters."""
    return secrets.token_urlsafe(STATE_BYTES)


# --- Metadata --------------------------------------------------------------------------------------------------------


def _http() -> httpx.Client:
    return httpx.Client(timeout=settings.FRANCECONNECT_TIMEOUT, transport=transport, follow_redirects=False)


def _get_json(url: str) -> dict[str, Any]:
    try:
        with _http() as client:
            response = client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            data = response.json()
    except (httpx.HTTPError, ValueError):
        raise Unavailable("metadata_unreachable") from None
    if not isinstance(data, dict):
        raise Unavailable("metadata_invalid")
    return data


def discovery() -> dict[str, Any]:
    """The provider's OpenID configuration, cached for an hour; its issuer must be the one configured."""
    metadata = cache.get(_DISCOVERY_KEY)
    if metadata is None:
        issuer = settings.FRANCECONNECT_ISSUER.rstrip("/")
        metadata = _get_json(f"{issuer}/.well-known/openid-configuration")
        if metadata.get("issuer") != settings.FRANCECONNECT_ISSUER:
            raise Unavailable("discovery_issuer_mismatch")
        for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(name), str):
                raise Unavailable("discovery_incomplete")
        cache.set(_DISCOVERY_KEY, metadata, METADATA_CACHE_SECONDS)
    return metadata


def _key_set(*, refresh: bool = False) -> KeySet:
    data = None if refresh else cache.get(_JWKS_KEY)
    if data is None:
        data = _get_json(discovery()["jwks_uri"])
        cache.set(_JWKS_KEY, data, METADATA_CACHE_SECONDS)
    try:
        # Only public signing keys: a symmetric ("oct") key in a JWKS would let HS256 tokens through.
        keys = [key for key in data.get("keys", []) if isinstance(key, dict) and key.get("kty") in ("EC", "RSA")]
        return KeySet.import_key_set({"keys": keys})
    except (JoseError, ValueError, TypeError):
        raise Unavailable("jwks_invalid") from None


# --- The flow --------------------------------------------------------------------------------------------------------


def authorization_url(*, state: str, nonce: str) -> str:
    return prepare_grant_uri(
        discovery()["authorization_endpoint"],
        client_id=settings.FRANCECONNECT_CLIENT_ID,
        response_type="code",
        redirect_uri=redirect_uri(),
        scope=SCOPES,
        state=state,
        nonce=nonce,
        acr_values=settings.FRANCECONNECT_ACR,
        prompt="login consent",
    )


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    claims: dict[str, Any]  # of the id_token, checked


def exchange_code(*, code: str, nonce: str) -> Tokens:
    """Exchange the authorization code, then check the id_token. Raises Refused or Unavailable."""
    if not code or len(code) > 512:
        raise Refused("code_invalid")
    body = prepare_token_request(
        "authorization_code",
        code=code,
        redirect_uri=redirect_uri(),
        client_id=settings.FRANCECONNECT_CLIENT_ID,
        client_secret=settings.FRANCECONNECT_CLIENT_SECRET,  # client_secret_post, as FranceConnect registers it
    )
    try:
        with _http() as client:
            response = client.post(
                discovery()["token_endpoint"],
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            )
            token = response.json()
    except (httpx.HTTPError, ValueError):
        raise Unavailable("token_unreachable") from None
    if not isinstance(token, dict):
        raise Refused("token_invalid")
    if response.status_code != 200 or "error" in token:
        raise Refused(f"token_error:{str(token.get('error', response.status_code))[:40]}")
    id_token, access_token = token.get("id_token"), token.get("access_token")
    if not isinstance(id_token, str) or not isinstance(access_token, str):
        raise Refused("token_incomplete")
    claims = verify(id_token, nonce=nonce)
    return Tokens(id_token=id_token, access_token=access_token, claims=claims)


def userinfo(tokens: Tokens) -> dict[str, Any]:
    """The signed userinfo, checked like the id_token; its `sub` must be the id_token's."""
    try:
        with _http() as client:
            response = client.get(
                discovery()["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens.access_token}"}
            )
            response.raise_for_status()
    except httpx.HTTPError:
        raise Unavailable("userinfo_unreachable") from None
    if response.headers.get("content-type", "").split(";")[0].strip() != "application/jwt":
        raise Refused("userinfo_not_signed")
    claims = verify(response.text.strip(), nonce=None)
    if claims.get("sub") != tokens.claims["sub"]:
        raise Refused("userinfo_sub_mismatch")
    return claims


def end_session_url(*, id_token: str, state: str) -> str | None:
    """Where to send the browser to sign out of FranceConnect too; None if the provider has no end-session."""
    try:
        endpoint = discovery().get("end_session_endpoint")
    except Refused:
        return None
    if not isinstance(endpoint, str):
        return None
    query = urlencode(
        {"id_token_hint": id_token, "state": state, "post_logout_redirect_uri": post_logout_redirect_uri()}
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


# --- Checking a signed token -----------------------------------------------------------------------------------------


def verify(token: str, *, nonce: str | None) -> dict[str, Any]:
    """Check a signed JWT of the provider (the id_token when `nonce` is given, the userinfo otherwise); its claims."""
    header = _header(token)
    alg = header.get("alg")
    if alg not in algorithms():
        raise Refused("alg_not_allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Refused("kid_missing")
    key_set = _key_set()
    if not any(key.kid == kid for key in key_set.keys):
        key_set = _key_set(refresh=True)  # the provider may have rotated its keys
        if not any(key.kid == kid for key in key_set.keys):
            raise Refused("kid_unknown")
    key = next(key for key in key_set.keys if key.kid == kid)
    try:
        decoded = jwt.decode(token, key, algorithms=[alg])
    except BadSignatureError:
        raise Refused("bad_signature") from None
    except (JoseError, ValueError):
        raise Refused("token_malformed") from None

    options: dict[str, Any] = {
        "iss": {"essential": True, "value": settings.FRANCECONNECT_ISSUER},
        "aud": {"essential": True, "value": settings.FRANCECONNECT_CLIENT_ID},
        "sub": {"essential": True},
    }
    if nonce is not None:
        requested = ACR_LEVELS.index(settings.FRANCECONNECT_ACR) if settings.FRANCECONNECT_ACR in ACR_LEVELS else 0
        options |= {
            "exp": {"essential": True},
            "iat": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
            "acr": {"essential": True, "values": list(ACR_LEVELS[requested:])},
        }
    claims = decoded.claims
    try:
        jwt.JWTClaimsRegistry(leeway=settings.FRANCECONNECT_LEEWAY, **options).validate(claims)
    except ExpiredTokenError:
        raise Refused("expired") from None
    except (MissingClaimError, InvalidClaimError) as error:
        raise Refused(f"claim_{_claim_name(error)}") from None
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != settings.FRANCECONNECT_CLIENT_ID:
        raise Refused("claim_azp")
    return claims


def _header(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS, read before anything is trusted (to pick the key and refuse `alg`)."""
    parts = token.split(".") if isinstance(token, str) and len(token) < 16_384 else []
    if len(parts) != 3:
        raise Refused("token_malformed")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, UnicodeError):
        raise Refused("token_malformed") from None
    if not isinstance(header, dict):
        raise Refused("token_malformed")
    return header


def _claim_name(error: JoseError) -> str:
    return str(getattr(error, "claim", "") or error.description or "invalid")[:20]
