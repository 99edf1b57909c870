"""P1: full HTTP login throughput through gunicorn against the raw argon2 verify rate, side by side in one run.

    python bench/login_rate.py [--duration 20] [--warmup 3] [--raw-duration 10] [--json out.json]

What one run does:

1. A throwaway environment: VAR_DIR in a temporary directory (SQLite there), or, when DATABASE_URL is set, a dedicated
   database ``moncompte_bench`` created next to it and dropped at the end (the database named in DATABASE_URL is never
   touched). Real argon2 parameters (settings defaults, ARGON2_* honoured), DEBUG=false, HTTPS=false. For the bench
   only, the failure limits (axes and our own counters) are raised so that they cannot interfere.
2. ``manage.py migrate`` and ``collectstatic`` (the login page resolves its assets through the manifest storage).
3. N migrated accounts (person + password + validated e-mail + onboarding seen), all with the same argon2 hash made
   once by the real hasher: a login verifies it exactly as it would verify N different hashes, and setup is instant.
4. gunicorn with one sync worker per core on 127.0.0.1.
5. Raw rate: argon2 verify of that hash on every core (one process per core), before and after the HTTP run.
6. HTTP run: a few client threads doing full logins with a fresh cookie jar each time (GET /connexion/ for the CSRF
   cookie and token, POST /connexion/ with NIR + password, expect 302 to /mon-espace/), rotating through the N
   accounts; warm-up, then a fixed measured window.

Each login costs exactly one argon2 verify (accounts.authentication), so logins/s ÷ raw verifies/s says how much of
the machine the rest of the request (Django, database, the load generator itself) takes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import http.client
import itertools
import json
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Tr0mbone-Vert!42"
BENCH_DATABASE = "moncompte_bench"
LOGIN_PATH = "/connexion/"
DASHBOARD_PATH = "/mon-espace/"
GOAL = 0.80
HIGH_LIMIT = "1000000"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")


# --- Throwaway environment -------------------------------------------------------------------------------------------


@dataclass
class Environment:
    tmp: Path
    env: dict[str, str]
    engine: str  # "sqlite" or "postgresql"
    admin_conninfo: dict | None = None  # to drop the bench database at the end
    database: str = ""


def _postgres_conninfo(url: str) -> dict:
    parts = urllib.parse.urlsplit(url)
    info = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": urllib.parse.unquote(parts.username or "postgres"),
        "dbname": "postgres",
    }
    if parts.password:
        info["password"] = urllib.parse.unquote(parts.password)
    return info


def _postgres_admin(conninfo: dict, statements: list) -> None:
    import psycopg

    with psycopg.connect(**conninfo, autocommit=True, connect_timeout=10) as conn:
        for statement in statements:
            conn.execute(statement)


def throwaway_environment(tmp: Path, **overrides: str) -> dict[str, str]:
    """The production settings module with its files in `tmp`, a fresh SECRET_KEY and plain HTTP on 127.0.0.1: what
    every benchmark's processes run with (`overrides` on top)."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="moncompte.settings",
        VAR_DIR=str(tmp),
        STATIC_ROOT=str(tmp / "static"),
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="false",
        HTTPS="false",
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CACHE_KEY_PREFIX=f"moncompte-bench-{os.getpid()}",
        PYTHONPATH=str(ROOT),
    )
    env.update(overrides)
    return env


