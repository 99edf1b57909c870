"""Run the benchmarks of issue 2 and write a markdown report.

    python bench/run.py --report bench-report.md [--only p1|p3] [--duration 20] [--cases 1000]

P1 (bench/login_rate.py): full HTTP login throughput through gunicorn against the raw argon2 verify rate, side by
side in one run. Goal ≥ 80 %.
P3 (bench/import_rate.py, run as a subprocess): the legacy import's hashing rate against the raw argon2 rate on all
cores. Goal ≥ 90 %.

SQLite in temporary directories by default. With DATABASE_URL set (PostgreSQL), each benchmark gets a scratch
database next to the one named there (created, then dropped): the database in DATABASE_URL is never written to.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import login_rate  # noqa: E402 (bench/ is put on the path just above)

IMPORT_SCRIPT = BENCH_DIR / "import_rate.py"
IMPORT_DATABASE = "moncompte_bench_import"
P3_GOAL = 0.90


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def django_version() -> str:
    try:
        import django
    except ImportError:
        return "not installed"
    return django.get_version()


def argon2_parameters() -> dict:
    """What moncompte.settings will read (same variables, same defaults)."""
    return {
        "memory_cost_kib": int(os.environ.get("ARGON2_MEMORY_COST", 19 * 1024)),
        "time_cost": int(os.environ.get("ARGON2_TIME_COST", 2)),
        "parallelism": int(os.environ.get("ARGON2_PARALLELISM", 1)),
    }


def database_label() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return "SQLite (a new file in a temporary directory per benchmark)"
    parts = urllib.parse.urlsplit(url)
    return (
        f"PostgreSQL at {parts.hostname}:{parts.port or 5432} (scratch databases `{login_rate.BENCH_DATABASE}` and "
        f"`{IMPORT_DATABASE}`, dropped afterwards; `{parts.path.lstrip('/')}` untouched)"
    )


# --- P1 --------------------------------------------------------------------------------------------------------------


def run_p1(args) -> dict:
    try:
        return login_rate.measure(duration=args.duration, warmup=args.warmup, raw_duration=args.raw_duration, log=log)
    except SystemExit as error:  # setup failures are reported, not fatal to the other benchmark
        return {"name": "P1", "error": str(error)}


# --- P3 --------------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_postgres_database(name: str):
    """A fresh PostgreSQL database next to DATABASE_URL's, dropped afterwards; yields its URL (None on SQLite)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        yield None
        return
    from psycopg import sql

    conninfo = login_rate._postgres_conninfo(url)
    identifier = sql.Identifier(name)
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier)
    login_rate._postgres_admin(conninfo, [drop, sql.SQL("CREATE DATABASE {}").format(identifier)])
    try:
        yield urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=f"/{name}"))
    finally:
        with contextlib.suppress(Exception):
            login_rate._postgres_admin(conninfo, [drop])


