"""No NIR, code, PIN, password or link token in logs (DESIGN §7): `moncompte.logging.redact`, its logging filter, and
gunicorn's access and error logs (moncompte/gunicorn_conf.py)."""

import datetime
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from moncompte.gunicorn_conf import RedactingLogger
from moncompte.logging import MASK, RedactSecretsFilter, redact

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "nir",
    [
        "1840575123456",  # 13 characters
        "184057512345678",  # 15, with the key
        "1 84 05 75 123 456",
        "1 84 05 75 123 456 78",
        "1.84.05.75.123.456.78",
        "2 84 05 2A 123 456 78",  # born in Corsica
        "184052b123456",
        "7 84 05 99 123 456",  # an NIA (waiting number)
    ],
)
def test_nirs_are_masked_in_every_usual_shape(nir):
    assert redact(f"connexion refusée pour {nir} depuis le web") == "connexion refusée pour [NIR masqué] depuis le web"


@pytest.mark.parametrize("secret", ["483920", "000042", "1234567", "12345678"])
def test_codes_and_pins_of_six_to_eight_digits_are_masked(secret):
    assert redact(f"code {secret} envoyé") == "code [masqué] envoyé"


@pytest.mark.parametrize("harmless", ["75001 Paris", "id 12345", "2024-05-01 12:34:56", "+33612345678", "HTTP 500"])
def test_ordinary_numbers_are_left_alone(harmless):
    assert redact(harmless) == harmless


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=Tr0mbone-Vert&next=/", "password=[masqué]&next=/"),
        ("POST password=Tr0mbone-Vert remember=on", "POST password=[masqué] remember=on"),
        ("mot_de_passe: Vi0lon-Rouge", "mot_de_passe: [masqué]"),
        ('{"password": "Deux mots, Vi0lon!"}', '{"password": "[masqué]"}'),
        ("{'new_password': 'Tr0mbone-Vert'}", "{'new_password': '[masqué]'}"),
        ("<QueryDict: {'password1': ['Tr0mbone-Vert']}>", "<QueryDict: {'password1': ['[masqué]']}>"),
        ("pin=1234", "pin=[masqué]"),
        ("secret=abc token=xyz", "secret=[masqué] token=[masqué]"),
    ],
)
def test_password_pairs_are_masked_whole(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "password=Tr0mbone-Vert code 483920 NIR 1840575123456",
        "<QueryDict: {'password1': ['Tr0mbone-Vert']}>",
        '{"password": "Deux mots"}',
    ],
)
def test_redacting_twice_changes_nothing_more(text):
    assert redact(redact(text)) == redact(text)


def test_everything_at_once():
    text = "login NIR 1 84 05 2A 123 456 78 password=Tr0mbone-Vert code 483920"
    assert redact(text) == "login NIR [NIR masqué] password=[masqué] code [masqué]"


@pytest.fixture
def redacted_logger(caplog):
    logger = logging.getLogger("tests.redacted")
    redact_filter = RedactSecretsFilter()
    logger.addFilter(redact_filter)
    caplog.set_level(logging.INFO, logger="tests.redacted")
    yield logger
    logger.removeFilter(redact_filter)


def test_the_filter_rewrites_the_log_record(redacted_logger, caplog):
    redacted_logger.info("code %s sent for %s, password=%s", "483920", "1840575123456", "Tr0mbone-Vert")
    (record,) = caplog.records
    assert record.getMessage() == "code [masqué] sent for [NIR masqué], password=[masqué]"
    assert record.args is None
    assert "483920" not in caplog.text and "1840575123456" not in caplog.text and "Tr0mbone" not in caplog.text


def test_the_filter_leaves_a_clean_record_untouched(redacted_logger, caplog):
    redacted_logger.info("outbox message %s sent", 12)
    (record,) = caplog.records
    assert (record.msg, record.args) == ("outbox message %s sent", (12,))


