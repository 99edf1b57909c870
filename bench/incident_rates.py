"""P4 and P5 (issue 12, incident response): what recording "who saw what" costs a page, and how long cancelling an
incident window's actions takes on a large journal.

    python bench/incident_rates.py p4 [--pages 2000] [--warmup 100] [--blocks 40] [--json out.json] [--markdown out.md]
    DATABASE_URL=postgres://…/any python bench/incident_rates.py p5 [--households 100000] \\
        [--journal-rows 10000000] [--small-journal-rows 1000000] [--json out.json] [--markdown out.md]

P4 — in one process, with the production settings module (DEBUG=false, HTTPS=false, a fresh SECRET_KEY, VAR_DIR in a
temporary directory) on a scratch database (a new SQLite file; with DATABASE_URL, a scratch PostgreSQL database
`moncompte_bench_reads`): a migrated holder's household pages (`/mon-foyer/<case>/` and `/mon-foyer/`, in turn)
through Django's test `Client`, with the middleware as configured (A) and with
`moncompte.journal.middleware.ReadRecordingMiddleware` taken out of MIDDLEWARE (B), in alternating blocks
A/B/A/B… Two cases: the same session on every page (the LRU of journal.reads already holds the look: no write), and a
new session before every page (the look is new: one INSERT into journal_read after the response). The client calls
the response's closers, so the INSERT is inside the measured time (behind gunicorn it runs after the last byte: it
costs the worker, not the person waiting).

P5 — PostgreSQL only: a scratch database `moncompte_bench_incident`, migrated, filled by `incidents.drill.generate`
(households, one account each, and in the window of 10 October 2021, 21:00 to 08:00, a sign-in and a delegation granted
per actor, with real Delegation rows, plus the looks), then padded OUTSIDE the window with one
`INSERT … SELECT … FROM generate_series` up to the small journal size, VACUUM ANALYZE, and copied (CREATE DATABASE …
TEMPLATE) to `moncompte_bench_incident_big`, padded up to the large size. On each: open an incident on the window and
time `affected(start, end)`, the dry run and the real cancellation (`services.window_cancel`, what `manage.py incident
cancel` calls). Both databases are dropped at the end; the database named in DATABASE_URL is only used to find the
server.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import login_rate  # noqa: E402 (bench/ is put on the path just above; its PostgreSQL helpers are reused)

P4_DATABASE = "moncompte_bench_reads"
P5_DATABASE = "moncompte_bench_incident"
P5_BIG_DATABASE = "moncompte_bench_incident_big"
P5_GOAL_S = 60.0
READS_MIDDLEWARE = "moncompte.journal.middleware.ReadRecordingMiddleware"
BACKEND = "moncompte.accounts.authentication.NirBackend"
PASSWORD = "Tr0mbone-Vert!42"
CASE_NUMBER = "4200042"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) moncompte-bench"
PRIMING_PATH = "/accessibilite/"  # opens a new session's record (SessionLifetimeMiddleware) and shows nobody's data
#: Padding kinds: events only (nothing to undo), and no password kind, which would change who is concerned.
PAD_KINDS = ("login.succeeded", "login.succeeded", "login.succeeded", "code.sent", "code.verified", "login.failed")
PAD_FROM = datetime.datetime(2019, 1, 1)
PAD_AFTER_DAYS = 80  # padding after the window: until the end of December 2021

Log = Callable[[str], None]


class BenchError(Exception):
    """A setup or run failure: reported in the section instead of the figures."""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- Throwaway environment -------------------------------------------------------------------------------------------


def environment(tmp: Path, database_url: str | None) -> dict[str, str]:
    """The production settings module in a throwaway directory (login_rate.throwaway_environment)."""
    env = login_rate.throwaway_environment(tmp, SITE_URL="http://127.0.0.1")
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url and not urllib.parse.urlsplit(url).scheme.startswith(("postgres", "pgsql")):
        raise BenchError(
            f"DATABASE_URL must be PostgreSQL or unset (SQLite), got {urllib.parse.urlsplit(url).scheme}://"
        )
    return url


def _url_of(database: str) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(_server_url())._replace(path=f"/{database}"))


def _admin(*statements) -> None:
    login_rate._postgres_admin(login_rate._postgres_conninfo(_server_url()), list(statements))


def _drop(database: str) -> None:
    from psycopg import sql

    with contextlib.suppress(Exception):
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


def _create(database: str, template: str | None = None) -> None:
    from psycopg import sql

    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database))
    if template:
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(database), sql.Identifier(template))
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)), create)


@contextlib.contextmanager
def scratch_database(name: str) -> Iterator[str | None]:
    """A fresh PostgreSQL database next to DATABASE_URL's, dropped afterwards; its URL (None on SQLite)."""
    if not _server_url():
        yield None
        return
    _create(name)
    try:
        yield _url_of(name)
    finally:
        _drop(name)


