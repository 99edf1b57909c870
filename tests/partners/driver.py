"""Driving the real partner simulator (scripts/partners/simulator.py) from tests: the process, and the `partners`
fixture's handle (tests/conftest.py) to change a partner's mode and push households."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
SIMULATOR = ROOT / "scripts" / "partners" / "simulator.py"
#: The names the tests may use for a partner: the simulator's prefixes, or the connectors' names.
PREFIXES = {
    "dgfip": "dgfip",
    "france-travail": "france-travail",
    "france_travail": "france-travail",
    "insee": "insee",
    "registry": "insee",
    "caf": "caf",
    "case_system": "caf",
}
SETTINGS = {
    "dgfip": "PARTNER_DGFIP",
    "france-travail": "PARTNER_FRANCE_TRAVAIL",
    "insee": "PARTNER_REGISTRY",
    "caf": "PARTNER_CASE_SYSTEM",
}


class SimulatorProcess:
    """The simulator in a process of its own, on a free port it picks (`--port 0`) and prints."""

    def __init__(self, dataset: Path, log: Path) -> None:
        self.log_path = log
        environ = {name: value for name, value in os.environ.items() if not name.startswith("PARTNERS_TOKEN_")}
        with log.open("w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, str(SIMULATOR), str(dataset), "--port", "0"],
                cwd=ROOT,
                env=environ,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        line = self.process.stdout.readline()
        assert line.startswith("ready "), f"the simulator did not start: {line!r} {log.read_text()}"
        self.url = line.split()[1]
        self._wait_until_healthy()

    def _wait_until_healthy(self, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if httpx.get(f"{self.url}/_health", timeout=1).json() == {"status": "ok"}:
                    return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=10)
        finally:
            self.process.stdout.close()


class Partners:
    """What a test does with the simulator: `mode("dgfip", "down")`, `push(records)`, `add_household(case)`."""

    def __init__(self, simulator: SimulatorProcess) -> None:
        """Resets the simulator: the dataset it started with, every partner "ok", counters and log from zero."""
        self.simulator = simulator
        self.url = simulator.url
        self.reset()
        self._log_start = simulator.log_path.stat().st_size

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.url}{path}", json=body, timeout=5)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._post("/_control/reset", {})

    def mode(self, partner: str, mode: str, *, delay: float = 1.0) -> None:
        """Set a partner's mode: "ok", "slow" (answers after `delay` seconds: past the tests' timeout), "fail"
        (500), "down" (the connection closes without an answer), "malformed" (an answer off the contract)."""
        self._post(f"/_control/{PREFIXES[partner]}", {"mode": mode, "delay": delay})

    def require_token(self, partner: str, token: str) -> None:
        self._post(f"/_control/{PREFIXES[partner]}", {"mode": "ok", "token": token})

    def push(self, records: dict[str, Any]) -> None:
        """Add or replace records: {"people": {nir: …}, "cases": {number: …}} (the shape of build_dataset)."""
        self._post("/_control/records", {"people": records.get("people", {}), "cases": records.get("cases", {})})

    def add_household(self, case, *, today: date | None = None) -> dict[str, Any]:
        """The records of this case and its members, built as the reference dataset builds them, pushed; returned
        so that a test knows what the partners will say."""
        from moncompte.households.models import Case
        from moncompte.identity.models import Person
        from moncompte.partners.dataset import build_dataset

        records = build_dataset(
            people_qs=Person.objects.filter(memberships__case=case),
            cases_qs=Case.objects.filter(pk=case.pk),
            today=today,
        )
        self.push(records)
        return records

    def requests(self) -> dict[str, int]:
        """How many questions each partner received since the test began (the simulator's counters)."""
        return httpx.get(f"{self.url}/_control/requests", timeout=5).json()

    def log(self) -> str:
        """What the simulator logged since the test began."""
        with self.simulator.log_path.open() as log:
            log.seek(self._log_start)
            return log.read()

    def configure(self, settings) -> None:
        for prefix, name in SETTINGS.items():
            setattr(settings, f"{name}_URL", f"{self.url}/{prefix}")
            setattr(settings, f"{name}_TOKEN", "")
