"""An in-process FranceConnect v2 for unit and integration tests: an httpx transport that answers discovery, JWKS,
token and userinfo like FranceConnect (ES256, userinfo as a signed JWT), and lets a test spoil any part of the
answer. The browser part (login and consent at FranceConnect) is `authorize()`, which returns the code the
provider would send back. End-to-end tests use the independent provider instead (tests/browser)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from tests.helpers import LEA

ISSUER = "https://fc.test/api/v2"
CLIENT_ID = "moncompte-test"
CLIENT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class FakeFranceConnect:
    def __init__(self) -> None:
        self.keys = [ECKey.generate_key("P-256", parameters={"kid": "key-1", "alg": "ES256", "use": "sig"})]
        self.signing_key = self.keys[0]
        self.grants: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        self.jwks_fetches = 0
        self.down = False

    # --- What the browser would do at FranceConnect ------------------------------------------------------------

    def authorize(
        self,
        *,
        nonce: str,
        sub: str | None = None,
        identity: dict[str, Any] | None = None,
        id_token: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
        sign: str = "ES256",
        userinfo: dict[str, Any] | None = None,
        userinfo_sign: str = "ES256",
        userinfo_content_type: str = "application/jwt",
    ) -> str:
        """The code FranceConnect sends back after the person logged in. `id_token`, `header` and `userinfo` override
        claims or header fields of the answers (`exp_in` and `iat_in` set exp and iat relative to the moment the
        token is made); `sign` is ES256 (the provider's key), RS256 (a key the provider never published), "forged"
        (another key under the provider's kid), "none" or HS256 (signed with the client secret)."""
        code = secrets.token_urlsafe(24)
        self.grants[code] = {
            "nonce": nonce,
            "sub": sub or secrets.token_hex(32),
            "identity": dict(LEA if identity is None else identity),
            "id_token": id_token or {},
            "header": header or {},
            "sign": sign,
            "userinfo": userinfo or {},
            "userinfo_sign": userinfo_sign,
            "userinfo_content_type": userinfo_content_type,
        }
        return code

    def rotate(self) -> None:
        """A new signing key, published beside the old one (the relying party has the old JWKS in its cache)."""
        key = ECKey.generate_key(
            "P-256", parameters={"kid": f"key-{len(self.keys) + 1}", "alg": "ES256", "use": "sig"}
        )
        self.keys.insert(0, key)
        self.signing_key = key

    # --- The provider's endpoints ------------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("FranceConnect is down", request=request)
        path = request.url.path
        if path == "/api/v2/.well-known/openid-configuration":
            return httpx.Response(200, json=self.metadata())
        if path == "/api/v2/jwks":
            self.jwks_fetches += 1
            return httpx.Response(200, json={"keys": [key.as_dict(private=False) for key in self.keys]})
        if path == "/api/v2/token" and request.method == "POST":
            return self._token(parse_qs(request.content.decode()))
        if path == "/api/v2/userinfo":
            return self._userinfo(request.headers.get("Authorization", ""))
        return httpx.Response(404)

    @staticmethod
    def metadata() -> dict[str, Any]:
        return {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/authorize",
            "token_endpoint": f"{ISSUER}/token",
            "userinfo_endpoint": f"{ISSUER}/userinfo",
            "end_session_endpoint": f"{ISSUER}/session/end",
            "jwks_uri": f"{ISSUER}/jwks",
            "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            "userinfo_signing_alg_values_supported": ["ES256", "RS256"],
            "acr_values_supported": ["eidas1"],
        }

    def _token(self, form: dict[str, list[str]]) -> httpx.Response:
        def one(name: str) -> str:
            return (form.get(name) or [""])[0]

        if one("client_id") != CLIENT_ID or one("client_secret") != CLIENT_SECRET:
            return httpx.Response(401, json={"error": "invalid_client"})
        grant = self.grants.pop(one("code"), None)  # a code is used once
        if grant is None or one("grant_type") != "authorization_code":
            return httpx.Response(400, json={"error": "invalid_grant"})
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": grant["sub"],
            "exp": now + 60,
            "iat": now,
            "nonce": grant["nonce"],
            "acr": "eidas1",
            "amr": ["pwd"],
            **grant["id_token"],
        }
        for name in ("exp", "iat"):  # "exp_in": 60 means exp = now + 60 when the token is made
            if f"{name}_in" in claims:
                claims[name] = now + claims.pop(f"{name}_in")
        claims = {name: value for name, value in claims.items() if value is not None}
        access_token = secrets.token_urlsafe(24)
        self.tokens[access_token] = grant
        id_token = self.sign(claims, grant["sign"], grant["header"])
        return httpx.Response(
            200, json={"access_token": access_token, "token_type": "Bearer", "expires_in": 60, "id_token": id_token}
        )

    def _userinfo(self, authorization: str) -> httpx.Response:
        grant = self.tokens.get(authorization.removeprefix("Bearer "))
        if grant is None:
            return httpx.Response(401, json={"error": "invalid_token"})
        claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": grant["sub"], **grant["identity"], **grant["userinfo"]}
        body = self.sign(claims, grant["userinfo_sign"], {})
        return httpx.Response(200, content=body.encode(), headers={"Content-Type": grant["userinfo_content_type"]})

    def sign(self, claims: dict[str, Any], how: str, header: dict[str, Any]) -> str:
        if how == "none":
            return f"{_b64({'alg': 'none', **header})}.{_b64(claims)}."
        if how == "HS256":
            key = OctKey.import_key(CLIENT_SECRET)
            return jwt.encode({"alg": "HS256", "kid": self.signing_key.kid, **header}, claims, key)
        if how == "forged":  # the provider's kid, another key
            key = ECKey.generate_key("P-256")
            return jwt.encode({"alg": "ES256", "kid": self.signing_key.kid, **header}, claims, key)
        if how == "RS256":
            key = RSAKey.generate_key(2048, parameters={"kid": "not-published"})
            return jwt.encode({"alg": "RS256", "kid": key.kid, **header}, claims, key)
        header = {
            name: value for name, value in {"alg": "ES256", "kid": self.signing_key.kid, **header}.items() if value
        }
        return jwt.encode(header, claims, self.signing_key)
