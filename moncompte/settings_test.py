"""Test settings: the real code paths, with cheap argon2 parameters so the suite stays quick.

The real parameters are exercised by their own tests (tests/accounts/test_hashers.py) and by `make bench`.
"""

import os

os.environ.setdefault("DEBUG", "false")
# Production settings require SITE_URL; the tests (and the fresh interpreters some of them start) read this one.
os.environ.setdefault("SITE_URL", "http://localhost")

from moncompte.settings import *  # noqa: F403

ARGON2_MEMORY_COST = 64
ARGON2_TIME_COST = 1
ARGON2_PARALLELISM = 1
CELERY_TASK_ALWAYS_EAGER = os.environ.get("TEST_CELERY_EAGER", "true") == "true"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
HTTPS = False
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
LANGUAGE_CODE = "fr"
# The test client speaks to http://localhost: links in messages are expected there, whatever the shell's SITE_URL.
SITE_URL = "http://localhost"
# The embedded default is the database cache (shared by gunicorn workers, tests/test_cache_shared.py); the suite
# keeps a per-process cache, quicker, and clearable by tests that use no database.
if not REDIS_URL:  # noqa: F405
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "moncompte"}}

# Under pytest-xdist each worker gets its own Redis database, so clearing the cache in one never disturbs another.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
if REDIS_URL:  # noqa: F405
    _db = 10 + int(_worker.removeprefix("gw") or 0) % 6
    CACHES["default"]["LOCATION"] = REDIS_URL.rsplit("/", 1)[0] + f"/{_db}"  # noqa: F405
    CELERY_BROKER_URL = CACHES["default"]["LOCATION"]