def test_the_filter_masks_the_traceback_too(redacted_logger, caplog):
    try:
        raise ValueError("NIR invalide : 1840575123456")
    except ValueError:
        redacted_logger.exception("import refusé")
    assert "1840575123456" not in caplog.text
    assert "ValueError: NIR invalide : [NIR masqué]" in caplog.text


def test_the_configured_console_handler_uses_the_filter():
    assert settings.LOGGING["filters"]["redact"]["()"] == "moncompte.logging.RedactSecretsFilter"
    assert "redact" in settings.LOGGING["handlers"]["console"]["filters"]


# --- Bearer tokens of links (issue 7, item 6) ------------------------------------------------------------------------

INVITATION_TOKEN = "Zq3vX9-kLm_2pR8sT4uW6yA1bC5dE7fG0hJ2kL4mN6o"
NOT_ME_TOKEN = "eyJhIjoxLCJlIjoyfQ:1tXyZa:Q2hhbmdlZC1ieS1zb21lb25lLWVsc2U"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GET /invitation/{INVITATION_TOKEN}/ HTTP/1.1", "GET /invitation/[masqué]/ HTTP/1.1"),
        (f"Not Found: /ce-n-etait-pas-moi/{NOT_ME_TOKEN}/", "Not Found: /ce-n-etait-pas-moi/[masqué]/"),
        (
            f"https://moncompte.example/invitation/{INVITATION_TOKEN}/?x=1",
            "https://moncompte.example/invitation/[masqué]/?x=1",
        ),
        (f'"/invitation/{INVITATION_TOKEN}"', '"/invitation/[masqué]"'),
        # The placeholder the pages redirect to once the token is in the session is no secret.
        ("GET /invitation/confirmer/ HTTP/1.1", "GET /invitation/confirmer/ HTTP/1.1"),
        ("POST /ce-n-etait-pas-moi/confirmer/", "POST /ce-n-etait-pas-moi/confirmer/"),
        ("GET /mon-foyer/ HTTP/1.1", "GET /mon-foyer/ HTTP/1.1"),
    ],
)
def test_the_token_of_a_link_is_masked_in_its_path(text, expected):
    assert redact(text) == expected
    assert redact(redact(text)) == expected


def token_routes(resolver=None, prefix=""):
    """Every URL pattern of the project that takes a `token`, as (name, route)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            namespace = f"{pattern.namespace}:" if pattern.namespace else ""
            yield from ((namespace + name, r) for name, r in token_routes(pattern, route))
        elif isinstance(pattern, URLPattern) and "token" in pattern.pattern.converters:
            yield pattern.name, route


def test_every_route_with_a_token_is_masked():
    routes = dict(token_routes())
    assert {"signup:invitation", "profile:not_me"} <= set(routes)
    for name in routes:
        path = reverse(name, kwargs={"token": INVITATION_TOKEN})
        assert INVITATION_TOKEN not in redact(f"GET {path} HTTP/1.1"), f"{name} ({path}): add it to TOKEN_ROUTES"


def test_the_filter_masks_a_token_in_a_django_request_log(redacted_logger, caplog):
    redacted_logger.warning("Not Found: %s", f"/invitation/{INVITATION_TOKEN}/")
    assert INVITATION_TOKEN not in caplog.text
    assert "Not Found: /invitation/[masqué]/" in caplog.text


class _Config:
    """What gunicorn's Logger reads of its configuration to format one access-log line."""

    access_log_format = '%(h)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-suivi}i)s %(L)s'


