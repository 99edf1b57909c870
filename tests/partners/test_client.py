"""The partner client against an in-process partner: POST with a JSON body, timeout, retries with backoff, circuit
breaker, cache, documents."""

import json
import time

import httpx
import pytest
from django.core.cache import cache

from moncompte.partners import client
from moncompte.partners.client import (
    MAX_TIMEOUT,
    Malformed,
    Partner,
    PartnerUnavailable,
    circuit_state,
    fetch,
    fetch_bytes,
)

DGFIP = Partner(name="dgfip", label="la DGFiP", base_url="https://dgfip.test/api", failures_to_open=3)


class FakePartner:
    """Answers as told: "ok", "slow" (a timeout), "down" (no connection), "error" (HTTP 500), "garbage"."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.calls: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if self.mode == "slow":
            raise httpx.ReadTimeout("too slow", request=request)
        if self.mode == "down":
            raise httpx.ConnectError("refused", request=request)
        if self.mode == "error":
            return httpx.Response(500, json={"error": "internal"})
        if self.mode == "garbage":
            return httpx.Response(200, content=b"<html>")
        if self.mode == "unknown":
            return httpx.Response(404, json={"error": "not_found"})
        if self.mode == "trickle":
            return httpx.Response(200, content=iter([b'{"revenu_fiscal', b'_de_reference"', b": 21500, ", b'"a": 1}']))
        if self.mode == "pdf":
            return httpx.Response(200, content=b"%PDF-1.4 fake", headers={"Content-Type": "application/pdf"})
        return httpx.Response(200, json={"revenu_fiscal_de_reference": 21500, "annee": 2025})


@pytest.fixture
def partner(monkeypatch):
    fake = FakePartner()
    monkeypatch.setattr(client, "transport", httpx.MockTransport(fake.handle))
    waits: list[float] = []
    monkeypatch.setattr(client, "sleep", waits.append)
    fake.waits = waits
    return fake


def test_an_answer_comes_with_its_source_and_date_and_is_cached(partner):
    answer = fetch(DGFIP, "/revenus", {"annee": 2025})
    assert answer.data == {"revenu_fiscal_de_reference": 21500, "annee": 2025}
    assert (answer.source, answer.from_cache) == ("la DGFiP", False)
    again = fetch(DGFIP, "/revenus", {"annee": 2025})
    assert again.from_cache and again.data == answer.data and again.fetched_at == answer.fetched_at
    assert len(partner.calls) == 1
    (call,) = partner.calls
    assert (call.method, str(call.url)) == ("POST", "https://dgfip.test/api/revenus")
    assert json.loads(call.content) == {"annee": 2025} and call.headers["content-type"] == "application/json"
    assert "authorization" not in call.headers


def test_the_question_travels_in_the_body_and_the_token_in_a_header(partner):
    with_token = Partner(name="dgfip", label="la DGFiP", base_url="https://dgfip.test/api/", token="s3cret")
    fetch(with_token, "avis-impot", {"nir": "1840575056123", "annee": 2025})
    (call,) = partner.calls
    assert "1840575056123" not in str(call.url) and call.url.query == b""
    assert call.headers["authorization"] == "Bearer s3cret"
    assert "s3cret" not in repr(with_token)


def test_a_partner_without_an_address_is_not_configured_and_not_counted_as_failing(partner):
    nowhere = Partner(name="dgfip", label="la DGFiP", base_url="", failures_to_open=1)
    for _ in range(3):
        with pytest.raises(PartnerUnavailable) as unavailable:
            fetch(nowhere, "/revenus")
        assert unavailable.value.reason == "not_configured"
    assert partner.calls == [] and circuit_state(nowhere) == "closed"


def test_an_answer_that_parse_refuses_is_malformed_not_cached_and_counted(partner):
    def parse(data):
        raise Malformed("annee: not a year")

    with pytest.raises(PartnerUnavailable) as unavailable:
        fetch(DGFIP, "/revenus", parse=parse)
    assert unavailable.value.reason == "malformed" and len(partner.calls) == 1  # asking again would not help
    assert fetch(DGFIP, "/revenus").from_cache is False
    assert cache.get(client._failures_key(DGFIP)) is None  # the good answer closed it again


def test_an_answer_bigger_than_the_limit_is_refused(partner, monkeypatch):
    monkeypatch.setattr(client, "MAX_JSON_BYTES", 10)
    with pytest.raises(PartnerUnavailable) as unavailable:
        fetch(DGFIP, "/revenus")
    assert unavailable.value.reason == "too_large" and len(partner.calls) == 1


def test_a_cache_time_of_zero_caches_nothing(partner):
    never = Partner(name="insee", label="l'Insee", base_url="https://insee.test", cache_seconds=0)
    fetch(never, "/verification", {"nir": "1840575056123"})
    assert fetch(never, "/verification", {"nir": "1840575056123"}).from_cache is False
    assert len(partner.calls) == 2


def test_a_document_comes_as_bytes_of_the_type_asked_and_is_never_cached(partner):
    partner.mode = "pdf"
    assert fetch_bytes(DGFIP, "/document", {"id": "x"}) == b"%PDF-1.4 fake"
    assert fetch_bytes(DGFIP, "/document", {"id": "x"}) == b"%PDF-1.4 fake"
    assert len(partner.calls) == 2 and partner.calls[0].headers["accept"] == "application/pdf"
    partner.mode = "ok"
    with pytest.raises(PartnerUnavailable) as unavailable:
        fetch_bytes(DGFIP, "/document", {"id": "x"})
    assert unavailable.value.reason == "malformed"


@pytest.mark.parametrize(("mode", "reason"), [("slow", "timeout"), ("down", "unreachable"), ("error", "status_500"),
                                              ("garbage", "not_json")])  # fmt: skip
def test_a_partner_that_fails_is_tried_again_with_backoff_then_unavailable(partner, mode, reason):
    partner.mode = mode
    with pytest.raises(PartnerUnavailable) as unavailable:
        fetch(DGFIP, "/revenus")
    assert unavailable.value.reason == reason
    assert len(partner.calls) == 3 and partner.waits == [0.2, 0.4]


def test_a_question_the_partner_refuses_is_not_retried(partner):
    partner.mode = "unknown"
    with pytest.raises(PartnerUnavailable) as unavailable:
        fetch(DGFIP, "/revenus")
    assert unavailable.value.reason == "status_404" and len(partner.calls) == 1
    assert circuit_state(DGFIP) == "closed"


def test_no_call_waits_longer_than_two_seconds_whatever_the_setting(partner, monkeypatch):
    timeouts = []
    real_client = httpx.Client

    def recording(*args, **kwargs):
        timeouts.append(kwargs["timeout"])
        return real_client(*args, **kwargs)

    monkeypatch.setattr(client.httpx, "Client", recording)
    fetch(Partner(name="slowpoke", label="x", base_url="https://x.test", timeout=30), "/")
    assert timeouts == [MAX_TIMEOUT] and MAX_TIMEOUT <= 2


def test_the_circuit_opens_after_failures_in_a_row_then_closes_after_a_good_answer(partner, monkeypatch):
    partner.mode = "down"
    for _ in range(3):
        with pytest.raises(PartnerUnavailable):
            fetch(DGFIP, "/revenus")
    assert circuit_state(DGFIP) == "open"
    calls = len(partner.calls)
    with pytest.raises(PartnerUnavailable) as unavailable:
        fetch(DGFIP, "/revenus")
    assert unavailable.value.reason == "circuit_open" and len(partner.calls) == calls  # nobody waits for it

    later = time.time() + DGFIP.cool_off_seconds + 1
    monkeypatch.setattr(client.time, "time", lambda: later)
    assert circuit_state(DGFIP) == "half-open"
    partner.mode = "ok"
    assert fetch(DGFIP, "/revenus").data["annee"] == 2025
    assert circuit_state(DGFIP) == "closed"


def test_a_failure_while_half_open_opens_the_circuit_again(partner, monkeypatch):
    partner.mode = "error"
    for _ in range(3):
        with pytest.raises(PartnerUnavailable):
            fetch(DGFIP, "/revenus")
    later = time.time() + DGFIP.cool_off_seconds + 1
    monkeypatch.setattr(client.time, "time", lambda: later)
    with pytest.raises(PartnerUnavailable) as unavailable:
        fetch(DGFIP, "/revenus")
    assert unavailable.value.reason == "status_500"
    assert circuit_state(DGFIP) == "open"


def test_the_cache_key_holds_no_parameter_in_clear(partner, settings):
    fetch(DGFIP, "/etat-civil", {"nir": "1840575056123"})
    key = client.cache_key(DGFIP, "/etat-civil", {"nir": "1840575056123"})
    assert "1840575056123" not in key and key.startswith("partners:dgfip:")
    assert cache.get(key) is not None
    settings.SECRET_KEY = "another-" + settings.SECRET_KEY  # keyed: nobody can try every NIR against the cache
    assert client.cache_key(DGFIP, "/etat-civil", {"nir": "1840575056123"}) != key


def test_an_answer_trickled_past_the_timeout_is_a_timeout(partner, monkeypatch):
    """httpx's timeout is per read: the client also bounds the whole answer, so a partner sending a byte now and then
    does not keep the page waiting."""

    class Clock:
        now = 0.0

        @classmethod
        def monotonic(cls) -> float:
            cls.now += 0.8  # each chunk comes 0.8 s after the one before
            return cls.now

        time = staticmethod(time.time)

    monkeypatch.setattr(client, "time", Clock)
    partner.mode = "trickle"
    with pytest.raises(PartnerUnavailable) as unavailable:
        fetch(DGFIP, "/revenus")
    assert unavailable.value.reason == "timeout" and 1 <= len(partner.calls) <= 3


def test_the_tries_of_one_call_fit_in_the_page_budget(monkeypatch):
    """Three tries of 2 s would keep a page waiting more than 6 s: the retries stop when MAX_WAIT is spent, and the
    last try gets only what is left of it."""
    clock = {"now": 0.0}
    timeouts: list[float] = []

    def slow(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"]["read"])
        clock["now"] += timeouts[-1]  # the partner uses all the time it is given
        raise httpx.ReadTimeout("too slow", request=request)

    monkeypatch.setattr(client, "transport", httpx.MockTransport(slow))
    monkeypatch.setattr(client, "sleep", lambda seconds: None)
    monkeypatch.setattr(client.time, "monotonic", lambda: clock["now"])
    with pytest.raises(PartnerUnavailable):
        fetch(DGFIP, "/revenus")
    assert timeouts == [MAX_TIMEOUT, pytest.approx(client.MAX_WAIT - MAX_TIMEOUT - DGFIP.backoff)]
    assert sum(timeouts) + DGFIP.backoff <= client.MAX_WAIT
