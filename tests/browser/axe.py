"""axe-core in the browser tests: the script from package.json, the run, and the two ways the tests use it.

- `AxeScan` (fixture `axe_scan`): a browser of its own at one viewport, with JavaScript on or off, that walks pages and
  runs axe-core on each; the Content Security Policy is bypassed in that browser only, so the script can be injected.
- `Axe` (fixture `axe`): axe-core on the page of a journey, evaluated through the DevTools protocol so the site's
  Content Security Policy stays on for the rest of the journey.

A violation of impact "serious" or "critical" fails the test; the lesser ones are printed (pytest -s) for the
accessibility statement's list."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

AXE_SCRIPT = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "mobile": {"width": 375, "height": 812}}
MODES = [(viewport, javascript) for viewport in VIEWPORTS for javascript in (True, False)]
MODE_IDS = [f"{viewport}-{'js' if javascript else 'nojs'}" for viewport, javascript in MODES]
AXE_RUN = """() => axe.run(document, {resultTypes: ["violations"]}).then((results) => results.violations.map((v) => ({
  id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((node) => node.target.join(" ")),
})))"""
# Without JavaScript the page runs no script and no timer fires, but Playwright may still evaluate code in it: axe-core
# is evaluated directly, and its timers (it yields between checks) become microtasks.
NO_TIMERS = """() => {
  window.setTimeout = (callback, _delay, ...args) => { Promise.resolve().then(() => callback(...args)); return 0; };
  window.clearTimeout = () => {};
}"""


def axe_source() -> str:
    """axe-core from the project's package.json (devDependencies), installed by `make install` (`npm ci`)."""
    if not AXE_SCRIPT.exists():
        pytest.fail("axe-core is missing: run `make install` (npm ci installs it)", pytrace=False)
    return _read(AXE_SCRIPT)


@functools.cache
def _read(script: Path) -> str:
    return script.read_text()


def _violations(page: Page, label: str, blocking: list[str], advisory: set[str]) -> None:
    for violation in page.evaluate(AXE_RUN):
        line = f"{label} ({urlsplit(page.url).path}): {violation['id']} [{violation['impact']}] {violation['help']}"
        if violation["impact"] in BLOCKING:
            blocking.append(f"{line} — {violation['targets']}")
        else:
            advisory.add(line)


@dataclass
class AxeScan:
    """One browser (a viewport, JavaScript on or off) walking pages; `check` runs axe-core on the current page."""

    page: Page
    mode: str
    javascript: bool
    blocking: list[str] = dc_field(default_factory=list)
    advisory: set[str] = dc_field(default_factory=set)

    def check(self, label: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        if self.javascript:
            expect(page.locator("html")).to_have_attribute("data-fr-js", "true")  # DSFR's script has run
            page.add_script_tag(content=axe_source())
        else:
            expect(page.locator("html")).not_to_have_attribute("data-fr-js", "true")
            page.evaluate(NO_TIMERS)
            page.evaluate(axe_source())
        _violations(page, label, self.blocking, self.advisory)

    def goto(self, url: str, label: str, status: int = 200) -> None:
        response = self.page.goto(url)
        assert response.status == status, f"{url}: {response.status}"
        self.check(label)

    def assert_clean(self) -> None:
        if self.advisory:
            print(f"\naxe-core, {self.mode}, below serious:\n" + "\n".join(sorted(self.advisory)))
        assert not self.blocking, f"axe-core, {self.mode}:\n" + "\n".join(self.blocking)


class Axe:
    """axe-core on the current page of a journey; the serious and critical violations are collected, then asserted at
    the end of the test (`assert_clean`)."""

    def __init__(self) -> None:
        self.source = axe_source()
        self.blocking: list[str] = []
        self.advisory: set[str] = set()
        self.checked: list[str] = []

    def __call__(self, page: Page, label: str) -> None:
        page.wait_for_load_state("load")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.evaluate(self.source)
        _violations(page, label, self.blocking, self.advisory)
        self.checked.append(label)

    def assert_clean(self) -> None:
        assert not self.blocking, "axe-core:\n" + "\n".join(self.blocking)
