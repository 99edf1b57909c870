"""Issue 12, item 1, proved with real processes: two gunicorn servers share the database (and Redis when the suite
runs with REDIS_URL), `manage.py incident close` runs in a third process, and both servers answer the maintenance
page within 5 seconds; `incident reopen` brings both back within 5 seconds too.

On SQLite the servers share a scratch database file, migrated for the test; on PostgreSQL they use the test
database itself (transactional_db: what the test writes is committed, and flushed afterwards)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
REACH = 5.0  # seconds: what the issue asks of the switch


def status(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/connexion/", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def environment(tmp_path, transactional_db) -> dict[str, str]:
    # The suite's settings (static files read from their folders, no collectstatic needed), in fresh processes.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="moncompte.settings_test", VAR_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    database = connection.settings_dict
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/"
            f"{database['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        manage(env, "migrate", "--noinput", "--verbosity", "0")
    return env


def manage(env: dict[str, str], *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@contextlib.contextmanager
def server(env: dict[str, str]) -> Iterator[int]:
    port = free_port()
    log = Path(env["VAR_DIR"]) / f"gunicorn-{port}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "moncompte.wsgi", "-c", "python:moncompte.gunicorn_conf",
             "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if status(port) == 200:
                    break
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def every_server_answers(ports: list[int], wanted: int) -> float:
    """Seconds until every server answers `wanted`; fails after REACH seconds."""
    started = time.monotonic()
    waiting = set(ports)
    while waiting:
        waiting = {port for port in waiting if status(port) != wanted}
        elapsed = time.monotonic() - started
        assert elapsed < REACH or not waiting, (
            f"after {elapsed:.1f} s, ports {sorted(waiting)} still do not answer {wanted}"
        )
        time.sleep(0.1)
    return time.monotonic() - started


@pytest.mark.slow
def test_a_closure_decided_in_one_process_reaches_two_servers(environment):
    with server(environment) as first, server(environment) as second:
        assert (status(first), status(second)) == (200, 200)

        manage(environment, "incident", "close", "--reason", "Exercice : deux serveurs")
        every_server_answers([first, second], 503)

        manage(environment, "incident", "reopen")
        every_server_answers([first, second], 200)