def _worker(env: dict, args: list[str], *, log: Log, timeout: float, what: str) -> dict:
    """Run this script as a worker inside the bench environment; relay its output; return the JSON it wrote."""
    with tempfile.NamedTemporaryFile(prefix="moncompte-bench-", suffix=".json", delete=False) as handle:
        output = Path(handle.name)
    try:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", *args, "--output", str(output)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            process.kill()

        timer = threading.Timer(timeout, stop)
        timer.start()
        tail: collections.deque[str] = collections.deque(maxlen=40)
        try:
            for line in process.stdout:
                tail.append(line.rstrip())
                log(f"    {line.rstrip()}")
            process.wait()
        finally:
            timer.cancel()
        if process.returncode:
            if timed_out.is_set():
                raise BenchError(f"{what} did not finish within {timeout:.0f} s.")
            raise BenchError(f"{what} failed (exit {process.returncode}):\n\n```\n" + "\n".join(tail) + "\n```")
        return json.loads(output.read_text())
    finally:
        output.unlink(missing_ok=True)


# --- P4: recording who saw what, per page ----------------------------------------------------------------------------


def measure_p4(*, pages: int = 2000, warmup: int = 100, blocks: int = 40, log: Log = _stderr, timeout: float = 3600):
    """P4 figures (dict), or {"name": "P4", "error": …}."""
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="moncompte-bench-p4-") as tmp, scratch_database(P4_DATABASE) as url:
            engine = "PostgreSQL" if url else "SQLite"
            log(
                f"P4: household pages with and without the read recording ({pages} pages a case and variant, {engine})"
            )
            env = environment(Path(tmp), url)
            args = ["p4", "--pages", str(pages), "--warmup", str(warmup), "--blocks", str(blocks)]
            result = _worker(env, args, log=log, timeout=timeout, what="the P4 worker")
    except BenchError as error:
        return {"name": "P4", "error": str(error)}
    result.update(name="P4", passed=None, elapsed_s=time.monotonic() - started)
    result["section"] = markdown_p4(result)
    return result


