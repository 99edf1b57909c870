"""The relying party against an in-process FranceConnect v2 (tests/franceconnect/fake_provider.py): the
authorization request, the token exchange, and every check of the id_token and of the signed userinfo."""

import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from moncompte.franceconnect import provider
from tests.franceconnect.fake_provider import CLIENT_ID, ISSUER

NONCE = "n" * 43


def test_the_authorization_request_asks_what_franceconnect_v2_expects(franceconnect):
    state, nonce = provider.new_secret(), provider.new_secret()
    url = urlsplit(provider.authorization_url(state=state, nonce=nonce))
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/authorize"
    assert query == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": "http://localhost/franceconnect/retour/",
        "scope": "openid given_name family_name birthdate gender birthplace birthcountry email preferred_username",
        "state": state,
        "nonce": nonce,
        "acr_values": "eidas1",
        "prompt": "login consent",
    }


def test_state_and_nonce_are_long_random_and_distinct():
    values = {provider.new_secret() for _ in range(100)}
    assert len(values) == 100
    assert all(len(value) >= 32 for value in values)


def test_a_good_answer_gives_the_checked_identity(franceconnect):
    code = franceconnect.authorize(nonce=NONCE, sub="a" * 64)
    tokens = provider.exchange_code(code=code, nonce=NONCE)
    claims = provider.userinfo(tokens)
    assert tokens.claims["sub"] == claims["sub"] == "a" * 64
    assert (claims["family_name"], claims["birthdate"]) == ("MARTIN", "2009-05-04")


def _refusal(franceconnect, **spoiled) -> str:
    code = franceconnect.authorize(nonce=spoiled.pop("nonce", NONCE), **spoiled)
    with pytest.raises(provider.Refused) as refused:
        provider.userinfo(provider.exchange_code(code=code, nonce=NONCE))
    assert str(refused.value.message).startswith("La connexion avec FranceConnect n'a pas pu être vérifiée")
    return refused.value.reason


@pytest.mark.parametrize(
    ("spoiled", "reason"),
    [
        ({"sign": "forged"}, "bad_signature"),
        ({"sign": "none"}, "alg_not_allowed"),
        ({"sign": "HS256"}, "alg_not_allowed"),  # signed with the client secret, as v1 did
        ({"id_token": {"aud": "another-service"}}, "claim_aud"),
        ({"id_token": {"iss": "https://fc.example/api/v2"}}, "claim_iss"),
        ({"nonce": "m" * 43}, "claim_nonce"),
        ({"id_token": {"nonce": None}}, "claim_nonce"),
        ({"id_token": {"exp_in": -120, "iat_in": -180}}, "expired"),
        ({"id_token": {"iat_in": 600}}, "claim_iat"),
        ({"id_token": {"acr": "eidas0"}}, "claim_acr"),
        ({"id_token": {"acr": None}}, "claim_acr"),
        ({"header": {"kid": None}}, "kid_missing"),
        ({"userinfo": {"sub": "b" * 64}}, "userinfo_sub_mismatch"),
        ({"userinfo": {"aud": "another-service"}}, "claim_aud"),
        ({"userinfo_sign": "forged"}, "bad_signature"),
        ({"userinfo_sign": "none"}, "alg_not_allowed"),
        ({"userinfo_content_type": "application/json"}, "userinfo_not_signed"),
    ],
)
def test_a_spoiled_answer_is_refused(franceconnect, spoiled, reason):
    assert _refusal(franceconnect, **spoiled) == reason


def test_an_expired_token_within_the_leeway_is_accepted(franceconnect, settings):
    settings.FRANCECONNECT_LEEWAY = 30
    code = franceconnect.authorize(nonce=NONCE, id_token={"exp_in": -10})
    assert provider.exchange_code(code=code, nonce=NONCE).claims["sub"]


def test_settings_cannot_allow_anything_but_es256_and_rs256(franceconnect, settings):
    settings.FRANCECONNECT_ALGORITHMS = ["HS256", "none", "ES256"]
    assert provider.algorithms() == ["ES256"]
    assert _refusal(franceconnect, sign="HS256") == "alg_not_allowed"


def test_a_rotated_key_is_fetched_once(franceconnect):
    provider.exchange_code(code=franceconnect.authorize(nonce=NONCE), nonce=NONCE)
    assert franceconnect.jwks_fetches == 1
    franceconnect.rotate()
    provider.exchange_code(code=franceconnect.authorize(nonce=NONCE), nonce=NONCE)
    assert franceconnect.jwks_fetches == 2
    provider.exchange_code(code=franceconnect.authorize(nonce=NONCE), nonce=NONCE)
    assert franceconnect.jwks_fetches == 2  # the new key set is cached


def test_an_unknown_key_refetches_the_key_set_once_then_fails(franceconnect):
    assert _refusal(franceconnect, sign="RS256") == "kid_unknown"
    assert franceconnect.jwks_fetches == 2


def test_a_code_is_used_once(franceconnect):
    code = franceconnect.authorize(nonce=NONCE)
    provider.exchange_code(code=code, nonce=NONCE)
    with pytest.raises(provider.Refused) as refused:
        provider.exchange_code(code=code, nonce=NONCE)
    assert refused.value.reason == "token_error:invalid_grant"


def test_a_provider_that_does_not_answer_is_unavailable_not_refused(franceconnect):
    franceconnect.down = True
    with pytest.raises(provider.Unavailable) as unavailable:
        provider.authorization_url(state="s" * 43, nonce=NONCE)
    assert "FranceConnect ne répond pas" in str(unavailable.value.message)


def test_a_discovery_document_of_another_issuer_is_refused(franceconnect, monkeypatch):
    monkeypatch.setattr(franceconnect, "metadata", lambda: {**type(franceconnect).metadata(), "issuer": "https://x"})
    with pytest.raises(provider.Unavailable) as unavailable:
        provider.discovery()
    assert unavailable.value.reason == "discovery_issuer_mismatch"


def test_the_end_session_url_hands_back_the_id_token_and_our_registered_return(franceconnect):
    url = urlsplit(provider.end_session_url(id_token="header.payload.signature", state="s" * 43))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/session/end"
    assert parse_qs(url.query) == {
        "id_token_hint": ["header.payload.signature"],
        "state": ["s" * 43],
        "post_logout_redirect_uri": ["http://localhost/franceconnect/deconnexion/"],
    }


@pytest.mark.slow
def test_the_content_security_policy_lets_forms_go_on_to_the_configured_provider():
    """The button and the logout of a FranceConnect session are forms whose answer redirects to FranceConnect:
    browsers apply `form-action` to that redirect, so the provider's origin must be in it (and nothing else)."""
    script = "from django.conf import settings; print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])"
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="moncompte.settings", SITE_URL="https://moncompte.example")
    env |= {"FRANCECONNECT_ISSUER": "https://oidc.franceconnect.example/api/v2", "DEBUG": "false"}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "[\"'self'\", 'https://oidc.franceconnect.example']"