def prepare_environment(settings_module: str = "moncompte.settings", pythonpath: str = "") -> Environment:
    tmp = Path(tempfile.mkdtemp(prefix="moncompte-bench-"))
    env = throwaway_environment(
        tmp,
        DJANGO_SETTINGS_MODULE=settings_module,
        # Bench only: every login here succeeds, but no limiter may ever get in the way of the measure.
        LOGIN_FAILURE_LIMIT=HIGH_LIMIT,
        LOGIN_LIMIT_PER_IP=HIGH_LIMIT,
        LOGIN_LIMIT_PER_IDENTIFIER=HIGH_LIMIT,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), pythonpath])),
    )
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        env.pop("DATABASE_URL", None)
        return Environment(tmp=tmp, env=env, engine="sqlite")
    scheme = urllib.parse.urlsplit(url).scheme
    if not scheme.startswith(("postgres", "pgsql")):
        raise SystemExit(f"bench: DATABASE_URL must be PostgreSQL or unset (SQLite), got {scheme}://")
    from psycopg import sql

    conninfo = _postgres_conninfo(url)
    name = sql.Identifier(BENCH_DATABASE)
    _postgres_admin(
        conninfo,
        [sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name), sql.SQL("CREATE DATABASE {}").format(name)],
    )
    parts = urllib.parse.urlsplit(url)
    env["DATABASE_URL"] = urllib.parse.urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}"))
    return Environment(tmp=tmp, env=env, engine="postgresql", admin_conninfo=conninfo, database=BENCH_DATABASE)


def cleanup_environment(environment: Environment) -> None:
    if environment.admin_conninfo:
        from psycopg import sql

        with contextlib.suppress(Exception):
            _postgres_admin(
                environment.admin_conninfo,
                [sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(environment.database))],
            )
    shutil.rmtree(environment.tmp, ignore_errors=True)


def _run_python(environment: Environment, argv: list[str], what: str) -> None:
    """Run a Python script of the project in the bench environment; stop the bench with its stderr if it fails."""
    completed = subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=environment.env, capture_output=True, text=True, check=False
    )
    if completed.returncode:
        raise SystemExit(f"bench: {what} failed:\n{completed.stderr[-3000:]}")


def _manage(environment: Environment, *args: str) -> None:
    _run_python(environment, [str(ROOT / "manage.py"), *args], f"manage.py {' '.join(args)}")


def seed_accounts(count: int) -> dict:
    """Run inside the bench environment (subprocess): create `count` migrated accounts sharing one real hash."""
    import datetime

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from moncompte.accounts.authentication import check_credentials
    from moncompte.accounts.hashers import ConfiguredArgon2PasswordHasher
    from moncompte.accounts.models import Account
    from moncompte.identity.models import Person
    from moncompte.identity.nir import parse_nir

    hasher = ConfiguredArgon2PasswordHasher()
    encoded = hasher.encode(PASSWORD, hasher.salt())
    assert not hasher.must_update(encoded), "a login would re-hash the password"
    nirs = []
    for seq in range(1, count + 1):  # valid NIRs: sex 1 or 2, born 05/1984 in Paris, commune and order never 000
        nir = f"{1 + seq % 2}8405750{seq % 99 + 1:02d}{seq // 99 % 999 + 1:03d}"
        nirs.append(parse_nir(nir).value)
    now = timezone.now()
    people = Person.objects.bulk_create(
        [
            Person(
                nir=nir,
                birth_name="BANC",
                given_names=f"Essai{index}",
                birth_date=datetime.date(1984, 5, 1),
                sex="M" if nir[0] == "1" else "F",
                birthplace="75056",
                email_on_file=f"banc{index}@exemple.fr",
            )
            for index, nir in enumerate(nirs)
        ],
        batch_size=500,
    )
    Account.objects.bulk_create(
        [
            Account(
                login_id=person.nir,
                person=person,
                password=encoded,
                email=person.email_on_file,
                email_verified_at=now,
                password_changed_at=now,
                onboarded_at=now,
            )
            for person in people
        ],
        batch_size=500,
    )
    assert check_credentials(nirs[0], PASSWORD).account is not None, "the seeded password does not verify"
    return {
        "hash": encoded,
        "nirs": nirs,
        "argon2": {
            "variant": "argon2id",
            "memory_cost_kib": settings.ARGON2_MEMORY_COST,
            "time_cost": settings.ARGON2_TIME_COST,
            "parallelism": settings.ARGON2_PARALLELISM,
        },
        "database": f"{connection.display_name} {'.'.join(map(str, connection.get_database_version()))}",
        "django": django.get_version(),
        "session_engine": settings.SESSION_ENGINE,
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
    }


