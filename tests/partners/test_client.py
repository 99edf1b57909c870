"""The partner client against an in-process partner: timeout, retries with backoff, circuit breaker, cache."""

import time

import httpx
import pytest

from moncompte.partners import client
from moncompte.partners.client import MAX_TIMEOUT, Partner, PartnerUnavailable, circuit_state, fetch

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
    answer = fetch(DGFIP, "/revenus", {"annee": "2025"})
    assert answer.data == {"revenu_fiscal_de_reference": 21500, "annee": 2025}
    assert (answer.source, answer.from_cache) == ("la DGFiP", False)
    again = fetch(DGFIP, "/revenus", {"annee": "2025"})
    assert again.from_cache and again.data == answer.data and again.fetched_at == answer.fetched_at
    assert len(partner.calls) == 1
    assert str(partner.calls[0].url) == "https://dgfip.test/api/revenus?annee=2025"


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


def test_the_cache_key_holds_no_parameter_in_clear(partner):
    fetch(DGFIP, "/etat-civil", {"nir": "1840575056123"})
    key = client._cache_key(DGFIP, "/etat-civil", {"nir": "1840575056123"})
    assert "1840575056123" not in key and key.startswith("partners:dgfip:")
