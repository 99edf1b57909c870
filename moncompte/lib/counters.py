"""Counters of events in fixed time windows, kept in the cache so that every app process shares them (Redis when
REDIS_URL is set, where INCR is atomic; the database cache in the embedded mode)."""

from __future__ import annotations

import ipaddress
import time
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone


def window_key(name: str, window_seconds: int) -> str:
    """The key of `name` in the current window of `window_seconds`."""
    return f"{name}:{int(time.time() // window_seconds)}"


def window_end(window_seconds: int) -> datetime:
    now = time.time()
    return timezone.now() + timedelta(seconds=(now // window_seconds + 1) * window_seconds - now)


def incr(key: str, *, timeout: int) -> int:
    """Add one and return the new count; the key lives `timeout` seconds from its first event."""
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=timeout)
        return 1


def hold(key: str, *, timeout: int) -> None:
    """Set a flag (value 1) for `timeout` seconds from now."""
    cache.set(key, 1, timeout=timeout)


def get(key: str) -> int:
    return cache.get(key, 0)


def get_many(keys: list[str]) -> dict[str, int]:
    values = cache.get_many(keys)
    return {key: values.get(key, 0) for key in keys}


def clear(key: str) -> None:
    cache.delete(key)


def address_bucket(ip: str | None) -> str:
    """The unit an address ceiling counts: the IPv4 address, or the /64 of an IPv6 one (one subscriber's network)."""
    if not ip:
        return "-"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "-"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
