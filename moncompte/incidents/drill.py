"""`make drill`: the incident of 10 October 2021 replayed on generated data (issue 12, item 9).

`generate` writes a large synthetic dataset with bulk inserts (no real person: names are « Exercice 000123 »): a
number of households (holder with an account, partner), months of journal before the evening, and, between 21:00 and
08:00, the incident: some holders sign in and grant the delegation (real Delegation rows, undoable), and some
sessions are shown other households' cases. Most holders chose their password weeks before: they are left out.
`run` then plays the security team's night, through the same services as `manage.py incident`: open the incident,
close every channel, count, dry run, cancel, notify, report, reopen, and returns the time of each step."""

from __future__ import annotations

import contextlib
import datetime
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from moncompte.accounts.models import Account
from moncompte.households.models import Case, Delegation, DelegationOrigin, Membership, Role
from moncompte.identity.models import Person
from moncompte.incidents import services
from moncompte.incidents.models import Incident
from moncompte.journal.models import Channel, Entry, Read

#: The evening of the seed, in the service's time zone.
START = datetime.datetime(2021, 10, 10, 21, 0)
HOURS = 11  # until Monday 08:00, when the site was closed
ACTOR = "exercice (make drill)"
BATCH = 2_000


@dataclass
class Scale:
    households: int = 20_000
    actors: int = 3_000  # holders who act during the window (not excluded)
    foreign_looks: int = 1_500  # other households' cases shown during the window
    history: int = 3  # journal entries per holder before the evening
    seed: int = 20211010


@dataclass
class Timings:
    steps: list[tuple[str, float, str]] = field(default_factory=list)

    def time(self, label: str, work: Callable[[], str]) -> str:
        began = time.perf_counter()
        result = work()
        self.steps.append((label, time.perf_counter() - began, result))
        return result


@contextlib.contextmanager
def _dated(model) -> Iterator[None]:
    """Let bulk inserts keep the `created_at` they were given (the journal stamps now, the drill replays 2021)."""
    created_at = model._meta.get_field("created_at")
    created_at.auto_now_add = False
    try:
        yield
    finally:
        created_at.auto_now_add = True


def _nir(index: int, sex: int) -> str:
    return f"{sex}{84 + index % 15:02d}{1 + index % 12:02d}99{index // 1000:03d}{index % 1000:03d}"


def generate(scale: Scale, *, say: Callable[[str], None]) -> dict[str, int]:
    """Write the dataset; returns its sizes. The database must be empty of people (a scratch database)."""
    rng = random.Random(scale.seed)
    start = timezone.make_aware(START)
    end = start + datetime.timedelta(hours=HOURS)
    password = make_password("Exercice-Incident-2021")  # one hash for everyone: the drill is not about hashing
    n = scale.households
    say(f"  {n} foyers…")
    with transaction.atomic():
        cases = Case.objects.bulk_create(
            [Case(case_number=f"{9_000_000 + i:07d}", address="1 rue de l'Exercice\n75000 Paris") for i in range(n)],
            batch_size=BATCH,
        )
        holders = Person.objects.bulk_create(
            [
                Person(nir=_nir(i, 1 + i % 2), birth_name=f"Exercice {i:06d}", given_names="Titulaire",
                       birth_date=datetime.date(1984, 5, 1), sex="M" if i % 2 == 0 else "F")
                for i in range(n)
            ],
            batch_size=BATCH,
        )  # fmt: skip
        partners = Person.objects.bulk_create(
            [
                Person(nir=_nir(n + i, 2 - i % 2), birth_name=f"Exercice {i:06d}", given_names="Conjoint",
                       birth_date=datetime.date(1985, 6, 1), sex="F" if i % 2 == 0 else "M")
                for i in range(n)
            ],
            batch_size=BATCH,
        )  # fmt: skip
        Membership.objects.bulk_create(
            [
                Membership(case=case, person=holder, role=Role.HOLDER)
                for case, holder in zip(cases, holders, strict=True)
            ]
            + [Membership(case=c, person=p, role=Role.PARTNER) for c, p in zip(cases, partners, strict=True)],
            batch_size=BATCH,
        )
        verified = start - datetime.timedelta(days=60)
        accounts = Account.objects.bulk_create(
            [
                Account(login_id=holder.nir, person=holder, password=password, email=f"exercice{i:06d}@exemple.fr",
                        email_verified_at=verified, onboarded_at=verified)
                for i, holder in enumerate(holders)
            ],
            batch_size=BATCH,
        )  # fmt: skip

    actors = set(rng.sample(range(n), min(scale.actors, n)))
    say(f"  journal avant la soirée ({n * scale.history} entrées)…")
    with transaction.atomic():
        history = []
        for i, (account, holder) in enumerate(zip(accounts, holders, strict=True)):
            if i not in actors:  # chose the password weeks before: left out
                at = start - datetime.timedelta(days=rng.randint(20, 50), minutes=rng.randint(0, 1440))
                history.append(_entry("password.created", account, holder, at))
            for _ in range(scale.history - (i not in actors)):
                at = start - datetime.timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 1440))
                history.append(_entry("login.succeeded", account, holder, at))
        with _dated(Entry):
            Entry.objects.bulk_create(history, batch_size=BATCH)

    say(f"  la soirée : {len(actors)} allocataires agissent, {scale.foreign_looks} dossiers montrés à d'autres…")
    window_seconds = HOURS * 3600
    with transaction.atomic():
        delegations = Delegation.objects.bulk_create(
            [
                Delegation(case=cases[i], partner=partners[i], origin=DelegationOrigin.HOLDER, granted_by=holders[i])
                for i in sorted(actors)
            ],
            batch_size=BATCH,
        )
        evening, looks = [], []
        for delegation, i in zip(delegations, sorted(actors), strict=True):
            at = start + datetime.timedelta(seconds=rng.randint(0, window_seconds - 120))
            evening.append(_entry("login.succeeded", accounts[i], holders[i], at))
            evening.append(
                _entry(
                    "delegation.granted", accounts[i], holders[i], at + datetime.timedelta(seconds=60),
                    case_number=cases[i].case_number,
                    after={"delegation": delegation.pk, "partner": partners[i].pk, "holder": holders[i].pk,
                           "origin": DelegationOrigin.HOLDER, "revoked_at": None},
                )
            )  # fmt: skip
            looks.append(_look(accounts[i], cases[i], at))
        viewers = sorted(actors)
        for _ in range(scale.foreign_looks):
            viewer = rng.choice(viewers)
            shown = rng.randrange(n)
            at = start + datetime.timedelta(seconds=rng.randint(0, window_seconds - 1))
            looks.append(_look(accounts[viewer], cases[shown], at, session=f"{viewer:08d}{shown:08d}"))
        with _dated(Entry):
            Entry.objects.bulk_create(evening, batch_size=BATCH)
        Read.objects.bulk_create(looks, batch_size=BATCH, ignore_conflicts=True)
    return {
        "households": n,
        "people": 2 * n,
        "journal_entries": Entry.objects.count(),
        "looks": Read.objects.count(),
        "window_end": int(end.timestamp()),
    }