def _seed(environment: Environment, count: int) -> dict:
    out = environment.tmp / "seed.json"
    _run_python(
        environment, [str(Path(__file__).resolve()), "--seed", str(count), "--seed-output", str(out)], "seeding"
    )
    return json.loads(out.read_text())


# --- gunicorn --------------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn_binary() -> str:
    local = Path(sys.executable).parent / "gunicorn"
    if local.exists():
        return str(local)
    found = shutil.which("gunicorn")
    if not found:
        raise SystemExit("bench: gunicorn not found next to this Python nor on PATH")
    return found


def start_gunicorn(
    environment: Environment, workers: int, wsgi: str = "moncompte.wsgi"
) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    log_path = environment.tmp / "gunicorn.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [_gunicorn_binary(), wsgi, "--workers", str(workers), "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=environment.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_ready(process, port, workers, log_path)
    except BaseException:
        stop_process(process)
        raise
    return process, port


def _wait_until_ready(process: subprocess.Popen, port: int, workers: int, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: gunicorn exited:\n{log_path.read_text()[-3000:]}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", LOGIN_PATH)
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 200:
                raise SystemExit(
                    f"bench: GET {LOGIN_PATH} answered {response.status}:\n{log_path.read_text()[-3000:]}"
                )
            # a few requests per worker before measuring (template cache, URL resolver, database connection)
            for _ in range(workers * 4):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", LOGIN_PATH)
                conn.getresponse().read()
                conn.close()
            return
        time.sleep(0.2)
    raise SystemExit("bench: gunicorn did not answer within 60 s")


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- CPU accounting --------------------------------------------------------------------------------------------------


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


def _process_ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (0 if it is gone or not on this machine)."""
    try:
        rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(rest[11]) + int(rest[12])
    except (OSError, ValueError, IndexError):
        return 0


def _process_tree_ticks(root_pid: int) -> int:
    """utime + stime of a process and its direct children (gunicorn master and workers), in clock ticks."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            pid = int(text.split(" ", 1)[0])
            rest = text.rsplit(")", 1)[1].split()
            if pid == root_pid or int(rest[1]) == root_pid:
                ticks += int(rest[11]) + int(rest[12])
    return ticks


class DatabaseBackends:
    """The PostgreSQL backend processes serving the bench database (same machine only), to count their CPU."""

    def __init__(self, environment: Environment):
        self.environment = environment
        self.conn = None
        if environment.admin_conninfo:
            import psycopg

            with contextlib.suppress(Exception):
                self.conn = psycopg.connect(**environment.admin_conninfo, autocommit=True, connect_timeout=10)

    def ticks(self) -> dict[int, int]:
        if self.conn is None:
            return {}
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.environment.database]
        ).fetchall()
        return {pid: _process_ticks(pid) for (pid,) in rows}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


@dataclass
class CpuSnapshot:
    wall: float
    machine_busy: int
    machine_total: int
    server_ticks: int
    own_seconds: float
    database_ticks: dict[int, int]

    @classmethod
    def take(cls, server_pid: int | None, database: DatabaseBackends | None = None) -> CpuSnapshot:
        busy, total = _machine_jiffies()
        return cls(
            wall=time.monotonic(),
            machine_busy=busy,
            machine_total=total,
            server_ticks=_process_tree_ticks(server_pid) if server_pid else 0,
            own_seconds=time.process_time(),
            database_ticks=database.ticks() if database else {},
        )


def cpu_between(start: CpuSnapshot, end: CpuSnapshot, cores: int) -> dict:
    """Core-seconds used during the window: the whole machine, the server, the database server, this process (the
    load generator), and the rest (other programs on the machine)."""
    wall = end.wall - start.wall
    machine = (end.machine_busy - start.machine_busy) / CLOCK_TICKS
    server = (end.server_ticks - start.server_ticks) / CLOCK_TICKS
    database = sum(ticks - start.database_ticks.get(pid, 0) for pid, ticks in end.database_ticks.items())
    database /= CLOCK_TICKS
    own = end.own_seconds - start.own_seconds
    return {
        "wall_s": wall,
        "capacity_core_s": wall * cores,
        "machine_busy_core_s": machine,
        "server_core_s": server,
        "database_core_s": database,
        "load_generator_core_s": own,
        "other_core_s": max(0.0, machine - server - database - own),
    }


