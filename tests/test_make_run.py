"""`make run` serves this machine only by default (issue 7, item 7): with DEBUG on, the outbox page shows every code
sent and the debug pages show the settings, so the bind is HOST (127.0.0.1 unless set), and so is the printed URL.
Read from `make -n run` (prints the commands, runs none of them)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKEFILE = ROOT / "Makefile"
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 (what the bind must not be)


def dry_run(*variables: str) -> list[str]:
    assert shutil.which("make"), "GNU make is needed"
    env = {k: v for k, v in os.environ.items() if k not in {"HOST", "PORT", "MAKEFLAGS", "MAKELEVEL"}}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", *variables],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.splitlines()


def gunicorn_line(lines: list[str]) -> str:
    (line,) = [line for line in lines if "gunicorn moncompte.wsgi" in line]
    return line


def test_make_run_binds_the_loopback_by_default():
    lines = dry_run()

    command = gunicorn_line(lines)
    assert re.search(r"--bind 127\.0\.0\.1:8000(\s|$)", command), command
    assert EVERY_INTERFACE not in "\n".join(lines)
    (banner,) = [line for line in lines if "Mon Compte:" in line]
    assert "http://127.0.0.1:8000/" in banner and "http://127.0.0.1:8000/dev/boite-d-envoi/" in banner


def test_host_and_port_may_be_set():
    lines = dry_run(f"HOST={EVERY_INTERFACE}", "PORT=9001")

    assert f"--bind {EVERY_INTERFACE}:9001" in gunicorn_line(lines)
    assert any(f"http://{EVERY_INTERFACE}:9001/" in line for line in lines if "Mon Compte:" in line)


def test_make_run_uses_the_gunicorn_configuration_that_masks_tokens():
    assert "-c python:moncompte.gunicorn_conf" in gunicorn_line(dry_run())


@pytest.mark.parametrize("target", ["run", "demo-data"])
def test_the_cache_table_is_created_after_migrate(target):
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL"}}
    lines = subprocess.run(
        ["make", "--no-print-directory", "-n", target], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    commands = [line.split("manage.py ", 1)[1].split()[0] for line in lines if "manage.py " in line]
    assert commands.index("createcachetable") == commands.index("migrate") + 1, commands


def test_the_links_of_make_run_are_on_its_own_address():
    """SITE_URL follows HOST and PORT under make (targets that run the app without DEBUG need one)."""
    text = MAKEFILE.read_text()
    for target in ("run", "demo-data", "worker", "bench"):
        assert f"{target}: export SITE_URL ?= http://$(HOST):$(PORT)\n" in text, target
    assert re.search(r"^HOST \?= 127\.0\.0\.1$", text, re.M)
