"""Issue 12, item 5, with a real kill: `manage.py incident cancel` is killed (SIGKILL) in the middle of its work, then
run again; it finishes, and every action of the window is undone exactly once. The database is shared with the test
like in test_two_processes (a scratch SQLite file, or the PostgreSQL test database)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest

from tests.incidents.processes import ROOT, manage

ACTORS = 3_000
#: The command's progress line, « 500 / 6000 entrées du journal examinées ».
PROGRESS = re.compile(r"\s+\d+ / \d+ entrées du journal examinées")
SCENE = f"""
from django.utils import timezone
from moncompte.incidents import drill, services
drill.generate(drill.Scale(households={ACTORS}, actors={ACTORS}, foreign_looks=10, history=1), say=lambda _: None)
start = timezone.make_aware(drill.START)
incident = services.incident_open(title="Exercice", description="Exercice", detected_at=start, window_start=start,
                                  window_end=start + timezone.timedelta(hours=drill.HOURS), actor="test")
print(incident.pk)
"""


def count(env, **lookups) -> int:
    """Journal entries matching `lookups`, counted by another process."""
    script = f"from moncompte.journal.models import Entry; print(Entry.objects.filter(**{lookups!r}).count())"
    return int(manage(env, "shell", "-c", script).strip().splitlines()[-1])


def undone(env) -> int:
    return count(env, kind="delegation.granted", undone_at__isnull=False)


@pytest.mark.slow
def test_a_killed_cancellation_finishes_when_run_again_and_undoes_each_action_once(environment):
    incident = manage(environment, "shell", "-c", SCENE).strip().splitlines()[-1]
    # Killed as soon as it says its first batch is done (each batch commits, then the progress line is printed):
    # watching the journal from another process would see the first batch too late, the rest being quick.
    process = subprocess.Popen(
        [sys.executable, "manage.py", "incident", "cancel", incident],
        cwd=ROOT, env={**environment, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    for line in process.stdout:
        if PROGRESS.match(line):
            break
    else:
        pytest.fail("the cancellation ended before printing its progress")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    killed_at = undone(environment)
    assert 0 < killed_at < ACTORS, "killed too late: nothing was left to resume"

    output = manage(environment, "incident", "cancel", incident)

    assert "Actions annulées : " in output
    assert f"Déjà annulées avant : {killed_at}" in output
    assert undone(environment) == ACTORS
    assert count(environment, kind="delegation.granted.undone") == ACTORS  # each undone once, none twice
