"""Hashing the case PINs of an import, the only expensive part of it (argon2id with the settings' parameters,
through `households.services.hash_case_pin`): in a pool of processes, one hash per case.

PINs live in memory only for the run; they are never logged, printed or journaled.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from moncompte.households.services import hash_case_pin


def _init_worker() -> None:
    # Ctrl-C goes to the main process, which stops the pool itself; the workers must not die mid-task with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from django.apps import apps

    if not apps.ready:  # "spawn" start method: a fresh interpreter (with "fork" Django is already set up)
        import django

        django.setup()


def _hash_pins(pins: Sequence[str]) -> list[str]:
    return [hash_case_pin(pin) for pin in pins]


class PinHasher:
    """Hashes lists of PINs: in a process pool when workers > 1, else in this process when the result is asked."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) if workers > 1 else None

    def submit(self, pins: list[str]) -> Callable[[], list[str]]:
        """Start hashing; the returned function gives the hashes, in order, waiting for them if need be."""
        if self.pool is None:
            return lambda: _hash_pins(pins)
        # Small chunks keep every worker busy to the end of the run, and cost little next to argon2.
        size = max(1, min(8, math.ceil(len(pins) / (self.workers * 4))))
        futures: list[Future] = [self.pool.submit(_hash_pins, pins[i : i + size]) for i in range(0, len(pins), size)]
        return lambda: [pin_hash for future in futures for pin_hash in future.result()]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