def run_p3(args) -> dict:
    if not IMPORT_SCRIPT.exists():
        return {"name": "P3", "error": f"{IMPORT_SCRIPT.relative_to(ROOT)} is missing: P3 was not measured."}
    log(f"P3: import of {args.cases} generated cases against the raw argon2 rate…")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="moncompte.settings", PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory(prefix="moncompte-bench-p3-") as tmp:
        section = Path(tmp) / "p3.md"
        with scratch_postgres_database(IMPORT_DATABASE) as url:
            if url:
                env["DATABASE_URL"] = url
            else:
                env.pop("DATABASE_URL", None)
            started = time.monotonic()
            try:
                completed = subprocess.run(
                    [sys.executable, str(IMPORT_SCRIPT), "--cases", str(args.cases), "--markdown", str(section)],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=args.p3_timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                return {"name": "P3", "error": f"bench/import_rate.py did not finish within {args.p3_timeout} s."}
        if completed.returncode:
            return {
                "name": "P3",
                "error": f"bench/import_rate.py failed (exit {completed.returncode}):\n\n```\n"
                f"{(completed.stderr or completed.stdout)[-3000:]}\n```",
            }
        result = _first_json_object(completed.stdout)
        if result is None:
            return {"name": "P3", "error": "bench/import_rate.py printed no JSON result."}
        result.update(
            name="P3",
            goal=P3_GOAL,
            passed=result.get("ratio", 0) >= P3_GOAL,
            section=section.read_text(encoding="utf-8") if section.exists() else "",
            elapsed_s=time.monotonic() - started,
        )
        return result


def _first_json_object(text: str) -> dict | None:
    start = text.find("{")
    if start < 0:
        return None
    try:
        value, _end = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


# --- Report ----------------------------------------------------------------------------------------------------------


def _verdict(result: dict) -> str:
    if "error" in result:
        return "NOT MEASURED"
    return "PASS" if result["passed"] else "BELOW GOAL"


def report(results: list[dict], started: datetime, elapsed: float, load: tuple) -> str:
    cores = os.cpu_count() or 1
    argon2 = argon2_parameters()
    lines = [
        f"# Mon Compte — benchmark report ({started:%Y-%m-%d %H:%M})",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| Cores (`os.cpu_count()`) | {cores} |",
        f"| CPU | {cpu_model()} |",
        f"| Python | {platform.python_version()} ({platform.python_implementation()}) |",
        f"| Django | {django_version()} |",
        f"| argon2 | argon2id, memory {argon2['memory_cost_kib']} KiB, time cost {argon2['time_cost']}, "
        f"parallelism {argon2['parallelism']} |",
        f"| Database | {database_label()} |",
        f"| Load average (1 min) before / after the run (includes the bench) | {load[0]:.2f} / {load[1]:.2f} |",
        f"| Total run time | {elapsed:.0f} s |",
        "",
        "## Summary",
        "",
        "| Figure | Measured | Raw argon2 rate | Ratio | Goal | Verdict |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        if result["name"] == "P1":
            label = "P1 HTTP logins through gunicorn"
            measured = f"{result['login_rate']:.1f} logins/s" if "error" not in result else "—"
            goal = "≥ 80 %"
        else:
            label = "P3 legacy import hashing"
            measured = f"{result['import_rate']:.1f} cases/s" if "error" not in result else "—"
            goal = "≥ 90 %"
        if "error" in result:
            lines.append(f"| {label} | — | — | — | {goal} | {_verdict(result)} |")
            continue
        raw = f"{result['raw_rate']:.1f}/s on {result['cores']} cores"
        lines.append(
            f"| {label} | {measured} | {raw} | **{100 * result['ratio']:.1f} %** | {goal} | **{_verdict(result)}** |"
        )
    cpu_notes = [
        f"{result['name']} {100 * result['cpu_ratio']:.1f} %"
        for result in results
        if "error" not in result and result.get("cpu_ratio")
    ]
    if cpu_notes:
        lines += [
            "",
            "Same comparisons in CPU time (what an otherwise idle machine would show): " + ", ".join(cpu_notes) + ".",
        ]
    if load[0] > 0.5 * cores:
        lines += [
            "",
            f"Note: the machine was not idle when the run started (load average {load[0]:.1f} on {cores} cores); "
            "throughput figures and their ratios move with other load, the CPU-time figures much less.",
        ]
    for result in results:
        lines.append("")
        if "error" in result:
            lines += [f"## {result['name']} — not measured", "", result["error"]]
        elif result["name"] == "P1":
            lines.append(login_rate.markdown(result).rstrip())
        else:
            lines += [
                "## P3 — legacy import hashing rate vs raw argon2 rate on all cores",
                "",
                f"**{result['import_rate']:.1f} cases/s vs {result['raw_rate']:.1f} raw hashes/s = "
                f"{100 * result['ratio']:.1f} %** (goal ≥ {100 * P3_GOAL:.0f} %): **{_verdict(result)}** "
                f"({result.get('cases', '?')} cases; section below written by `bench/import_rate.py`).",
                "",
                ("\n" + result["section"]).replace("\n## ", "\n### ").strip(),
            ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--report", type=Path, default=Path("bench-report.md"))
    parser.add_argument("--only", choices=["p1", "p3"], default=None)
    parser.add_argument("--duration", type=float, default=20.0, help="P1 measured HTTP window, seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="P1 HTTP warm-up, seconds")
    parser.add_argument("--raw-duration", type=float, default=10.0, help="P1 raw runs (before, after), seconds")
    parser.add_argument("--cases", type=int, default=1000, help="P3 generated cases")
    parser.add_argument("--p3-timeout", type=int, default=900, help="P3 time limit, seconds")
    args = parser.parse_args(argv)

    started, clock, load_before = datetime.now(), time.monotonic(), os.getloadavg()[0]
    results = []
    if args.only in (None, "p1"):
        results.append(run_p1(args))
    if args.only in (None, "p3"):
        results.append(run_p3(args))
    text = report(results, started, time.monotonic() - clock, (load_before, os.getloadavg()[0]))
    args.report.write_text(text, encoding="utf-8")
    for result in results:
        if "error" in result:
            log(f"{result['name']}: NOT MEASURED — {result['error'].splitlines()[0]}")
        else:
            log(f"{result['name']}: {100 * result['ratio']:.1f} % of the raw rate — {_verdict(result)}")
    log(f"Report written to {args.report}")
    return 1 if any("error" in result for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
