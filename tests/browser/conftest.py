"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Every test of this folder is marked `browser` and put in one xdist group, so that `make test` (-n 2 --dist loadgroup)
runs a single Chromium at a time on a small machine. Every page records its console and runs basic accessibility
checks once loaded; a Content Security Policy violation, an uncaught script error or an accessibility problem fails
the test.
"""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

# Playwright's sync API runs an event loop in the test thread; Django must still allow ORM calls from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest
from django.conf import settings
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.axe import VIEWPORTS, Axe, AxeScan
from tests.browser.helpers import A11Y_CHECKS
from tests.helpers import free_port

try:  # pytest >= 9: the structured node id behind item.nodeid
    from _pytest.nodeid import NodeId
except ImportError:  # pragma: no cover
    NodeId = None

HERE = Path(__file__).resolve().parent
FRANCECONNECT_PROVIDER = Path(settings.BASE_DIR) / "scripts" / "franceconnect" / "provider.mjs"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000
BROWSER_GROUP = "browser"
CSP_VIOLATION = re.compile(r"Content[ -]Security[ -]Policy|Refused to (load|execute|apply|connect|frame)", re.I)

expect.set_options(timeout=TIMEOUT_MS)


# --- Collection -------------------------------------------------------------------------------------------------


def _is_browser_test(item) -> bool:
    return HERE in Path(item.path).resolve().parents


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Mark the browser tests before any other plugin looks at the items (`-m` selection, xdist's groups), then make
    sure xdist's `--dist loadgroup` keeps them on one worker.

    xdist groups tests by an "@group" suffix it writes to `item._nodeid`; pytest 9 builds `item.nodeid` from
    `item._id` instead, so the suffix is lost and the group ignored (two Chromiums at once on a 2-core machine).
    Once every plugin has run, write the suffix where pytest 9 reads it, unless xdist already managed to."""
    for item in items:
        if _is_browser_test(item):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group(BROWSER_GROUP))
    result = yield
    if config.getoption("loadgroup", default=False) and NodeId is not None:
        for item in items:
            if _is_browser_test(item) and not item.nodeid.endswith(f"@{BROWSER_GROUP}") and hasattr(item, "_id"):
                item._id = NodeId.parse(f"{item.nodeid}@{BROWSER_GROUP}")
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_test_failed = report.failed
    return report


def pytest_runtest_setup(item):
    if HERE in Path(item.path).resolve().parents and not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (`make test` does it)", pytrace=False)


# --- Playwright configuration ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """The live server's address; pages are opened with paths (`page.goto("/connexion/")`)."""
    return live_server.url


@pytest.fixture(autouse=True)
def _links_to_the_live_server(request, settings):
    """Links in messages are built from SITE_URL (never from the request's Host): here, the live server's address,
    so that a test can follow a link from an e-mail in the outbox."""
    if _is_browser_test(request.node):
        settings.SITE_URL = request.getfixturevalue("live_server").url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, base_url):
    return {**browser_context_args, "base_url": base_url, "locale": "fr-FR", "timezone_id": "Europe/Paris"}


# Every page runs the accessibility checks (`helpers.A11Y_CHECKS`) once loaded; problems go to the console as
# "a11y: …" errors and fail the test.
A11Y_INIT_SCRIPT = f"""
if (location.protocol.startsWith("http")) {{
  window.addEventListener("load", () => {{
    const problems = ({A11Y_CHECKS})();
    if (problems.length) console.error("a11y: " + location.pathname + ": " + problems.join(" | "));
  }});
}}
"""


