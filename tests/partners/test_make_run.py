"""`make run` starts the partner simulator with the dataset of the demo data, points the app at it unless the
PARTNER_*_URL variables name real partners, and stops it on exit. Read from `make -n run` (runs nothing)."""

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def recipe(*variables: str, **environ: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL"} and not k.startswith("PARTNER")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", *variables],
        cwd=ROOT,
        env={**env, **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_the_dataset_is_written_after_the_demo_data_and_the_simulator_started_before_the_app():
    text = recipe()
    commands = [line.split("manage.py ", 1)[1].split()[0] for line in text.splitlines() if "manage.py " in line]
    assert commands.index("partners_dataset") == commands.index("generate_demo_data") + 1
    dataset = re.search(r"manage\.py partners_dataset (\S+)", text).group(1)
    assert dataset.endswith("/partners.json")
    simulator = text.index("scripts/partners/simulator.py")
    assert f"simulator.py {dataset} --port 9321 & simulator=$!" in text
    assert simulator < text.index("trap 'kill ${standin:-} ${simulator:-} 2>/dev/null' EXIT INT TERM")
    assert text.index("gunicorn moncompte.wsgi") > simulator
    for name, prefix in [("DGFIP", "dgfip"), ("FRANCE_TRAVAIL", "france-travail"), ("REGISTRY", "insee"),
                         ("CASE_SYSTEM", "caf")]:  # fmt: skip
        assert f"PARTNER_{name}_URL=${{PARTNER_{name}_URL:-$partners/{prefix}}}" in text  # unless already set
    assert "partners=http://127.0.0.1:9321;" in text  # loopback, whatever HOST says


def test_the_simulator_port_may_be_set():
    assert "--port 9400 & simulator=$!" in recipe("PARTNERS_PORT=9400")
