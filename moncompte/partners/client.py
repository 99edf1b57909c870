"""Calls to partner administrations over HTTP/JSON (issue 11, item 5): a short timeout, a few retries with
backoff, a circuit breaker shared by every app process, and a cache with a time to live.

A page that shows partner data must still work when the partner does not answer: `fetch` returns an `Answer`
(the data, who sent it and when) or raises `PartnerUnavailable`, never anything else, and the caller shows the
notice « données indisponibles pour le moment ». While a partner's circuit is open (too many failures in a row),
nobody waits for it: calls fail at once until the cool-off ends, then one call tries again.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from django.core.cache import cache
from django.utils import timezone

#: No partner call may keep a page waiting longer than this, whatever a setting says.
MAX_TIMEOUT = 2.0

#: Tests replace this with an httpx transport that plays the partner; None: the network.
transport: httpx.BaseTransport | None = None
#: How the client waits between tries (tests replace it, to wait for nothing).
sleep = time.sleep


class PartnerUnavailable(Exception):
    """The partner did not give a usable answer (down, slow, an error, a circuit open): show the notice."""

    def __init__(self, partner: Partner, reason: str) -> None:
        super().__init__(f"{partner.name}: {reason}")
        self.partner = partner
        self.reason = reason


@dataclass(frozen=True)
class Partner:
    """One partner's connection: where it answers and how patient we are with it."""

    name: str  # "dgfip", in cache keys and logs
    label: str  # « la DGFiP », in « Données transmises par la DGFiP le … »
    base_url: str
    timeout: float = MAX_TIMEOUT
    retries: int = 2  # tries after the first one
    backoff: float = 0.2  # seconds before the first retry, doubled each time
    cache_seconds: int = 3600
    failures_to_open: int = 5  # failures in a row that open the circuit
    cool_off_seconds: int = 30  # how long it stays open before one call tries again


@dataclass(frozen=True)
class Answer:
    data: Any
    source: str  # the partner's label
    fetched_at: datetime  # when the partner sent it (for an answer from the cache, when it was fetched)
    from_cache: bool = False


def fetch(partner: Partner, path: str, params: dict[str, str] | None = None) -> Answer:
    """GET `path` of the partner as JSON: from the cache while fresh, else from the partner. Raises
    PartnerUnavailable."""
    key = _cache_key(partner, path, params)
    cached = cache.get(key)
    if cached is not None:
        return Answer(cached["data"], partner.label, datetime.fromisoformat(cached["at"]), from_cache=True)
    if _circuit_open(partner):
        raise PartnerUnavailable(partner, "circuit_open")
    url = f"{partner.base_url.rstrip('/')}/{path.lstrip('/')}" + (f"?{urlencode(params)}" if params else "")
    reason = "unknown"
    for attempt in range(partner.retries + 1):
        if attempt:
            sleep(partner.backoff * 2 ** (attempt - 1))
        try:
            with httpx.Client(timeout=min(partner.timeout, MAX_TIMEOUT), transport=transport) as client:
                response = client.get(url, headers={"Accept": "application/json"})
        except httpx.TimeoutException:
            reason = "timeout"
            continue
        except httpx.HTTPError:
            reason = "unreachable"
            continue
        if response.status_code >= 500 or response.status_code == 429:
            reason = f"status_{response.status_code}"
            continue
        if response.status_code != 200:
            _closed(partner)  # the partner answered: it is up, the question was wrong
            raise PartnerUnavailable(partner, f"status_{response.status_code}")
        try:
            data = response.json()
        except ValueError:
            reason = "not_json"
            continue
        _closed(partner)
        now = timezone.now()
        cache.set(key, {"data": data, "at": now.isoformat()}, partner.cache_seconds)
        return Answer(data, partner.label, now)
    _failed(partner)
    raise PartnerUnavailable(partner, reason)


def _cache_key(partner: Partner, path: str, params: dict[str, str] | None) -> str:
    # The parameters may hold a NIR: only their digest goes into the key.
    digest = hashlib.sha256(json.dumps([path, sorted((params or {}).items())]).encode()).hexdigest()[:32]
    return f"partners:{partner.name}:{digest}"


# --- The circuit breaker (in the shared cache: every app process sees it) --------------------------------------------


def _failures_key(partner: Partner) -> str:
    return f"partners:{partner.name}:failures"


def _open_until_key(partner: Partner) -> str:
    return f"partners:{partner.name}:open-until"


def _circuit_open(partner: Partner) -> bool:
    """Open until the cool-off ends; then half-open: the next call goes through, and its outcome decides."""
    until = cache.get(_open_until_key(partner))
    return until is not None and time.time() < until


def _failed(partner: Partner) -> None:
    failures = (cache.get(_failures_key(partner)) or 0) + 1
    cache.set(_failures_key(partner), failures, None)
    if failures >= partner.failures_to_open:
        cache.set(_open_until_key(partner), time.time() + partner.cool_off_seconds, None)


def _closed(partner: Partner) -> None:
    cache.delete_many([_failures_key(partner), _open_until_key(partner)])


def circuit_state(partner: Partner) -> str:
    """« closed », « open » or « half-open », for the admin and the tests."""
    until = cache.get(_open_until_key(partner))
    if until is None:
        return "closed"
    return "open" if time.time() < until else "half-open"