# --- Raw argon2 verify rate ------------------------------------------------------------------------------------------


def _verify_loop(encoded: str, password: str, start_at: float, duration: float) -> tuple[int, float, float]:
    """Verify one hash in a loop from `start_at` for `duration` seconds: (verifies, wall seconds, CPU seconds)."""
    import argon2

    hasher = argon2.PasswordHasher()
    argon2_hash = "$" + encoded.split("$", 1)[1]  # Django's "argon2$argon2id$v=19$m=…" without its prefix
    hasher.verify(argon2_hash, password)  # warm
    while time.monotonic() < start_at:
        time.sleep(0.005)
    count, end = 0, start_at + duration
    cpu_start = time.process_time()
    now = time.monotonic()
    while now < end:
        hasher.verify(argon2_hash, password)
        count += 1
        now = time.monotonic()
    return count, now - start_at, time.process_time() - cpu_start


def raw_verify_rate(encoded: str, password: str, cores: int, duration: float) -> dict:
    """argon2 verify of one hash on every core (one process each) for `duration` seconds → verifies/s."""
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=cores, mp_context=context) as pool:
        start_at = time.monotonic() + 1.0
        futures = [pool.submit(_verify_loop, encoded, password, start_at, duration) for _ in range(cores)]
        time.sleep(max(0.0, start_at - time.monotonic()))
        busy0, total0 = _machine_jiffies()
        time.sleep(max(0.0, start_at + duration - time.monotonic()))
        busy1, total1 = _machine_jiffies()
        results = [future.result() for future in futures]
    rate = sum(count / elapsed for count, elapsed, _cpu in results)
    verifies = sum(count for count, _elapsed, _cpu in results)
    cpu = sum(cpu for _count, _elapsed, cpu in results)
    return {
        "rate": rate,
        "verifies": verifies,
        "per_process": [count / elapsed for count, elapsed, _cpu in results],
        "wall_ms_per_verify": 1000 * cores / rate if rate else float("nan"),
        "cpu_ms_per_verify": 1000 * cpu / verifies if verifies else float("nan"),
        "machine_busy_pct": 100 * (busy1 - busy0) / max(1, total1 - total0),
    }


# --- Load generator --------------------------------------------------------------------------------------------------


@dataclass
class LoadState:
    port: int
    nirs: list[str]
    window_start: float
    window_end: float
    stop: threading.Event = field(default_factory=threading.Event)
    counter: itertools.count = field(default_factory=itertools.count)
    lock: threading.Lock = field(default_factory=threading.Lock)
    logins: int = 0
    failures: int = 0
    warmup_logins: int = 0
    get_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _one_login(conn: http.client.HTTPConnection, nir: str) -> tuple[float, float]:
    """GET the form (new cookie jar: no cookie sent), POST NIR + password; raise unless 302 to the dashboard."""
    started = time.monotonic()
    conn.request("GET", LOGIN_PATH, headers={"Host": "127.0.0.1"})
    response = conn.getresponse()
    body = response.read()
    if response.will_close:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {LOGIN_PATH}: {response.status}")
    token = CSRF_INPUT.search(body)
    cookie = CSRF_COOKIE.search(response.getheader("Set-Cookie") or "")
    if not token or not cookie:
        raise RuntimeError("no CSRF token or cookie on the login page")
    got_form = time.monotonic()
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1).decode(), "identifier": nir, "password": PASSWORD}
    )
    conn.request(
        "POST",
        LOGIN_PATH,
        body=form,
        headers={
            "Host": "127.0.0.1",
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie.group(1)}",
        },
    )
    response = conn.getresponse()
    response.read()
    if response.will_close:
        conn.close()
    location = response.getheader("Location") or ""
    if response.status != 302 or urllib.parse.urlsplit(location).path != DASHBOARD_PATH:
        raise RuntimeError(f"POST {LOGIN_PATH}: {response.status} → {location or '-'}")
    done = time.monotonic()
    return (got_form - started) * 1000, (done - got_form) * 1000


