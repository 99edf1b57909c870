"""Issue 12, item 9: `make drill` replays the night of 10 October 2021 on generated data, through the same services
as the security team's commands, and prints the time of each step (here at a small scale)."""

import re

import pytest
from django.core.management import CommandError, call_command

from moncompte.households.models import Delegation
from moncompte.incidents.models import Closure, Notice, Step
from moncompte.journal.models import Entry
from tests.factories import PersonFactory


@pytest.mark.django_db
def test_the_drill_plays_every_step_and_times_it(capsys):
    call_command("incident_drill", households=60, actors=12, foreign_looks=10, rate=10_000)

    out = capsys.readouterr().out
    for step in (
        "Fermer tous les canaux",
        "Compter les personnes concernées",
        "Annulation à blanc",
        "Annuler les actions de la période",
        "Prévenir chaque personne",
        "Rouvrir tous les canaux",
    ):
        assert re.search(rf"\d+\.\d\d s  {step} — ", out), step
    assert "12 actions annulées" in out
    # What the drill did is real: every delegation of the evening ended, each concerned person told once.
    assert not Delegation.objects.filter(revoked_at__isnull=True).exists()
    assert Entry.objects.filter(kind="delegation.granted.undone").count() == 12
    assert Notice.objects.count() == Step.objects.get(kind=Step.Kind.NOTIFIED).figures["notified"] > 12
    assert Closure.objects.get().reopened_at is not None


@pytest.mark.django_db
def test_the_drill_refuses_a_database_with_people_in_it():
    PersonFactory()
    with pytest.raises(CommandError, match="base vide"):
        call_command("incident_drill", households=10, actors=2, foreign_looks=2)


@pytest.mark.django_db
def test_the_drill_refuses_more_actors_than_households():
    with pytest.raises(CommandError, match="au plus autant"):
        call_command("incident_drill", households=10, actors=20, foreign_looks=2)