def _seed_household():
    """A migrated holder (password, validated e-mail, onboarding seen), a partner with an account and a child of 16
    without one, in one case: what tests.factories.family() builds, with plain model creation."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from moncompte.accounts.models import Account
    from moncompte.households.models import Case, Membership, Role
    from moncompte.identity.models import Person
    from moncompte.identity.nir import parse_nir

    today, now = timezone.localdate(), timezone.now()
    case = Case.objects.create(case_number=CASE_NUMBER, address="3 rue des Lilas\n75011 Paris")

    def person(seq: int, sex: str, birth: datetime.date, names: str) -> Person:
        nir = parse_nir(f"{1 if sex == 'M' else 2}{birth:%y%m}75056{seq:03d}").value
        return Person.objects.create(
            nir=nir, birth_name="BANC", given_names=names, birth_date=birth, sex=sex, birthplace="75056",
            email_on_file=f"banc{seq}@exemple.fr",
        )  # fmt: skip

    holder = person(1, "M", datetime.date(1984, 5, 1), "Titulaire")
    partner = person(2, "F", datetime.date(1986, 3, 1), "Conjointe")
    child = person(3, "F", today.replace(year=today.year - 16, day=1), "Enfant")
    for who, role in ((holder, Role.HOLDER), (partner, Role.PARTNER), (child, Role.CHILD)):
        Membership.objects.create(case=case, person=who, role=role)
    password = make_password(PASSWORD)
    accounts = [
        Account.objects.create(
            login_id=who.nir,
            person=who,
            password=password,
            email=who.email_on_file,
            email_verified_at=now,
            password_changed_at=now,
            onboarded_at=now,
        )
        for who in (holder, partner)
    ]
    return case, accounts[0]


def worker_p4(*, pages: int, warmup: int, blocks: int) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from moncompte.journal import reads
    from moncompte.journal.models import Read

    _stderr("migrate, createcachetable, collectstatic…")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if READS_MIDDLEWARE not in settings.MIDDLEWARE:
        raise SystemExit(f"{READS_MIDDLEWARE} is not in MIDDLEWARE: nothing to compare")
    case, account = _seed_household()
    urls = [f"/mon-foyer/{case.case_number}/", "/mon-foyer/"]

    def client(recording: bool) -> Client:
        made = Client(HTTP_HOST="127.0.0.1", HTTP_USER_AGENT=USER_AGENT)
        # The handler builds its middleware chain once, from the settings of that moment; it keeps it afterwards.
        middleware = settings.MIDDLEWARE if recording else [m for m in settings.MIDDLEWARE if m != READS_MIDDLEWARE]
        with override_settings(MIDDLEWARE=middleware):
            made.handler.load_middleware()
        return made

    def new_session(on: Client) -> None:
        on.cookies.clear()
        on.force_login(account, backend=BACKEND)
        primed = on.get(PRIMING_PATH)
        if primed.status_code != 200:
            raise SystemExit(f"GET {PRIMING_PATH} answered {primed.status_code}")

    def page(on: Client, index: int) -> tuple[float, float, str]:
        url = urls[index % 2]
        wall, cpu = time.perf_counter(), time.process_time()
        response = on.get(url)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if response.status_code != 200 or CASE_NUMBER.encode() not in response.content:
            raise SystemExit(f"GET {url} answered {response.status_code} without the case")
        return wall, cpu, url

    # The time spent in journal.reads.write (the middleware's work after the response: the LRU look-up, and the
    # INSERT when the look is new), summed per variant; the middleware calls it through the module, so it is seen.
    in_write = [0.0]
    original_write = reads.write

    def timed_write(*args, **kwargs):
        began = time.perf_counter()
        try:
            return original_write(*args, **kwargs)
        finally:
            in_write[0] += time.perf_counter() - began

    reads.write = timed_write
    per_block = max(1, pages // blocks)
    figures = {}
    for case_name, fresh in (("repeated", False), ("new_session", True)):
        load_before = os.getloadavg()[0]
        reads.forget()
        clients = {"with": client(True), "without": client(False)}
        for on in clients.values():
            new_session(on)
        samples = {
            variant: {"wall": [], "cpu": [], "rows": 0, "write": 0.0, "blocks": [], "urls": {u: [] for u in urls}}
            for variant in clients
        }
        _stderr(f"{case_name}: warm-up {warmup} pages per variant…")
        for on in clients.values():
            for index in range(warmup):
                if fresh:
                    new_session(on)
                page(on, index)
        _stderr(f"{case_name}: {blocks} blocks of {per_block} pages per variant, alternating…")
        for block in range(blocks):
            for variant, on in clients.items():
                sample = samples[variant]
                rows_before, write_before = Read.objects.count(), in_write[0]
                walls = []
                for index in range(per_block):
                    if fresh:
                        new_session(on)
                    wall, cpu, url = page(on, index)
                    walls.append(wall)
                    sample["cpu"].append(cpu)
                    sample["urls"][url].append(wall)
                sample["wall"] += walls
                sample["rows"] += Read.objects.count() - rows_before
                sample["write"] += in_write[0] - write_before
                sample["blocks"].append(statistics.fmean(walls))
            _stderr(
                f"  block {block + 1}/{blocks}: with {1000 * samples['with']['blocks'][-1]:.2f} ms, without "
                f"{1000 * samples['without']['blocks'][-1]:.2f} ms"
            )
        result = {}
        for variant, sample in samples.items():
            result[variant] = {
                "pages": len(sample["wall"]),
                "ms": 1000 * statistics.fmean(sample["wall"]),
                "ms_p50": 1000 * statistics.median(sample["wall"]),
                "cpu_ms": 1000 * statistics.fmean(sample["cpu"]),
                "rows": sample["rows"],
                "write_ms": 1000 * sample["write"] / len(sample["wall"]),
                "by_url": {url: 1000 * statistics.fmean(walls) for url, walls in sample["urls"].items()},
            }
        pair_diffs = [
            1000 * (a - b) for a, b in zip(samples["with"]["blocks"], samples["without"]["blocks"], strict=True)
        ]
        result.update(
            diff_ms=result["with"]["ms"] - result["without"]["ms"],
            diff_cpu_ms=result["with"]["cpu_ms"] - result["without"]["cpu_ms"],
            diff_p50_ms=result["with"]["ms_p50"] - result["without"]["ms_p50"],
            block_diffs_ms=pair_diffs,
            pages_per_block=per_block,
            load=(load_before, os.getloadavg()[0]),
        )
        figures[case_name] = result
    reads.write = original_write
    return {
        **figures,
        "blocks": blocks,
        "warmup": warmup,
        "engine": connection.vendor,
        "database": f"{connection.display_name} {'.'.join(map(str, connection.get_database_version()))}",
        "journal_read_rows": Read.objects.count(),
        "session_engine": settings.SESSION_ENGINE,
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "urls": urls,
    }


def _two_se(values: list[float]) -> float:
    """Two standard errors of the mean of the block pairs' differences: a rough 95 % interval of the difference."""
    return 2 * statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")


