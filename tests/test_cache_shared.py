"""The embedded default shares the cache-held counters across processes (issue 7, item 9): without REDIS_URL the
cache is Django's database cache, so two gunicorn workers count failed logins per NIR, per address, birth-date
tries and codes to typed contacts together (a per-process LocMem cache let the ceiling grow with WORKERS).

The suite itself keeps LocMem for speed (moncompte/settings_test.py); these tests read the production settings in
fresh interpreters, each with a scratch VAR_DIR (its own SQLite file)."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LEFT_OUT = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "SITE_URL"}


@pytest.fixture
def embedded(tmp_path):
    """The environment of an embedded deployment: production settings, no REDIS_URL, SQLite in a scratch VAR_DIR."""
    env = {k: v for k, v in os.environ.items() if k not in LEFT_OUT}
    env.update(
        DJANGO_SETTINGS_MODULE="moncompte.settings",
        VAR_DIR=str(tmp_path),
        SECRET_KEY=secrets.token_urlsafe(50),
        SITE_URL="https://moncompte.example",
        PYTHONPATH=str(ROOT),
    )
    return env


def python(env: dict, script: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


@pytest.mark.slow
def test_the_embedded_default_cache_is_the_database(embedded):
    caches = json.loads(
        python(embedded, "from django.conf import settings; import json; print(json.dumps(settings.CACHES))")
    )
    assert caches["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert caches["default"]["LOCATION"] == "cache_table"
    # A flood of new keys (one per NIR tried) must not cull the counters: the default of 300 entries would.
    assert caches["default"]["OPTIONS"]["MAX_ENTRIES"] >= 100_000


@pytest.mark.slow
def test_with_redis_url_the_cache_is_redis(embedded):
    embedded["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    backend = python(embedded, "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])")
    assert backend == "django_redis.cache.RedisCache"


@pytest.mark.slow
def test_two_processes_count_on_one_counter(embedded):
    subprocess.run([sys.executable, "manage.py", "createcachetable"], cwd=ROOT, env=embedded, check=True, timeout=120)
    count = (
        "from django.core.cache import cache\n"
        "for _ in range(3):\n"
        "    cache.add('shared-counter:test', 0, 3600)\n"
        "    cache.incr('shared-counter:test')\n"
        "print(cache.get('shared-counter:test'))\n"
    )

    first = python(embedded, count)
    second = python(embedded, count)

    assert (first, second) == ("3", "6")  # the second process sees, and adds to, the first one's count
