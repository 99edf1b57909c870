"""Import of the legacy system's export (DESIGN §6): cases, their members and the case PIN.

The file is `;`-separated UTF-8 (a BOM is tolerated), one row per person, with the exact header `reader.HEADER`.
The work is in four modules: `reader` (the file, its header, its lines), `validation` (every row, then the rules of
a case; a case with any bad row is not imported), `pins` (hashing, in a pool of processes) and `writer` (the upsert
of one batch). This module runs them in order and keeps the run's checkpoint.

The valid cases are written in batches (500 cases, fewer in a small file). Each batch is one transaction holding
its cases, people, memberships, one journal entry per case ("case.imported") and the checkpoint of the run
(`ImportRun`, keyed by the SHA-256 of the file). A run that was killed is resumed by running the same command on
the same file again: committed batches are skipped. A finished file is only applied again with `again=True`.

PIN hashing is pipelined: while the main process writes batch N, the pool already hashes batches N+1 and N+2.
Policy for a case that already exists: its PIN is simply hashed again and the new hash stored. Checking the file's
PIN against the stored hash first would cost exactly one argon2 computation too (verifying is hashing), then a
second one when the PIN did change: re-hashing is never more expensive, the cost of a run is predictable (one hash
per case, whatever the database holds) and every hash comes out with the current parameters. PINs live in memory
only for the run; they are never logged, printed or journaled, and the repr of a LegacyCase hides them.

People without a NIR get a provisional identifier (`identity.provisional`).
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.utils import timezone

from moncompte.journal.context import acting
from moncompte.journal.models import Channel
from moncompte.legacy import writer
from moncompte.legacy.models import ImportRun
from moncompte.legacy.pins import PinHasher
from moncompte.legacy.reader import LegacyFileError, read_file
from moncompte.legacy.validation import RowError, parse_legacy_file

__all__ = ["ImportProgress", "ImportReport", "LegacyFileError", "import_legacy_file"]

DEFAULT_BATCH_SIZE = 500
#: Without an explicit batch size, a file is cut in at least this many batches (of at least MIN_AUTO_BATCH_SIZE
#: cases): the pool hashes one batch while the previous one is written, and the last write, which nothing overlaps,
#: stays short.
AUTO_BATCHES = 10
MIN_AUTO_BATCH_SIZE = 20
#: Batches hashed ahead of the one being written: the pool never waits for the database.
HASH_LOOKAHEAD = 2


@dataclass(frozen=True)
class ImportProgress:
    done: int
    total: int
    elapsed: float
    rate: float  # cases per second in this run
    eta: float | None  # seconds


@dataclass
class ImportReport:
    run: ImportRun
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    cases_in_file: int = 0
    rejected_cases: int = 0
    already_imported: bool = False
    resumed_cases: int = 0  # committed by an earlier run that was interrupted
    cases_created: int = 0
    cases_updated: int = 0
    people_created: int = 0
    people_updated: int = 0
    members_removed: int = 0
    elapsed: float = 0.0

    @property
    def cases_imported(self) -> int:
        return self.cases_created + self.cases_updated


def import_legacy_file(
    path: str | Path,
    *,
    workers: int | None = None,
    batch_size: int | None = None,
    again: bool = False,
    progress: Callable[[ImportProgress], None] | None = None,
    on_validated: Callable[[ImportReport], None] | None = None,
    today: date | None = None,
) -> ImportReport:
    """Validate the whole file, then upsert its valid cases in batches; resumes an interrupted run of the same file.

    Raises LegacyFileError when the file itself is unusable (then nothing is written). Row errors do not raise: they
    are in the report, and the valid cases are imported anyway. `on_validated` gets the report once the file is
    validated (errors, counts, cases already committed by an interrupted run), before the long part starts;
    `progress` is called after each committed batch. `batch_size` None: DEFAULT_BATCH_SIZE, or less for a small
    file (see AUTO_BATCHES).
    """
    path = Path(path)
    workers = max(1, workers or os.cpu_count() or 1)
    started = time.monotonic()
    data = read_file(path)
    digest = hashlib.sha256(data).hexdigest()

    last_run = ImportRun.objects.filter(file_sha256=digest).order_by("-started_at", "-id").first()
    if last_run is not None and last_run.finished_at is not None and not again:
        return ImportReport(run=last_run, already_imported=True)

    parsed = parse_legacy_file(data, today=today)
    del data
    report = ImportReport(
        run=last_run,
        errors=parsed.errors,
        rows=parsed.rows,
        cases_in_file=parsed.cases_in_file,
        rejected_cases=parsed.rejected_cases,
    )
    total = len(parsed.cases)
    if batch_size is None:
        batch_size = min(DEFAULT_BATCH_SIZE, max(MIN_AUTO_BATCH_SIZE, math.ceil(total / AUTO_BATCHES)))
    batch_size = max(1, batch_size)
    if last_run is not None and last_run.finished_at is None and last_run.total_cases == total:
        run = last_run  # resume: same batches as the interrupted run, whatever batch_size says now
        report.resumed_cases = run.cases_done
    else:
        run = ImportRun.objects.create(
            file_sha256=digest,
            file_name=path.name[:255],
            batch_size=batch_size,
            total_cases=total,
            rejected_cases=parsed.rejected_cases,
            error_count=len(parsed.errors),
        )
    report.run = run
    if on_validated is not None:
        on_validated(report)
    size = run.batch_size
    batches = [(index, parsed.cases[start : start + size]) for index, start in enumerate(range(0, total, size))]
    todo = iter(batches[run.batches_done :])

    with acting(channel=Channel.COMMAND):
        hasher = PinHasher(workers)
        try:
            pending: deque = deque()

            def feed() -> None:
                batch = next(todo, None)
                if batch is not None:
                    pending.append((batch, hasher.submit([case.pin for case in batch[1]])))

            for _ in range(HASH_LOOKAHEAD):
                feed()
            run_started, done_here = time.monotonic(), 0
            while pending:
                (index, cases), result = pending.popleft()
                pin_hashes = result()
                feed()  # the pool hashes ahead while this batch is written
                stats = writer.write_batch(run=run, batch_index=index, cases=cases, pin_hashes=pin_hashes)
                del pin_hashes
                for name in ("cases_created", "cases_updated", "people_created", "people_updated", "members_removed"):
                    setattr(report, name, getattr(report, name) + getattr(stats, name))
                done_here += len(cases)
                if progress is not None:
                    elapsed = time.monotonic() - run_started
                    rate = done_here / elapsed if elapsed > 0 else 0.0
                    remaining = total - run.cases_done
                    eta = remaining / rate if rate > 0 else None
                    progress(ImportProgress(done=run.cases_done, total=total, elapsed=elapsed, rate=rate, eta=eta))
        finally:
            hasher.close()

    run.finished_at = timezone.now()
    run.save(update_fields=["finished_at", "updated_at"])
    report.elapsed = time.monotonic() - started
    return report