def markdown_p4(result: dict) -> str:
    repeated, fresh = result["repeated"], result["new_session"]
    lines = [
        "## P4 — cost of recording who saw what, per household page",
        "",
        f"**Repeated pages in one session: {repeated['diff_ms']:+.2f} ms per page** "
        f"({repeated['with']['ms']:.2f} ms with the recording vs {repeated['without']['ms']:.2f} ms without). "
        f"**A new session before every page (one INSERT after each response): {fresh['diff_ms']:+.2f} ms per page** "
        f"({fresh['with']['ms']:.2f} vs {fresh['without']['ms']:.2f} ms). No goal was set: the figure is reported.",
        "",
        "| Case | Variant | Pages | Mean ms/page | Median ms/page | CPU ms/page (this process) | "
        "`journal_read` rows written |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, figures in (("repeated pages, one session", repeated), ("new session per page", fresh)):
        for variant, name in (("with", "middleware as configured"), ("without", "ReadRecordingMiddleware removed")):
            f = figures[variant]
            lines.append(
                f"| {label} | {name} | {f['pages']} | {f['ms']:.2f} | {f['ms_p50']:.2f} | {f['cpu_ms']:.2f} | "
                f"{f['rows']} |"
            )
        spread = _two_se(figures["block_diffs_ms"])
        lines.append(
            f"| {label} | **difference** | | **{figures['diff_ms']:+.2f}** ± {spread:.2f} | "
            f"{figures['diff_p50_ms']:+.2f} | {figures['diff_cpu_ms']:+.2f} | |"
        )
    lines += [
        "",
        f"Time inside `journal.reads.write` (the middleware's work after the response), per page, measured directly "
        f"in the same run: **{1000 * repeated['with']['write_ms']:.1f} µs** for a repeated page (LRU hit, no write), "
        f"**{fresh['with']['write_ms']:.2f} ms** for a new session's page (the INSERT and its commit).",
    ]
    by_url = " ; ".join(
        f"`{url}` {repeated['with']['by_url'][url]:.2f} / {repeated['without']['by_url'][url]:.2f} ms"
        for url in result["urls"]
    )
    lines += [
        "",
        f"Per page, repeated case, with / without: {by_url}.",
        "",
        f"Method: one process, Django's test `Client` (no HTTP server, no network; the response's closers, where the "
        f"INSERT runs, are inside the measured time), the production settings module (DEBUG=false, HTTPS=false), "
        f"{result['engine']} ({result['database']}), sessions `{result['session_engine']}`, cache "
        f"`{result['cache']}`. A migrated holder, a partner with an account and a child of 16 in one case; pages "
        f"`{result['urls'][0]}` and `{result['urls'][1]}` in turn. Variant B is the same settings with "
        f"`{READS_MIDDLEWARE}` removed from MIDDLEWARE (a second handler, same process). {result['warmup']} warm-up "
        f"pages per variant, then {result['blocks']} blocks of {repeated['pages_per_block']} pages per variant, "
        f"alternating A/B/A/B; ± is two standard errors of the mean over the {result['blocks']} block pairs. "
        f"New-session case: before each page, untimed, a new session (`force_login`) and one "
        f"`GET {PRIMING_PATH}` (which opens the session's record and shows nobody's data), so the timed page is the "
        f"session's first look at the case. The test client keeps its database connection between requests "
        f"(gunicorn with SQLite reopens it: about 1 ms more per page, in both variants).",
        "",
        f"Other programs (another engineer's test runs) may share the {os.cpu_count()} cores: load average (1 min) "
        f"{repeated['load'][0]:.1f} → {repeated['load'][1]:.1f} over the repeated case, {fresh['load'][0]:.1f} → "
        f"{fresh['load'][1]:.1f} over the new-session case (this benchmark alone adds about 1). A difference within "
        "its ± is noise; the time inside `journal.reads.write` is the steadier figure.",
    ]
    return "\n".join(lines) + "\n"


# --- P5: cancelling an incident window on a large journal ------------------------------------------------------------


def measure_p5(
    *,
    households: int = 100_000,
    journal_rows: int = 10_000_000,
    small_journal_rows: int = 1_000_000,
    foreign_looks: int = 1_000,
    log: Log = _stderr,
    timeout: float = 4 * 3600,
) -> dict:
    """P5 figures (dict), {"name": "P5", "skipped": …} without PostgreSQL, or {"name": "P5", "error": …}."""
    try:
        if not _server_url():
            return {"name": "P5", "skipped": SKIPPED}
    except BenchError as error:
        return {"name": "P5", "error": str(error)}
    started = time.monotonic()
    sizes = sorted({rows for rows in (small_journal_rows, journal_rows) if rows})
    runs, setup = [], {}
    try:
        with tempfile.TemporaryDirectory(prefix="moncompte-bench-p5-") as tmp:
            journals = ", ".join(f"{n:,}" for n in sizes)
            log(f"P5: {households:,} households (all act in the window), journals of {journals} rows, on PostgreSQL…")
            base = environment(Path(tmp), _url_of(P5_DATABASE))
            try:
                _create(P5_DATABASE)
                scale = ["--households", str(households), "--foreign-looks", str(foreign_looks)]
                setup = _worker(
                    base, ["p5-setup", *scale], log=log, timeout=timeout, what="migrate and drill.generate"
                )
                for number, rows in enumerate(sizes):
                    database = P5_DATABASE if number == 0 else P5_BIG_DATABASE
                    if number:  # the smaller journal's database was measured (and copied): free its disk
                        _drop(P5_DATABASE)
                    env = environment(Path(tmp), _url_of(database))
                    pad = _worker(env, ["p5-pad", "--to", str(rows)], log=log, timeout=timeout, what="the padding")
                    copied = None
                    if number + 1 < len(sizes):  # the larger journal starts from a copy of this one, before cancelling
                        began = time.perf_counter()
                        _create(P5_BIG_DATABASE, template=database)
                        copied = time.perf_counter() - began
                    log(f"  cancellation on a journal of {pad['journal_rows']:,} rows…")
                    run = _worker(env, ["p5-measure"], log=log, timeout=timeout, what="the cancellation")
                    runs.append({**run, "pad": pad, "copy_s": copied})
            finally:
                _drop(P5_DATABASE)
                _drop(P5_BIG_DATABASE)
    except BenchError as error:
        return {"name": "P5", "error": str(error)}
    big = runs[-1]
    result = {
        "name": "P5",
        "goal_s": P5_GOAL_S,
        "passed": big["cancel_s"] <= P5_GOAL_S and big["figures"]["undone"] == big["expected_undone"],
        "households": households,
        "foreign_looks": foreign_looks,
        "setup": setup,
        "runs": runs,
        "elapsed_s": time.monotonic() - started,
    }
    result["section"] = markdown_p5(result)
    return result


SKIPPED = (
    "P5 needs PostgreSQL (the goal is stated for it): set DATABASE_URL to a PostgreSQL server, for example "
    "`DATABASE_URL=postgres://postgres@127.0.0.1:5432/test make bench`; a scratch database is created next to the one "
    "named there and dropped afterwards. Not run on SQLite."
)


def _window() -> tuple[datetime.datetime, datetime.datetime]:
    from django.utils import timezone

    from moncompte.incidents import drill

    start = timezone.make_aware(drill.START)
    return start, start + datetime.timedelta(hours=drill.HOURS)


def worker_p5_setup(*, households: int, foreign_looks: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    from moncompte.incidents import drill
    from moncompte.journal.context import acting
    from moncompte.journal.models import Channel

    began = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrate_s = time.perf_counter() - began
    _stderr(f"migrate: {migrate_s:.1f} s; drill.generate…")
    began = time.perf_counter()
    with acting(channel=Channel.COMMAND):
        sizes = drill.generate(
            drill.Scale(households=households, actors=households, foreign_looks=foreign_looks, history=0),
            say=_stderr,
        )
    generate_s = time.perf_counter() - began
    _stderr(f"drill.generate: {generate_s:.1f} s")
    return {"migrate_s": migrate_s, "generate_s": generate_s, "sizes": sizes}


PAD_SQL = """
WITH holders AS (
    SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, person_id
    FROM accounts_account WHERE person_id IS NOT NULL
)
INSERT INTO journal_entry (
    kind, created_at, actor_account_id, person_id, case_number, channel, session_ref, ip_address, user_agent,
    before, after, undone_at, undone_by_id
)
SELECT
    (%(kinds)s::text[])[1 + g %% %(kind_count)s],
    CASE WHEN g %% 10 = 0
        THEN %(after_from)s::timestamptz + (g::float8 / %(rows)s) * %(after_span)s * interval '1 second'
        ELSE %(before_from)s::timestamptz + (g::float8 / %(rows)s) * %(before_span)s * interval '1 second'
    END,
    holders.id,
    holders.person_id,
    '',
    'web',
    substr(md5(holders.id::text || '/' || (g / 97)::text), 1, 16),
    ('198.51.100.' || (1 + g %% 254))::inet,
    %(user_agent)s,
    '{}'::jsonb,
    CASE WHEN g %% %(kind_count)s < 3 THEN '{"via": "password"}'::jsonb ELSE '{}'::jsonb END,
    NULL,
    NULL
FROM generate_series(1, %(rows)s) AS g
JOIN holders ON holders.k = g %% %(holder_count)s
"""


def worker_p5_pad(*, to: int) -> dict:
    """Pad the journal to `to` rows with events outside the window (one INSERT … SELECT), then VACUUM ANALYZE."""
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from moncompte.accounts.models import Account
    from moncompte.journal.models import Entry

    # In UTC: Python subtracts two datetimes of one time zone by their wall clocks, which would add the hour that
    # summer time took away and put padding inside the window.
    start, end = (moment.astimezone(datetime.UTC) for moment in _window())
    current = Entry.objects.count()
    in_window_before = Entry.objects.filter(created_at__gte=start, created_at__lt=end).count()
    rows = max(0, to - current)
    holder_count = Account.objects.filter(person__isnull=False).count()
    insert_s = vacuum_s = 0.0
    if rows:
        before_from = timezone.make_aware(PAD_FROM).astimezone(datetime.UTC)
        parameters = {
            "kinds": list(PAD_KINDS),
            "kind_count": len(PAD_KINDS),
            "rows": rows,
            "holder_count": holder_count,
            "before_from": before_from,
            # the last padded instant before the window is one second before it; after it, the first is its end
            "before_span": (start - before_from).total_seconds() - 1,
            "after_from": end,
            "after_span": datetime.timedelta(days=PAD_AFTER_DAYS).total_seconds(),
            "user_agent": USER_AGENT,
        }
        _stderr(f"padding: {current:,} → {to:,} rows ({rows:,} inserted by one INSERT … SELECT)…")
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(PAD_SQL, parameters)
        insert_s = time.perf_counter() - began
        _stderr(f"padding: {insert_s:.1f} s; VACUUM ANALYZE journal_entry…")
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) journal_entry")
        vacuum_s = time.perf_counter() - began
        _stderr(f"VACUUM ANALYZE: {vacuum_s:.1f} s")
    in_window = Entry.objects.filter(created_at__gte=start, created_at__lt=end).count()
    if in_window != in_window_before:
        raise SystemExit(f"the padding put {in_window - in_window_before} entries inside the window")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('journal_entry')")
        (size,) = cursor.fetchone()
    return {
        "inserted": rows,
        "insert_s": insert_s,
        "vacuum_s": vacuum_s,
        "journal_rows": Entry.objects.count(),
        "in_window": in_window,
        "journal_bytes": size,
    }


class _Step:
    """Wall time and CPU time of a step: this process's, and its PostgreSQL backend's (read from /proc: same machine
    only, 0 otherwise; the backend's parallel workers, if a plan uses them, are not counted)."""

    def __init__(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (self.backend,) = cursor.fetchone()
        self.wall, self.cpu, self.db = time.perf_counter(), time.process_time(), self._backend_s()

    def _backend_s(self) -> float:
        return login_rate._process_ticks(self.backend) / login_rate.CLOCK_TICKS

    def done(self) -> tuple[float, tuple[float, float]]:
        return time.perf_counter() - self.wall, (time.process_time() - self.cpu, self._backend_s() - self.db)


def worker_p5_measure() -> dict:
    import django

    django.setup()
    from django.db import connection

    from moncompte.households.models import Delegation
    from moncompte.incidents import cancellation, services
    from moncompte.incidents.affected import affected
    from moncompte.journal import services as journal
    from moncompte.journal.context import acting
    from moncompte.journal.models import Channel, Entry

    # Where a cancellation's time goes: cancellation.cancel computes `affected` again, walks the window by keyset
    # pages (`_pages`) and undoes each batch (`journal.undo_many`); it calls the three through their modules, so
    # wrapping them here times them without changing them.
    spent: collections.Counter[str] = collections.Counter()

    def timed(name: str, function):
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - began

        return wrapper

    def timed_pages(*args, **kwargs):
        pages = original[1](*args, **kwargs)
        while True:
            began = time.perf_counter()
            page = next(pages, None)
            spent["pages"] += time.perf_counter() - began
            if page is None:
                return
            yield page

    original = cancellation.affected, cancellation._pages, journal.undo_many
    cancellation.affected = timed("affected", cancellation.affected)
    journal.undo_many = timed("undo_many", journal.undo_many)
    cancellation._pages = timed_pages
    actor = "banc d'essai (bench/incident_rates.py)"
    load_before = os.getloadavg()[0]
    start, end = _window()
    expected = Entry.objects.filter(created_at__gte=start, created_at__lt=end, kind="delegation.granted").count()
    with acting(channel=Channel.COMMAND):
        incident = services.incident_open(
            title="Banc d'essai : annulation d'une période",
            description="Mesure du temps d'annulation des actions d'une période (bench P5).",
            detected_at=end - datetime.timedelta(minutes=30),
            window_start=start,
            window_end=end,
            categories=["household"],
            actor=actor,
        )
        step = _Step()
        who = affected(start, end)
        affected_s, affected_cpu = step.done()
        counts = who.counts()
        _stderr(f"affected(): {affected_s:.2f} s — {counts['concerned']} concerned, {counts['actions']} actions")
        spent.clear()
        step = _Step()
        dry = services.window_cancel(incident, dry_run=True, actor=actor)
        dry_s, dry_cpu = step.done()
        dry_parts = dict(spent)
        _stderr(f"dry run: {dry_s:.2f} s — {dry['undone']} to undo, {dry['events']} events")
        spent.clear()
        step = _Step()
        real = services.window_cancel(incident, dry_run=False, actor=actor)
        cancel_s, cancel_cpu = step.done()
        cancel_parts = dict(spent)
        _stderr(
            f"cancellation: {cancel_s:.2f} s (CPU: Python {cancel_cpu[0]:.1f} s, PostgreSQL backend "
            f"{cancel_cpu[1]:.1f} s) — {real['undone']} undone, {real['events']} events"
        )
    cancellation.affected, cancellation._pages, journal.undo_many = original
    revoked = Delegation.objects.filter(revoked_at__isnull=False).count()
    undone = Entry.objects.filter(created_at__gte=start, created_at__lt=end, undone_at__isnull=False).count()
    return {
        "affected_s": affected_s,
        "dry_run_s": dry_s,
        "cancel_s": cancel_s,
        "affected_cpu": affected_cpu,
        "dry_run_cpu": dry_cpu,
        "cancel_cpu": cancel_cpu,
        "counts": counts,
        "dry_run": dry,
        "figures": real,
        "load": (load_before, os.getloadavg()[0]),
        "dry_run_parts": dry_parts,
        "cancel_parts": cancel_parts,
        "expected_undone": expected,
        "delegations_revoked": revoked,
        "entries_marked_undone": undone,
        "database": f"{connection.display_name} {'.'.join(map(str, connection.get_database_version()))}",
    }


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value >= 10 else f"{value:.2f} s"


def markdown_p5(result: dict) -> str:
    runs, setup = result["runs"], result["setup"]
    big = runs[-1]
    verdict = "PASS" if result["passed"] else "BELOW GOAL"
    figures = big["figures"]
    lines = [
        "## P5 — cancelling an incident window's actions on a large journal (PostgreSQL)",
        "",
        f"**{_seconds(big['cancel_s'])} to cancel {figures['undone']:,} actions ({figures['events']:,} events passed "
        f"over) in a window of {big['pad']['in_window']:,} entries, in a journal of {big['pad']['journal_rows']:,} "
        f"rows** (goal ≤ {result['goal_s']:.0f} s): **{verdict}**",
        "",
        "| Journal rows | Entries in the window | `affected()` | Dry run | **Cancellation** | "
        "Cancellation CPU: Python + PostgreSQL backend | Undone | Events passed over | To the worklist | "
        "Delegations revoked |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        f, cpu = run["figures"], run["cancel_cpu"]
        lines.append(
            f"| {run['pad']['journal_rows']:,} | {run['pad']['in_window']:,} | {_seconds(run['affected_s'])} | "
            f"{_seconds(run['dry_run_s'])} | **{_seconds(run['cancel_s'])}** | {_seconds(cpu[0])} + "
            f"{_seconds(cpu[1])} = {_seconds(sum(cpu))} | {f['undone']:,} | {f['events']:,} | "
            f"{f['to_worklist'] + f['messages']:,} | {run['delegations_revoked']:,} |"
        )
    lines += [
        "",
        "Where the time goes (the wrapped functions, timed in the same run):",
        "",
        "| Journal rows | Step | Total | `affected()` again | Walking the window (keyset pages of 500) | "
        "`undo_many` (handlers, undo entries, marks) | The rest |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        for label, total, parts in (
            ("dry run", run["dry_run_s"], run["dry_run_parts"]),
            ("cancellation", run["cancel_s"], run["cancel_parts"]),
        ):
            known = sum(parts.values())
            lines.append(
                f"| {run['pad']['journal_rows']:,} | {label} | {_seconds(total)} | "
                f"{_seconds(parts.get('affected', 0))} | {_seconds(parts.get('pages', 0))} | "
                f"{_seconds(parts.get('undo_many', 0))} | {_seconds(max(0.0, total - known))} |"
            )
    if len(runs) > 1:
        small = runs[0]
        ratio = big["pad"]["journal_rows"] / small["pad"]["journal_rows"]
        lines += [
            "",
            f"A journal {ratio:.0f} times larger, the same window: cancellation {_seconds(small['cancel_s'])} → "
            f"{_seconds(big['cancel_s'])} ({big['cancel_s'] / small['cancel_s']:.2f} times), dry run "
            f"{_seconds(small['dry_run_s'])} → {_seconds(big['dry_run_s'])}, `affected()` "
            f"{_seconds(small['affected_s'])} → {_seconds(big['affected_s'])}; CPU of the cancellation "
            f"{_seconds(sum(small['cancel_cpu']))} → {_seconds(sum(big['cancel_cpu']))} "
            f"({sum(big['cancel_cpu']) / sum(small['cancel_cpu']):.2f} times): "
            + (
                "the cost follows the window, not the journal."
                if sum(big["cancel_cpu"]) <= 1.5 * sum(small["cancel_cpu"])
                else "**the cancellation's CPU time grew with the journal.**"
            ),
        ]
    sizes = setup["sizes"]
    pads = "; ".join(
        f"to {run['pad']['journal_rows']:,} rows: {run['pad']['inserted']:,} inserted in "
        f"{_seconds(run['pad']['insert_s'])}, VACUUM ANALYZE {_seconds(run['pad']['vacuum_s'])}, table and indexes "
        f"{run['pad']['journal_bytes'] / 2**30:.2f} GiB"
        for run in runs
    )
    counts = big["counts"]
    lines += [
        "",
        f"Setup: {big['database']}; `drill.generate(Scale(households={result['households']:,}, "
        f"actors={result['households']:,}, foreign_looks={result['foreign_looks']:,}, history=0))` in "
        f"{_seconds(setup['generate_s'])} ({sizes['people']:,} people, {sizes['journal_entries']:,} journal entries, "
        f"{sizes['looks']:,} looks; migrate {_seconds(setup['migrate_s'])}). Padding, outside the window only, by one "
        f"statement (`INSERT INTO journal_entry` of rows made by `generate_series`), events "
        f"({', '.join(sorted(set(PAD_KINDS)))}) spread over "
        f"1 January 2019 to the window's start and its end to {PAD_AFTER_DAYS} days after, each row with an actor and "
        f"person of the generated holders, an IP and a device: {pads}. No password kind in the padding (it would "
        f"leave people out of the cancellation). Counted: {counts['concerned']:,} people concerned, "
        f"{counts['actions']:,} actions, {counts['looks']:,} looks.",
        "",
        "Timed, in this order, as the security team runs them: `affected(start, end)`; the dry run and the real "
        "cancellation through `services.window_cancel` (what `manage.py incident cancel` calls: each computes "
        "`affected` again, then walks the window's entries newest first in batches of 500; the real one undoes the "
        "`delegation.granted` entries of each batch through their kind's batch handler (`register_undo_many`: one "
        "UPDATE a batch) and commits batch by batch). The larger journal is a copy "
        "(`CREATE DATABASE … TEMPLATE`) of the smaller one taken before its cancellation, then padded further. "
        f"Other programs may share the {os.cpu_count()} cores: load average (1 min) at the start → end of the timed "
        "steps, "
        + ", ".join(
            f"{run['load'][0]:.1f} → {run['load'][1]:.1f} ({run['pad']['journal_rows']:,} rows)" for run in runs
        )
        + " (this benchmark alone adds 1 to 2); durations move with it.",
    ]
    if any(run["figures"]["undone"] != run["expected_undone"] for run in runs):
        lines += ["", "**Caution:** fewer actions were undone than `delegation.granted` entries in the window."]
    return "\n".join(lines) + "\n"


# --- Command line ----------------------------------------------------------------------------------------------------


def _worker_main(args) -> int:
    if args.mode == "p4":
        result = worker_p4(pages=args.pages, warmup=args.warmup, blocks=args.blocks)
    elif args.mode == "p5-setup":
        result = worker_p5_setup(households=args.households, foreign_looks=args.foreign_looks)
    elif args.mode == "p5-pad":
        result = worker_p5_pad(to=args.to)
    else:
        result = worker_p5_measure()
    args.output.write_text(json.dumps(result, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("mode", choices=["p4", "p5", "p5-setup", "p5-pad", "p5-measure"])
    parser.add_argument("--pages", type=int, default=2000, help="P4: measured pages per case and variant")
    parser.add_argument("--warmup", type=int, default=100, help="P4: warm-up pages per case and variant")
    parser.add_argument("--blocks", type=int, default=40, help="P4: blocks per variant (alternating A/B)")
    parser.add_argument("--households", type=int, default=100_000, help="P5: households (all of them act)")
    parser.add_argument("--foreign-looks", type=int, default=1_000, help="P5: other households' cases shown")
    parser.add_argument("--journal-rows", type=int, default=10_000_000, help="P5: rows in the large journal")
    parser.add_argument("--small-journal-rows", type=int, default=1_000_000, help="P5: rows in the small one (0: no)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the markdown section here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--to", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:  # internal: runs inside the bench environment
        return _worker_main(args)
    if args.mode == "p4":
        result = measure_p4(pages=args.pages, warmup=args.warmup, blocks=args.blocks)
    elif args.mode == "p5":
        result = measure_p5(
            households=args.households,
            journal_rows=args.journal_rows,
            small_journal_rows=args.small_journal_rows,
            foreign_looks=args.foreign_looks,
        )
    else:
        parser.error(f"{args.mode} is internal")
    text = (
        result.get("section") or f"## {result['name']} — not measured\n\n{result.get('error') or result['skipped']}\n"
    )
    print(text)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    if args.markdown:
        args.markdown.write_text(text)
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main())
