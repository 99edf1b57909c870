"""Calls to partner administrations over HTTP/JSON (issue 11, item 5): a short timeout, a few retries with
backoff, a circuit breaker shared by every app process, and a cache with a time to live.

A page that shows partner data must still work when the partner does not answer: `fetch` returns an `Answer`
(the data, who sent it and when) or raises `PartnerUnavailable`, never anything else, and the caller shows the
notice « données indisponibles pour le moment ». While a partner's circuit is open (too many failures in a row),
nobody waits for it: calls fail at once until the cool-off ends, then one call tries again.

Every question is a `POST` with a JSON body: a NIR never travels in a URL, where it would land in access logs. The
cache keys are keyed digests of the path and body, so the cache holds no NIR either. The contracts are in
docs/partners.md.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import salted_hmac

logger = logging.getLogger(__name__)

#: No partner call may keep a page waiting longer than this, whatever a setting says.
MAX_TIMEOUT = 2.0
#: Nor may its retries: all tries and pauses of one call fit in this many seconds; a retry that would not leave
#: MIN_TRY seconds to the partner is not made.
MAX_WAIT = 3.0
MIN_TRY = 0.25
#: The largest answer read from a partner: past it the answer is refused (and the partner counted as failing).
MAX_JSON_BYTES = 2 * 1024 * 1024
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

#: Tests replace this with an httpx transport that plays the partner; None: the network.
transport: httpx.BaseTransport | None = None
#: How the client waits between tries (tests replace it, to wait for nothing).
sleep = time.sleep


class PartnerUnavailable(Exception):
    """The partner did not give a usable answer (down, slow, an error, a circuit open, a malformed answer, not
    configured): show the notice. `reason` is a short code for logs and tests, never shown to a person."""

    def __init__(self, partner: Partner, reason: str) -> None:
        super().__init__(f"{partner.name}: {reason}")
        self.partner = partner
        self.reason = reason


class Malformed(ValueError):
    """Raised by a `parse` function: the partner answered, but not what its contract says."""


@dataclass(frozen=True)
class Partner:
    """One partner's connection: where it answers and how patient we are with it."""

    name: str  # "dgfip", in cache keys and logs
    label: str  # « la DGFiP », in « Données transmises par la DGFiP le … »
    base_url: str  # empty: not configured
    token: str = field(default="", repr=False)  # sent as `Authorization: Bearer …` when set
    timeout: float = MAX_TIMEOUT
    retries: int = 2  # tries after the first one
    backoff: float = 0.2  # seconds before the first retry, doubled each time
    cache_seconds: int = 3600  # 0: never cached
    failures_to_open: int = 5  # failures in a row that open the circuit
    cool_off_seconds: int = 30  # how long it stays open before one call tries again


@dataclass(frozen=True)
class Answer:
    data: Any
    source: str  # the partner's label
    fetched_at: datetime  # when the partner sent it (for an answer from the cache, when it was fetched)
    from_cache: bool = False


def fetch(
    partner: Partner, path: str, body: dict[str, Any] | None = None, *, parse: Callable[[Any], Any] | None = None
) -> Answer:
    """POST `body` as JSON to `path` of the partner and read its JSON answer: from the cache while fresh, else from
    the partner. `parse` turns the JSON into the answer's data and raises `Malformed` when it is not what the
    contract says (then nothing is cached). Raises PartnerUnavailable."""
    if not partner.base_url:
        raise PartnerUnavailable(partner, "not_configured")
    parse = parse or (lambda data: data)
    key = cache_key(partner, path, body)
    if partner.cache_seconds > 0 and (cached := cache.get(key)) is not None:
        try:
            return Answer(parse(cached["data"]), partner.label, datetime.fromisoformat(cached["at"]), from_cache=True)
        except (Malformed, KeyError, TypeError, ValueError):
            cache.delete(key)  # written by an older contract: ask again
    raw = _call(partner, path, body, accept="application/json", max_bytes=MAX_JSON_BYTES, decode=_json)
    try:
        data = parse(raw)
    except Malformed as error:
        logger.warning("partner %s: malformed answer to %s (%s)", partner.name, path, error)
        _failed(partner)
        raise PartnerUnavailable(partner, "malformed") from None
    _closed(partner)
    now = timezone.now()
    if partner.cache_seconds > 0:
        cache.set(key, {"data": raw, "at": now.isoformat()}, partner.cache_seconds)
    return Answer(data, partner.label, now)


