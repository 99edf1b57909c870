"""Throughput of the legacy import against the raw argon2 rate, with the REAL hashing parameters.

    python bench/import_rate.py --cases 2000 [--workers N] [--batch-size 500] [--rounds 3] [--markdown FILE]

Runs on a throwaway SQLite database in a temporary directory (VAR_DIR is pointed there before Django starts), unless
DATABASE_URL is set (then that database is migrated and written to: use a scratch one). Settings default to
`moncompte.settings`, so the argon2 parameters are the production ones (ARGON2_* variables, OWASP minimum by default).

It measures, in one run and on the same machine:
(a) raw rate: the PINs of the generated file hashed with `hash_case_pin` by a pool of one process per core, and
    nothing else (half of them before the import and half after, so that a drift in the machine's speed weighs
    on both figures alike);
(b) import rate: the whole `import_legacy_file` of that file (reading, validation, hashing, writing, journal,
    checkpoints), as PIN hashes per second = cases / elapsed.
The import is bound by argon2, so the goal is import_rate >= 90 % of the raw rate on all cores. CPU seconds per
case of both are printed too: unlike wall time, they hardly move when other programs share the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GOAL = 0.90


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers, once the pool is shut down)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _raw_hash(pins: list[str], workers: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) to hash `pins` on `workers` processes, and do nothing else."""
    from moncompte.households.services import hash_case_pin

    cpu, started = _cpu_seconds(), time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(hash_case_pin, pins, chunksize=8):
            pass
    return time.perf_counter() - started, _cpu_seconds() - cpu


def _single_core_rate(pins: list[str]) -> float:
    from moncompte.households.services import hash_case_pin

    started = time.perf_counter()
    for pin in pins:
        hash_case_pin(pin)
    return len(pins) / (time.perf_counter() - started)


def _one_round(*, cases: int, workers: int, batch_size: int | None, seed: int) -> dict:
    from django.conf import settings

    from moncompte.legacy.demo import build_demo_cases, write_demo_csv
    from moncompte.legacy.services import import_legacy_file

    demo = build_demo_cases(seed=seed, count=cases)
    path = write_demo_csv(demo, Path(settings.VAR_DIR) / f"bench-import-{seed}.csv")
    pins = [case.pin for case in demo]
    half = len(pins) // 2

    raw_wall_before, raw_cpu_before = _raw_hash(pins[:half], workers)
    cpu, started = _cpu_seconds(), time.perf_counter()
    report = import_legacy_file(path, workers=workers, batch_size=batch_size)
    import_wall, import_cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    if report.errors or report.cases_imported != len(pins):
        raise SystemExit(f"the generated file was not imported in full: {report.errors[:1]}")
    raw_wall_after, raw_cpu_after = _raw_hash(pins[half:], workers)

    raw_rate = len(pins) / (raw_wall_before + raw_wall_after)
    import_rate = len(pins) / import_wall
    return {
        "seed": seed,
        "people": sum(len(case.members) for case in demo),
        "batch_size": report.run.batch_size,
        "raw_rate": round(raw_rate, 2),
        "raw_rate_before": round(half / raw_wall_before, 2),
        "raw_rate_after": round((len(pins) - half) / raw_wall_after, 2),
        "import_rate": round(import_rate, 2),
        "import_seconds": round(import_wall, 2),
        "ratio": round(import_rate / raw_rate, 4),
        # CPU seconds per case: what the import spends besides argon2, whatever else runs on the machine
        "raw_cpu_ms_per_case": round(1000 * (raw_cpu_before + raw_cpu_after) / len(pins), 2),
        "import_cpu_ms_per_case": round(1000 * import_cpu / len(pins), 2),
    }


def run(*, cases: int, workers: int | None, batch_size: int | None, seed: int, rounds: int = 1) -> dict:
    """Measure `rounds` times (a new file each time) and report the round with the median ratio."""
    from django.conf import settings

    from moncompte.legacy.demo import build_demo_cases

    cores = os.cpu_count() or 1
    workers = workers or cores
    single_core = _single_core_rate([case.pin for case in build_demo_cases(seed=seed, count=30)])
    results = [
        _one_round(cases=cases, workers=workers, batch_size=batch_size, seed=seed + index) for index in range(rounds)
    ]
    median = sorted(results, key=lambda result: result["ratio"])[len(results) // 2]
    return {
        "cases": cases,
        "cores": cores,
        "workers": workers,
        "argon2": {
            "memory_kib": settings.ARGON2_MEMORY_COST,
            "time_cost": settings.ARGON2_TIME_COST,
            "parallelism": settings.ARGON2_PARALLELISM,
        },
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "single_core_rate": round(single_core, 2),
        **median,
        "cpu_ratio": round(median["raw_cpu_ms_per_case"] / median["import_cpu_ms_per_case"], 4),
        "ratios": [result["ratio"] for result in results],
    }


def markdown(result: dict) -> str:
    argon2 = result["argon2"]
    verdict = "atteint" if result["ratio"] >= GOAL else "NON atteint"
    return "\n".join(
        [
            f"## Import de l'export historique : débit ({datetime.now():%Y-%m-%d %H:%M})",
            "",
            f"Machine : {platform.machine()}, {result['cores']} cœurs ; Python {platform.python_version()} ; "
            f"base {result['database']} ; argon2id {argon2['memory_kib']} Kio, t={argon2['time_cost']}, "
            f"p={argon2['parallelism']}.",
            f"Fichier : {result['cases']} dossiers, {result['people']} personnes ; {result['workers']} processus de "
            f"hachage, lots de {result['batch_size']} dossiers.",
            "",
            "| mesure | valeur |",
            "|---|---|",
            f"| argon2 brut, 1 cœur | {result['single_core_rate']:.1f} empreintes/s |",
            f"| argon2 brut, tous les cœurs (a) | {result['raw_rate']:.1f} empreintes/s |",
            f"| import complet (b) | {result['import_rate']:.1f} dossiers/s ({result['import_seconds']:.1f} s) |",
            f"| (b) / (a) | {100 * result['ratio']:.1f} % (objectif ≥ {100 * GOAL:.0f} % : {verdict}) |",
            f"| CPU par dossier : argon2 seul / import complet | {result['raw_cpu_ms_per_case']:.1f} ms / "
            f"{result['import_cpu_ms_per_case']:.1f} ms ({100 * result['cpu_ratio']:.1f} %) |",
            f"| rapports (b)/(a) mesurés | {', '.join(f'{100 * ratio:.1f} %' for ratio in result['ratios'])} |",
            f"| charge de la machine (1, 5, 15 min) | {', '.join(str(v) for v in result['load_average'])} |",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--rounds", type=int, default=1, help="measure N times, report the median round")
    parser.add_argument("--markdown", type=Path, default=None, help="append a section to this report")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="moncompte-bench-") as var_dir:
        os.environ["VAR_DIR"] = var_dir
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moncompte.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        result = run(
            cases=args.cases, workers=args.workers, batch_size=args.batch_size, seed=args.seed, rounds=args.rounds
        )

    print(json.dumps(result, indent=2))
    print(
        f"import {result['import_rate']:.1f} dossiers/s = {100 * result['ratio']:.1f} % du débit argon2 brut "
        f"sur {result['cores']} cœurs ({result['raw_rate']:.1f} empreintes/s)"
    )
    if args.markdown:
        with args.markdown.open("a", encoding="utf-8") as report:
            report.write(markdown(result) + "\n")
    return result


if __name__ == "__main__":
    main()
