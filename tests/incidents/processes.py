"""Real processes for the incident tests: `manage.py` commands and gunicorn servers in fresh interpreters, on the
database the test shares with them (the `environment` fixture of tests/incidents/conftest.py)."""

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

from django.db import connection

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


def environment_for(tmp_path: Path) -> dict[str, str]:
    """The environment of processes sharing the test's database: on PostgreSQL the test database itself (the test
    must use transactional_db, so what it writes is committed); on SQLite a scratch file, migrated here. The suite's
    settings: static files read from their folders, no collectstatic needed."""
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


def status(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/connexion/", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


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