def fetch_bytes(
    partner: Partner,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    content_type: str = "application/pdf",
    max_bytes: int = MAX_DOCUMENT_BYTES,
    is_valid: Callable[[bytes], bool] | None = None,
) -> bytes:
    """POST `body` as JSON to `path` and return the document the partner sends (never cached: documents are big,
    and a page asks for one only when the person opens it). Same retries and circuit as `fetch`; an answer of
    another content type, or that `is_valid` refuses, is `PartnerUnavailable(reason="malformed")`."""

    def document(received_type: str, content: bytes) -> bytes:
        if received_type != content_type or (is_valid is not None and not is_valid(content)):
            raise Malformed("not the document asked for")
        return content

    content = _call(partner, path, body, accept=content_type, max_bytes=max_bytes, decode=document)
    _closed(partner)
    return content


class _NotJson(Exception):
    pass


class _TooLarge(Exception):
    pass


def _json(content_type: str, content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        raise _NotJson from None


def _call(
    partner: Partner,
    path: str,
    body: dict[str, Any] | None,
    *,
    accept: str,
    max_bytes: int,
    decode: Callable[[str, bytes], Any],
) -> Any:
    """The tries: returns the decoded body of a 200 answer, or raises PartnerUnavailable (counted as a failure of the
    partner when it did not answer properly, not when it refused the question)."""
    if not partner.base_url:
        raise PartnerUnavailable(partner, "not_configured")
    if _circuit_open(partner):
        raise PartnerUnavailable(partner, "circuit_open")
    url = f"{partner.base_url.rstrip('/')}/{path.lstrip('/')}"
    headers = {"Accept": accept}
    if partner.token:
        headers["Authorization"] = f"Bearer {partner.token}"
    timeout = min(partner.timeout, MAX_TIMEOUT)
    reason = "unknown"
    started, waited = time.monotonic(), 0.0
    for attempt in range(partner.retries + 1):
        if attempt:
            pause = partner.backoff * 2 ** (attempt - 1)
            left = MAX_WAIT - (time.monotonic() - started) - waited - pause
            if left < MIN_TRY:  # no time for another try within the page's budget
                break
            sleep(pause)
            waited += pause
            timeout = min(timeout, left)
        try:
            status, content_type, content = _post(url, body or {}, headers, timeout, max_bytes)
        except httpx.TimeoutException:
            reason = "timeout"
            continue
        except _TooLarge:
            reason = "too_large"
            break
        except httpx.HTTPError:
            reason = "unreachable"
            continue
        if status >= 500 or status == 429:
            reason = f"status_{status}"
            continue
        if status != 200:
            _closed(partner)  # the partner answered: it is up, the question was wrong (or unknown)
            raise PartnerUnavailable(partner, f"status_{status}")
        try:
            return decode(content_type, content)
        except _NotJson:
            reason = "not_json"
            continue
        except Malformed:
            reason = "malformed"
            break
    logger.warning("partner %s unavailable: %s", partner.name, reason)
    _failed(partner)
    raise PartnerUnavailable(partner, reason)


def _post(url: str, body: dict, headers: dict, timeout: float, max_bytes: int) -> tuple[int, str, bytes]:
    """One try. The answer is read in chunks, within `max_bytes` and within `timeout` overall: a partner that
    trickles its answer byte by byte does not keep the page waiting past the timeout either."""
    deadline = time.monotonic() + timeout
    with (
        httpx.Client(timeout=timeout, transport=transport) as http,
        http.stream("POST", url, json=body, headers=headers) as response,
    ):
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise _TooLarge
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the answer took too long", request=response.request)
            chunks.append(chunk)
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        return response.status_code, content_type, b"".join(chunks)


def cache_key(partner: Partner, path: str, body: dict[str, Any] | None = None) -> str:
    """The question's key in the cache. The body may hold a NIR: only a keyed digest of it goes into the key (a bare
    SHA-256 of a NIR could be found again by trying every NIR)."""
    question = json.dumps([path.strip("/"), body or {}], sort_keys=True, separators=(",", ":"))
    digest = salted_hmac("moncompte.partners.cache", question, algorithm="sha256").hexdigest()[:32]
    return f"partners:{partner.name}:{digest}"


def forget(partner: Partner, path: str, body: dict[str, Any] | None = None) -> None:
    """Drop a cached answer (after a change that makes it stale, e.g. an answer sent to the agency)."""
    cache.delete(cache_key(partner, path, body))


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
        logger.warning("partner %s: circuit open for %s s", partner.name, partner.cool_off_seconds)
        cache.set(_open_until_key(partner), time.time() + partner.cool_off_seconds, None)


def _closed(partner: Partner) -> None:
    cache.delete_many([_failures_key(partner), _open_until_key(partner)])


def circuit_state(partner: Partner) -> str:
    """« closed », « open » or « half-open », for the admin and the tests."""
    until = cache.get(_open_until_key(partner))
    if until is None:
        return "closed"
    return "open" if time.time() < until else "half-open"