def _entry(kind, account, person, at, *, case_number="", after=None) -> Entry:
    return Entry(
        kind=kind, created_at=at, actor_account_id=account.pk, person_id=person.pk, case_number=case_number,
        channel=Channel.WEB, session_ref=f"{account.pk:016d}", after=after or {},
    )  # fmt: skip


def _look(account, case, at, *, session: str | None = None) -> Read:
    return Read(
        at=at, hour=at.replace(minute=0, second=0, microsecond=0), viewer_account_id=account.pk,
        case_number=case.case_number, channel=Channel.WEB, session_ref=session or f"{account.pk:016d}",
    )  # fmt: skip


def run(*, say: Callable[[str], None], rate: float, report: Callable[[Incident], str] | None = None) -> Timings:
    """The night of the security team, step by step, timed."""
    timings = Timings()
    start = timezone.make_aware(START)
    end = start + datetime.timedelta(hours=HOURS)
    incident = services.incident_open(
        title="Exercice : accès croisés aux dossiers",
        description="Des personnes connectées ont pu voir le dossier d'autres allocataires (exercice).",
        detected_at=end - datetime.timedelta(minutes=30),
        window_start=start,
        window_end=end,
        categories=["identity", "household", "payments"],
        actor=ACTOR,
    )
    incident = services.incident_update(
        incident, actor=ACTOR, public_summary="Des personnes connectées ont pu voir le dossier d'autres allocataires."
    )

    def close() -> str:
        services.service_close(reason="Exercice : accès croisés", actor=ACTOR, incident=incident)
        return "tous les canaux fermés"

    def count() -> str:
        counts = services.affected_count(incident, actor=ACTOR)
        return ", ".join(f"{label.lower()} : {counts[key]}" for key, label in services.AFFECTED_LABELS.items())

    def cancel(dry_run: bool) -> Callable[[], str]:
        def work() -> str:
            figures = services.window_cancel(incident, dry_run=dry_run, actor=ACTOR)
            verb = "à annuler" if dry_run else "annulées"
            return (
                f"{figures['scanned']} entrées examinées, {figures['undone']} actions {verb}, "
                f"{figures['to_worklist']} + {figures['messages']} pour les agents, {figures['events']} événements"
            )

        return work

    def notify() -> str:
        figures = services.people_notify(incident, actor=ACTOR, rate=rate)
        return f"{figures['notified']} personnes prévenues, {figures['messages']} messages"

    def reopen() -> str:
        services.service_reopen(actor=ACTOR, note="Fin de l'exercice")
        return "tous les canaux rouverts"

    timings.time("Fermer tous les canaux", close)
    timings.time("Compter les personnes concernées", count)
    timings.time("Annulation à blanc", cancel(True))
    timings.time("Annuler les actions de la période", cancel(False))
    timings.time("Prévenir chaque personne", notify)
    if report is not None:
        timings.time("Rapport de violation", lambda: report(incident))
    timings.time("Rouvrir tous les canaux", reopen)
    return timings
