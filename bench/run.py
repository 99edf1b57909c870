"""Run the benchmarks of issues 2 and 12 and write a markdown report.

    python bench/run.py --report bench-report.md [--only p1|p3|p4|p5] [--duration 20] [--cases 1000] [--p4-pages 2000]
        [--p5-households 100000] [--p5-journal-rows 10000000] [--p5-small-journal-rows 1000000]

P1 (bench/login_rate.py): full HTTP login throughput through gunicorn against the raw argon2 verify rate, side by
side in one run. Goal ≥ 80 %.
P3 (bench/import_rate.py, run as a subprocess): the legacy import's hashing rate against the raw argon2 rate on all
cores. Goal ≥ 90 %.
P4 (bench/incident_rates.py): what recording "who saw what" costs a household page, with and without
ReadRecordingMiddleware, for repeated pages in one session and for a new session per page. Reported, no goal.
P5 (bench/incident_rates.py, PostgreSQL only): cancelling the actions of an incident window (100,000 actions) in a
journal of 10 million rows, and the same window in a journal of 1 million. Goal ≤ 60 s. Skipped without
DATABASE_URL.

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

import incident_rates  # noqa: E402 (bench/ is put on the path just above)
import login_rate  # noqa: E402

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
    scratch = ", ".join(
        f"`{name}`"
        for name in (
            login_rate.BENCH_DATABASE,
            IMPORT_DATABASE,
            incident_rates.P4_DATABASE,
            incident_rates.P5_DATABASE,
            incident_rates.P5_BIG_DATABASE,
        )
    )
    return (
        f"PostgreSQL at {parts.hostname}:{parts.port or 5432} (scratch databases {scratch}, each dropped afterwards; "
        f"`{parts.path.lstrip('/')}` untouched)"
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


# --- P4, P5 ----------------------------------------------------------------------------------------------------------


def run_p4(args) -> dict:
    return incident_rates.measure_p4(pages=args.p4_pages, warmup=args.p4_warmup, blocks=args.p4_blocks, log=log)


def run_p5(args) -> dict:
    if not os.environ.get("DATABASE_URL"):
        log("P5: skipped (needs PostgreSQL: DATABASE_URL is not set).")
        return {"name": "P5", "skipped": incident_rates.SKIPPED}
    return incident_rates.measure_p5(
        households=args.p5_households,
        journal_rows=args.p5_journal_rows,
        small_journal_rows=args.p5_small_journal_rows,
        foreign_looks=args.p5_foreign_looks,
        log=log,
    )


# --- Report ----------------------------------------------------------------------------------------------------------

FIGURES = ("P1", "P3", "P4", "P5")


def _verdict(result: dict) -> str:
    if "error" in result:
        return "NOT MEASURED"
    if "skipped" in result:
        return "SKIPPED"
    if result.get("passed") is None:
        return "MEASURED"
    return "PASS" if result["passed"] else "BELOW GOAL"


def _summary_rows(result: dict) -> list[str]:
    """The result's rows of the summary table: figure, measured, reference, ratio or difference, goal, verdict."""
    name, verdict = result["name"], _verdict(result)
    if name in ("P1", "P3"):
        label, goal = (
            ("P1 HTTP logins through gunicorn", "≥ 80 %") if name == "P1" else ("P3 legacy import hashing", "≥ 90 %")
        )
        if "error" in result:
            return [f"| {label} | — | — | — | {goal} | {verdict} |"]
        measured = f"{result['login_rate']:.1f} logins/s" if name == "P1" else f"{result['import_rate']:.1f} cases/s"
        raw = f"raw argon2 {result['raw_rate']:.1f}/s on {result['cores']} cores"
        return [f"| {label} | {measured} | {raw} | **{100 * result['ratio']:.1f} %** | {goal} | **{verdict}** |"]
    if name == "P4":
        if "error" in result:
            return [f"| P4 recording who saw what, per page | — | — | — | reported | {verdict} |"]
        rows = []
        for case, label in (("repeated", "repeated pages, one session"), ("new_session", "new session per page")):
            f = result[case]
            rows.append(
                f"| P4 household page, {label} | {f['with']['ms']:.2f} ms/page, {f['with']['rows']} rows written | "
                f"{f['without']['ms']:.2f} ms/page without ReadRecordingMiddleware | **{f['diff_ms']:+.2f} ms** "
                f"(CPU {f['diff_cpu_ms']:+.2f} ms; in `reads.write` {f['with']['write_ms']:.3f} ms) | reported | "
                f"{verdict} |"
            )
        return rows
    label = "P5 cancelling an incident window (PostgreSQL)"
    if "error" in result or "skipped" in result:
        return [f"| {label} | — | — | — | ≤ 60 s | {verdict} |"]
    runs = result["runs"]
    big = runs[-1]
    measured = (
        f"{big['cancel_s']:.1f} s (CPU {sum(big['cancel_cpu']):.0f} s), {big['figures']['undone']:,} actions "
        f"undone, {big['pad']['journal_rows']:,} journal rows"
    )
    if len(runs) > 1:
        small = runs[0]
        reference = (
            f"{small['cancel_s']:.1f} s (CPU {sum(small['cancel_cpu']):.0f} s) with "
            f"{small['pad']['journal_rows']:,} journal rows"
        )
        ratio = (
            f"{big['cancel_s'] / small['cancel_s']:.2f} times (CPU "
            f"{sum(big['cancel_cpu']) / sum(small['cancel_cpu']):.2f} times)"
        )
    else:
        reference = ratio = "—"
    return [f"| {label} | {measured} | {reference} | {ratio} | ≤ 60 s | **{verdict}** |"]