class ConsoleLog:
    """What a page wrote to its console, and the scripts errors it raised."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def attach(self, page: Page) -> Page:
        page.set_default_timeout(TIMEOUT_MS)
        page.add_init_script(A11Y_INIT_SCRIPT)
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        return page

    @property
    def csp_violations(self) -> list[str]:
        return [text for text in self.errors if CSP_VIOLATION.search(text)]

    @property
    def a11y_problems(self) -> list[str]:
        return [text for text in self.errors if text.startswith("a11y:")]

    @property
    def script_errors(self) -> list[str]:
        return [text for text in self.errors if text.startswith("uncaught:")]


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def open_page(new_context, console, request) -> Iterator[Callable[[], Page]]:
    """Open a page in a fresh browser context (another device: no cookies), with its console recorded."""
    pages: list[Page] = []

    def _open(context: BrowserContext | None = None) -> Page:
        page = console.attach((context or new_context()).new_page())
        pages.append(page)
        return page

    yield _open
    if getattr(request.node, "browser_test_failed", False):
        folder = Path(settings.VAR_DIR) / "browser-failures"
        folder.mkdir(parents=True, exist_ok=True)
        for index, page in enumerate(pages):
            if not page.is_closed():
                name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
                page.screenshot(path=str(folder / f"{name}-{index}.png"), full_page=True)
    assert not console.csp_violations, f"Content Security Policy violations: {console.csp_violations}"
    assert not console.script_errors, f"Script errors: {console.script_errors}"
    assert not console.a11y_problems, "Accessibility problems:\n" + "\n".join(console.a11y_problems)


@pytest.fixture
def page(open_page) -> Page:
    return open_page()


@pytest.fixture
def axe_scan(open_page, new_context) -> Callable[[str, bool], AxeScan]:
    """`axe_scan("mobile", False)`: a browser of its own, at a phone width, without JavaScript, for axe-core."""

    def _open(viewport: str, javascript: bool) -> AxeScan:
        # bypass_csp: the policy (rightly) refuses the injected axe-core; the other tests check the policy itself.
        context = new_context(viewport=VIEWPORTS[viewport], java_script_enabled=javascript, bypass_csp=True)
        mode = f"{viewport}, {'with' if javascript else 'without'} JavaScript"
        return AxeScan(open_page(context), mode, javascript)

    return _open


@pytest.fixture
def axe() -> Axe:
    """axe-core on the pages of a journey, under the site's Content Security Policy (tests.browser.axe.Axe)."""
    return Axe()


@pytest.fixture
def franceconnect(live_server, settings, tmp_path):
    """`franceconnect(identities)` starts an independent OpenID provider configured like FranceConnect v2: the npm
    package `oidc-provider` (panva) run by scripts/franceconnect/provider.mjs on loopback, with these identities
    ({login: {"label", claims…}}), and points the site at it (its Content Security Policy too).
    `franceconnect(identities, rotate=True)` restarts it at the same address with a new signing key (the old one
    stays published), as a provider rotating its keys."""
    processes: list[subprocess.Popen] = []
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    settings.FRANCECONNECT_ISSUER = issuer
    settings.FRANCECONNECT_CLIENT_ID = "moncompte-e2e"
    settings.FRANCECONNECT_CLIENT_SECRET = secrets.token_urlsafe(32)
    csp = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    csp["DIRECTIVES"]["form-action"] = [*csp["DIRECTIVES"]["form-action"], issuer]
    settings.CONTENT_SECURITY_POLICY = csp

    def stop(process: subprocess.Popen) -> None:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()

    def start(identities: dict[str, dict], *, rotate: bool = False) -> str:
        while processes:
            stop(processes.pop())
        config = tmp_path / "provider.json"
        config.write_text(
            json.dumps(
                {
                    "port": port,
                    "issuer": issuer,
                    "keys": str(tmp_path / "keys.json"),
                    "rotate": rotate,
                    "client": {
                        "client_id": settings.FRANCECONNECT_CLIENT_ID,
                        "client_secret": settings.FRANCECONNECT_CLIENT_SECRET,
                        "redirect_uris": [f"{live_server.url}/franceconnect/retour/"],
                        "post_logout_redirect_uris": [f"{live_server.url}/franceconnect/deconnexion/"],
                    },
                    "identities": identities,
                }
            )
        )
        process = subprocess.Popen(
            ["node", str(FRANCECONNECT_PROVIDER), str(config)],
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        processes.append(process)
        line = process.stdout.readline()
        assert line.startswith("ready"), f"the provider did not start: {line!r}"
        return issuer

    yield start
    for process in processes:
        stop(process)