def _client(state: LoadState) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", state.port, timeout=60)
    while not state.stop.is_set():
        nir = state.nirs[next(state.counter) % len(state.nirs)]
        try:
            get_ms, post_ms = _one_login(conn, nir)
        except (OSError, http.client.HTTPException, RuntimeError) as error:
            now = time.monotonic()
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", state.port, timeout=60)
            if state.window_start <= now <= state.window_end:
                with state.lock:
                    state.failures += 1
                    if len(state.errors) < 5:
                        state.errors.append(f"{type(error).__name__}: {error}")
            continue
        now = time.monotonic()
        with state.lock:
            if state.window_start <= now <= state.window_end:
                state.logins += 1
                state.get_ms.append(get_ms)
                state.post_ms.append(post_ms)
            elif now < state.window_start:
                state.warmup_logins += 1
    conn.close()


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def http_login_rate(
    port: int,
    nirs: list[str],
    clients: int,
    warmup: float,
    duration: float,
    server_pid: int,
    database: DatabaseBackends | None = None,
) -> dict:
    cores = os.cpu_count() or 1
    now = time.monotonic()
    state = LoadState(port=port, nirs=nirs, window_start=now + warmup, window_end=now + warmup + duration)
    threads = [threading.Thread(target=_client, args=(state,), daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, state.window_start - time.monotonic()))
    before = CpuSnapshot.take(server_pid, database)
    time.sleep(max(0.0, state.window_end - time.monotonic()))
    after = CpuSnapshot.take(server_pid, database)
    state.stop.set()
    for thread in threads:
        thread.join(timeout=120)
    cpu = cpu_between(before, after, cores)

    def per_login(core_seconds: float) -> float:
        return 1000 * core_seconds / state.logins if state.logins else float("nan")

    return {
        "rate": state.logins / duration,
        "logins": state.logins,
        "failures": state.failures,
        "warmup_logins": state.warmup_logins,
        "errors": state.errors,
        "get_ms_p50": statistics.median(state.get_ms) if state.get_ms else float("nan"),
        "get_ms_p95": _percentile(state.get_ms, 0.95),
        "post_ms_p50": statistics.median(state.post_ms) if state.post_ms else float("nan"),
        "post_ms_p95": _percentile(state.post_ms, 0.95),
        "cpu": cpu,
        "server_cpu_ms_per_login": per_login(cpu["server_core_s"]),
        "database_cpu_ms_per_login": per_login(cpu["database_core_s"]),
        "load_generator_cpu_ms_per_login": per_login(cpu["load_generator_core_s"]),
        "other_cpu_ms_per_login": per_login(cpu["other_core_s"]),
    }


# --- The whole measure -----------------------------------------------------------------------------------------------


