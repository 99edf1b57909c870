"""`manage.py incident_drill` (what `make drill` runs, on a scratch database): the incident of 10 October 2021
replayed on generated data, each step of the security team's night timed (incidents.drill)."""

from __future__ import annotations

import logging
import time

from django.core.management.base import BaseCommand, CommandError

from moncompte.identity.models import Person
from moncompte.incidents import drill, services
from moncompte.journal.context import acting
from moncompte.journal.models import Channel


class Command(BaseCommand):
    help = "Rejoue l'incident du 10 octobre 2021 sur des données générées, dans une base vide, étape par étape."

    def add_arguments(self, parser):
        scale = drill.Scale()
        parser.add_argument("--households", type=int, default=scale.households, help="foyers générés")
        parser.add_argument("--actors", type=int, default=scale.actors, help="allocataires qui agissent la nuit")
        parser.add_argument(
            "--foreign-looks", type=int, default=scale.foreign_looks, help="dossiers montrés à d'autres"
        )
        parser.add_argument("--rate", type=float, default=1000.0, help="avis par seconde (la nuit de l'exercice)")

    def handle(self, *args, households, actors, foreign_looks, rate, **options):
        if min(households, actors, foreign_looks) < 1 or actors > households or rate <= 0:
            raise CommandError(
                "Donnez des nombres positifs, et au plus autant d'allocataires qui agissent que de foyers."
            )
        if Person.objects.exists():
            raise CommandError("La répétition s'écrit dans une base vide : `make drill` en crée une pour elle.")
        say = self.stdout.write
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # one line per notice sent, otherwise
        with acting(channel=Channel.COMMAND):
            say("Données de l'exercice :")
            began = time.perf_counter()
            sizes = drill.generate(drill.Scale(households, actors, foreign_looks), say=say)
            say(
                f"  {sizes['people']} personnes, {sizes['journal_entries']} entrées du journal, {sizes['looks']} "
                f"consultations, en {time.perf_counter() - began:.1f} s"
            )
            say("La nuit de l'équipe sécurité :")
            timings = drill.run(say=say, rate=rate, report=self.report)
        for label, seconds, result in timings.steps:
            say(f"  {seconds:8.2f} s  {label} — {result}")
        say(f"  {sum(s for _, s, _ in timings.steps):8.2f} s  au total")

    def report(self, incident) -> str:
        sizes = [len(services.report_make(incident, fmt=fmt, actor=drill.ACTOR)) for fmt in services.REPORT_FORMATS]
        return ", ".join(f"{fmt} {size} octets" for fmt, size in zip(services.REPORT_FORMATS, sizes, strict=True))