def _section(result: dict) -> list[str]:
    if "error" in result:
        return [f"## {result['name']} — not measured", "", result["error"]]
    if "skipped" in result:
        return [f"## {result['name']} — skipped", "", result["skipped"]]
    if result["name"] == "P1":
        return [login_rate.markdown(result).rstrip()]
    if result["name"] == "P3":
        return [
            "## P3 — legacy import hashing rate vs raw argon2 rate on all cores",
            "",
            f"**{result['import_rate']:.1f} cases/s vs {result['raw_rate']:.1f} raw hashes/s = "
            f"{100 * result['ratio']:.1f} %** (goal ≥ {100 * P3_GOAL:.0f} %): **{_verdict(result)}** "
            f"({result.get('cases', '?')} cases; section below written by `bench/import_rate.py`).",
            "",
            ("\n" + result["section"]).replace("\n## ", "\n### ").strip(),
        ]
    return [result["section"].rstrip()]


def headline(result: dict) -> str:
    """One line for the console."""
    name, verdict = result["name"], _verdict(result)
    if "error" in result:
        return f"{name}: NOT MEASURED — {result['error'].splitlines()[0]}"
    if "skipped" in result:
        return f"{name}: SKIPPED — needs PostgreSQL (DATABASE_URL)"
    if name in ("P1", "P3"):
        return f"{name}: {100 * result['ratio']:.1f} % of the raw rate — {verdict}"
    if name == "P4":
        repeated, fresh = result["repeated"], result["new_session"]
        return (
            f"P4: {repeated['diff_ms']:+.2f} ms per page for repeated pages, {fresh['diff_ms']:+.2f} ms for a new "
            f"session per page ({fresh['with']['rows']} rows written) — {verdict}"
        )
    big = result["runs"][-1]
    return (
        f"P5: {big['cancel_s']:.1f} s to cancel {big['figures']['undone']:,} actions in a journal of "
        f"{big['pad']['journal_rows']:,} rows — {verdict}"
    )


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
        "| Figure | Measured | Reference | Ratio / difference | Goal | Verdict |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        lines += _summary_rows(result)
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
        lines += _section(result)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--report", type=Path, default=Path("bench-report.md"))
    parser.add_argument("--only", choices=[name.lower() for name in FIGURES], default=None)
    parser.add_argument("--duration", type=float, default=20.0, help="P1 measured HTTP window, seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="P1 HTTP warm-up, seconds")
    parser.add_argument("--raw-duration", type=float, default=10.0, help="P1 raw runs (before, after), seconds")
    parser.add_argument("--cases", type=int, default=1000, help="P3 generated cases")
    parser.add_argument("--p3-timeout", type=int, default=900, help="P3 time limit, seconds")
    parser.add_argument("--p4-pages", type=int, default=2000, help="P4 measured pages per case and variant")
    parser.add_argument("--p4-warmup", type=int, default=100, help="P4 warm-up pages per case and variant")
    parser.add_argument("--p4-blocks", type=int, default=40, help="P4 blocks per variant, alternating A/B")
    parser.add_argument("--p5-households", type=int, default=100_000, help="P5 households, all acting in the window")
    parser.add_argument("--p5-foreign-looks", type=int, default=1_000, help="P5 other households' cases shown")
    parser.add_argument("--p5-journal-rows", type=int, default=10_000_000, help="P5 rows in the large journal")
    parser.add_argument(
        "--p5-small-journal-rows", type=int, default=1_000_000, help="P5 rows in the small journal (0: none)"
    )
    args = parser.parse_args(argv)

    started, clock, load_before = datetime.now(), time.monotonic(), os.getloadavg()[0]
    runners = {"P1": run_p1, "P3": run_p3, "P4": run_p4, "P5": run_p5}
    results = [runners[name](args) for name in FIGURES if args.only in (None, name.lower())]
    text = report(results, started, time.monotonic() - clock, (load_before, os.getloadavg()[0]))
    args.report.write_text(text, encoding="utf-8")
    for result in results:
        log(headline(result))
    log(f"Report written to {args.report}")
    return 1 if any("error" in result for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