def measure(
    *,
    duration: float = 20.0,
    warmup: float = 3.0,
    raw_duration: float = 10.0,
    accounts: int = 1000,
    workers: int | None = None,
    clients: int | None = None,
    settings_module: str = "moncompte.settings",
    wsgi: str = "moncompte.wsgi",
    pythonpath: str = "",
    log=print,
) -> dict:
    """Run P1 end to end and return its figures (see `markdown` for what they mean)."""
    cores = os.cpu_count() or 1
    workers = workers or cores
    clients = clients or 2 * workers
    started = time.monotonic()
    environment = prepare_environment(settings_module, pythonpath)
    server = None
    try:
        log(f"P1: environment in {environment.tmp} ({environment.engine}); migrate, collectstatic…")
        _manage(environment, "migrate", "--noinput")
        _manage(environment, "collectstatic", "--noinput", "--verbosity", "0")
        seed = _seed(environment, accounts)
        log(f"P1: {accounts} accounts seeded; starting gunicorn with {workers} workers")
        server, port = start_gunicorn(environment, workers, wsgi)
        log(f"P1: raw argon2 verify rate on {cores} cores for {raw_duration:.0f} s (before)…")
        raw_before = raw_verify_rate(seed["hash"], PASSWORD, cores, raw_duration)
        log(f"P1: HTTP logins with {clients} client threads: {warmup:.0f} s warm-up + {duration:.0f} s…")
        database = DatabaseBackends(environment)
        try:
            http = http_login_rate(port, seed["nirs"], clients, warmup, duration, server.pid, database)
        finally:
            database.close()
        log(f"P1: raw argon2 verify rate for {raw_duration:.0f} s (after)…")
        raw_after = raw_verify_rate(seed["hash"], PASSWORD, cores, raw_duration)
    finally:
        if server is not None:
            stop_process(server)
        cleanup_environment(environment)
    raw = (raw_before["rate"] + raw_after["rate"]) / 2
    ratio = http["rate"] / raw if raw else 0.0
    # The same comparison in CPU time, which other programs on the machine barely disturb: what one login costs in
    # total (web server + database server + the load generator sharing the machine) against one raw verify.
    argon2_cpu_ms = (raw_before["cpu_ms_per_verify"] + raw_after["cpu_ms_per_verify"]) / 2
    login_cpu_ms = (
        http["server_cpu_ms_per_login"] + http["database_cpu_ms_per_login"] + http["load_generator_cpu_ms_per_login"]
    )
    return {
        "name": "P1",
        "goal": GOAL,
        "login_rate": http["rate"],
        "raw_rate": raw,
        "raw_before": raw_before,
        "raw_after": raw_after,
        "ratio": ratio,
        "passed": ratio >= GOAL and http["failures"] == 0,
        "argon2_cpu_ms": argon2_cpu_ms,
        "login_cpu_ms": login_cpu_ms,
        "cpu_ratio": argon2_cpu_ms / login_cpu_ms if login_cpu_ms else float("nan"),
        "http": http,
        "cores": cores,
        "workers": workers,
        "clients": clients,
        "accounts": accounts,
        "duration": duration,
        "warmup": warmup,
        "raw_duration": raw_duration,
        "engine": environment.engine,
        "database": seed["database"],
        "django": seed["django"],
        "argon2": seed["argon2"],
        "session_engine": seed["session_engine"],
        "cache": seed["cache"],
        "elapsed_s": time.monotonic() - started,
    }