def test_the_gunicorn_logger_masks_the_request_line_path_query_and_headers():
    logger = RedactingLogger.__new__(RedactingLogger)
    logger.cfg = _Config()
    response = type("Response", (), {"status": "404 Not Found", "sent": 1234567, "headers": []})()
    request = type("Request", (), {"headers": [("X-SUIVI", f"/invitation/{INVITATION_TOKEN}/")]})()
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/invitation/{INVITATION_TOKEN}/?token=abc&pin=12345678",
        "PATH_INFO": f"/invitation/{INVITATION_TOKEN}/",
        "QUERY_STRING": "token=abc&pin=12345678",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://moncompte.example/ce-n-etait-pas-moi/{NOT_ME_TOKEN}/",
        "HTTP_USER_AGENT": "Mozilla/5.0",
    }
    atoms = logger.atoms(response, request, environ, datetime.timedelta(microseconds=123456))

    assert atoms["r"] == f"GET /invitation/{MASK}/?token={MASK}&pin={MASK} HTTP/1.1"
    assert atoms["U"] == f"/invitation/{MASK}/" and atoms["q"] == f"token={MASK}&pin={MASK}"
    assert atoms["f"] == f"https://moncompte.example/ce-n-etait-pas-moi/{MASK}/"
    assert atoms["{x-suivi}i"] == f"/invitation/{MASK}/"
    assert atoms["{raw_uri}e"] == f"/invitation/{MASK}/?token={MASK}&pin={MASK}"
    # Sizes and timings are not secrets: a 6-digit size or a microsecond count stays as it is.
    assert atoms["b"] == "1234567" and atoms["L"] == "0.123456"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"gunicorn did not listen on 127.0.0.1:{port} within {timeout} s")


def get(url: str) -> int:
    request = urllib.request.Request(url, headers={"Referer": f"http://127.0.0.1/invitation/{INVITATION_TOKEN}/"})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.slow
def test_gunicorn_started_as_make_run_does_writes_no_token_to_its_logs(tmp_path):
    """A real gunicorn on the loopback, configured as `make run` configures it (-c python:moncompte.gunicorn_conf,
    access log on stdout, DEBUG on): both links are requested with their tokens, and no log line holds one (neither
    gunicorn's access log nor Django's "Not Found" warnings, which Django's own DEBUG console would print unmasked)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="moncompte.settings_test",
        DEBUG="true",
        VAR_DIR=str(tmp_path),
        SECRET_KEY=secrets.token_urlsafe(50),
        PYTHONPATH=str(ROOT),
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "moncompte.wsgi", "-c", "python:moncompte.gunicorn_conf",
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "-", "--graceful-timeout", "2",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_listening(port, process)
        base = f"http://127.0.0.1:{port}"
        statuses = [
            get(f"{base}/invitation/{INVITATION_TOKEN}/?token={INVITATION_TOKEN}"),
            get(f"{base}/ce-n-etait-pas-moi/{NOT_ME_TOKEN}/"),
        ]
    finally:
        process.terminate()
        try:
            stdout, stderr = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate(timeout=5)
    assert statuses == [404, 400], (statuses, stderr[-2000:])
    assert re.search(r'"GET /invitation/\[masqué\]/\?token=\[masqué\] HTTP/1\.1" 404', stdout), stdout
    assert '"GET /ce-n-etait-pas-moi/[masqué]/ HTTP/1.1" 400' in stdout, stdout
    assert "Not Found: /invitation/[masqué]/" in stderr, stderr[-2000:]
    for log in (stdout, stderr):
        assert INVITATION_TOKEN not in log and NOT_ME_TOKEN not in log
        assert NOT_ME_TOKEN.split(":")[0] not in log


def test_django_s_own_handlers_are_replaced_by_the_redacting_console():
    """Django's default logging (a console for DEBUG, mail_admins, runserver's access log) would print records
    without the filter: the settings configure those loggers so that only the redacting console writes them."""
    assert settings.LOGGING["loggers"]["django"] == {"level": "INFO"}  # no handler of its own: it propagates to root
    assert settings.LOGGING["loggers"]["django.server"]["handlers"] == ["console"]
    for name in ("django", "django.request", "django.server", "django.security.csrf"):
        logger, handlers = logging.getLogger(name), []
        while logger:
            handlers += logger.handlers
            logger = logger.parent if logger.propagate else None
        assert handlers and all(
            any(isinstance(f, RedactSecretsFilter) for f in h.filters) for h in handlers if not _is_pytest(h)
        ), (name, handlers)


def _is_pytest(handler: logging.Handler) -> bool:
    return type(handler).__module__.startswith("_pytest")