def markdown(result: dict) -> str:
    http, cpu = result["http"], result["http"]["cpu"]
    capacity = cpu["capacity_core_s"]
    before, after = result["raw_before"], result["raw_after"]
    verdict = "PASS" if result["passed"] else "BELOW GOAL"
    cores, argon2 = result["cores"], result["argon2"]
    lines = [
        "## P1 — HTTP login throughput vs raw argon2 verify rate",
        "",
        f"**{result['login_rate']:.1f} logins/s vs {result['raw_rate']:.1f} raw verifies/s = "
        f"{100 * result['ratio']:.1f} %** (goal ≥ {100 * result['goal']:.0f} %): **{verdict}**",
        "",
        "| Figure | Value |",
        "|---|---|",
        f"| Full HTTP logins/s (GET form + POST, 302 → {DASHBOARD_PATH}) | {result['login_rate']:.1f} |",
        f"| Raw argon2 verifies/s, {cores} processes, before / after | {before['rate']:.1f} / {after['rate']:.1f} |",
        f"| Raw rate used (mean) | {result['raw_rate']:.1f} |",
        f"| **Ratio** | **{100 * result['ratio']:.1f} %** |",
        f"| Logins counted / failed | {http['logins']} / {http['failures']} |",
        f"| GET latency p50 / p95 | {http['get_ms_p50']:.0f} / {http['get_ms_p95']:.0f} ms |",
        f"| POST latency p50 / p95 | {http['post_ms_p50']:.0f} / {http['post_ms_p95']:.0f} ms |",
        f"| Machine busy: raw before / HTTP / raw after | {before['machine_busy_pct']:.0f} / "
        f"{100 * cpu['machine_busy_core_s'] / capacity:.0f} / {after['machine_busy_pct']:.0f} % |",
        "",
        "CPU time per operation (robust to other load on the machine):",
        "",
        "| CPU per… | ms |",
        "|---|---|",
        f"| raw argon2 verify (before / after) | {before['cpu_ms_per_verify']:.1f} / "
        f"{after['cpu_ms_per_verify']:.1f} |",
        f"| login, gunicorn workers (includes its one argon2 verify) | {http['server_cpu_ms_per_login']:.1f} |",
        f"| login, database server processes | {_ms(http['database_cpu_ms_per_login'], result['engine'])} |",
        f"| login, load generator (this process, "
        f"{100 * cpu['load_generator_core_s'] / capacity:.1f} % of the machine) | "
        f"{http['load_generator_cpu_ms_per_login']:.1f} |",
        f"| login, everything above | {result['login_cpu_ms']:.1f} |",
        f"| other programs on the machine, per login | {http['other_cpu_ms_per_login']:.1f} |",
        "",
        f"CPU-time ratio (one argon2 verify ÷ one login's total CPU): **{100 * result['cpu_ratio']:.1f} %** — the "
        "throughput ratio a CPU-bound, otherwise idle machine would show.",
        "",
        f"Setup: {result['engine']} ({result['database']}), sessions `{result['session_engine']}`, cache "
        f"`{result['cache']}`; argon2id m={argon2['memory_cost_kib']} KiB, t={argon2['time_cost']}, "
        f"p={argon2['parallelism']}; gunicorn sync, {result['workers']} workers; {result['clients']} client "
        f"threads (http.client, one process, new cookie jar per login); {result['accounts']} accounts sharing one "
        f"argon2 hash; {result['warmup']:.0f} s warm-up + {result['duration']:.0f} s measured; raw rate "
        f"{result['raw_duration']:.0f} s before and after. Bench-only environment: LOGIN_FAILURE_LIMIT, "
        f"LOGIN_LIMIT_PER_IP and LOGIN_LIMIT_PER_IDENTIFIER = {HIGH_LIMIT} (every login succeeds anyway).",
    ]
    other_share = cpu["other_core_s"] / capacity if capacity else 0.0
    if other_share > 0.10:
        lines += [
            "",
            f"**Caution:** other programs took {100 * other_share:.0f} % of the machine during the HTTP window: they "
            "compete unevenly with the raw runs and the HTTP run, so the throughput ratio is unreliable; the CPU-time "
            "ratio is not affected much.",
        ]
    if http["errors"]:
        lines += ["", "First errors: " + "; ".join(f"`{error}`" for error in http["errors"])]
    return "\n".join(lines) + "\n"


def _ms(value: float, engine: str) -> str:
    return f"{value:.1f}" if engine == "postgresql" else "— (SQLite: in the workers)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--duration", type=float, default=20.0, help="measured HTTP window, seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="HTTP warm-up, seconds")
    parser.add_argument("--raw-duration", type=float, default=10.0, help="each raw run (before, after), seconds")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: cores)")
    parser.add_argument("--clients", type=int, default=None, help="client threads (default: twice the workers)")
    # A/B experiments: another settings module or WSGI application (e.g. one that undoes a change), importable from
    # --pythonpath. The report and `make bench` always use the product's.
    parser.add_argument("--settings", default="moncompte.settings", help="DJANGO_SETTINGS_MODULE for the server")
    parser.add_argument("--wsgi", default="moncompte.wsgi", help="WSGI module gunicorn serves")
    parser.add_argument("--pythonpath", default="", help="extra import path for --settings / --wsgi")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the markdown section here")
    parser.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seed-output", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed is not None:  # internal: runs inside the bench environment
        args.seed_output.write_text(json.dumps(seed_accounts(args.seed)))
        return 0
    result = measure(
        duration=args.duration,
        warmup=args.warmup,
        raw_duration=args.raw_duration,
        accounts=args.accounts,
        workers=args.workers,
        clients=args.clients,
        settings_module=args.settings,
        wsgi=args.wsgi,
        pythonpath=args.pythonpath,
        log=lambda message: print(message, file=sys.stderr, flush=True),
    )
    text = markdown(result)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
