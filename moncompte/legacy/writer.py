"""Writing valid cases of the legacy export, one batch per transaction: resolve the people, upsert the cases, sync
the memberships, journal each case and move the run's checkpoint.

Writing is an upsert, so that running a file twice never duplicates anything:
- people are matched by NIR; people without a NIR by case + birth name + given names + birth date (and a person
  who had only a provisional identifier and now comes with a NIR gets that NIR: the NIR is linked, not duplicated,
  through `identity.linking.link_nir` as an agent's link is: the provisional identifier retired, the account's login
  id renamed, the person told, journaled; a few queries for each linked person, none for the others);
- cases are matched by number; the memberships of a case become exactly the file's (members absent from the file
  leave the case, roles are updated); contacts on file and identity fields take the file's values.
Rows write `identity.Person` directly, in bulk: per-person service calls would cost more than the hashing (the links,
rare, are the exception).

Policy for a case that already exists: its PIN is simply hashed again and the new hash stored (see services.py), so
`pin_changed_at` means "hash last written", by this import or by the phone channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, models, transaction
from django.utils import timezone

from moncompte.households.models import Case, Membership, Role
from moncompte.identity import linking
from moncompte.identity.models import Person
from moncompte.identity.provisional import free_provisional_ids
from moncompte.journal import services as journal
from moncompte.legacy.models import ImportRun
from moncompte.legacy.validation import PERSON_FIELDS, LegacyCase, PersonRow

#: For each case of a batch, in order: the person of each of its rows, by row index.
People = list[dict[int, Person]]


@dataclass
class BatchStats:
    cases_created: int = 0
    cases_updated: int = 0
    people_created: int = 0
    people_updated: int = 0
    members_removed: int = 0


def write_batch(
    *, run: ImportRun, batch_index: int, cases: Sequence[LegacyCase], pin_hashes: Sequence[str]
) -> BatchStats:
    """Upsert one batch of cases and move the checkpoint, in one transaction."""
    stats = BatchStats()
    now = timezone.now()
    with transaction.atomic():
        known = _KnownCases.load(cases)
        people = _resolve_people(cases, known, now, stats)
        case_objects = _upsert_cases(cases, pin_hashes, known, now, stats)
        _sync_memberships(cases, people, case_objects, known, stats)
        for case in cases:
            journal.record(
                "case.imported",
                case_number=case.number,
                after={"members": len(case.rows), "created": case.number not in known.cases},
            )
        ImportRun.objects.filter(pk=run.pk).update(
            batches_done=batch_index + 1, cases_done=run.cases_done + len(cases), updated_at=now
        )
        run.batches_done = batch_index + 1
        run.cases_done += len(cases)
    return stats


@dataclass
class _KnownCases:
    """The batch's cases the database already holds, with their memberships and people."""

    cases: dict[str, Case]  # by number
    memberships: dict[int, list[Membership]]  # by case id

    @classmethod
    def load(cls, cases: Sequence[LegacyCase]) -> _KnownCases:
        known = {case.case_number: case for case in Case.objects.filter(case_number__in=[c.number for c in cases])}
        memberships: dict[int, list[Membership]] = {case.pk: [] for case in known.values()}
        for membership in Membership.objects.filter(case__in=known.values()).select_related("person"):
            memberships[membership.case_id].append(membership)
        return cls(known, memberships)

    def member_matching(self, number: str, row: PersonRow, *, exclude: set[int], without_nir: bool) -> Person | None:
        """The member of case `number` with the row's birth name, given names and birth date, if any."""
        case = self.cases.get(number)
        for membership in self.memberships.get(case.pk, []) if case else []:
            person = membership.person
            if person.pk in exclude or (without_nir and person.nir):
                continue
            if (person.birth_name.casefold(), person.given_names.casefold(), person.birth_date) == row.match_key:
                return person
        return None


def _resolve_people(cases: Sequence[LegacyCase], known: _KnownCases, now: datetime, stats: BatchStats) -> People:
    """Find or create the person of every row, and write the identity fields that changed."""
    nirs = {row.nir for case in cases for row in case.rows if row.nir}
    by_nir: dict[str, Person] = {person.nir: person for person in Person.objects.filter(nir__in=nirs)}

    # A NIR unknown to the database may belong to a member who had only a provisional identifier: link it, by the
    # same rule as an agent's link (identity.linking), which updates the person in place.
    linked: set[int] = set()
    for case in cases:
        for row in case.rows:
            if row.nir and row.nir not in by_nir:
                person = known.member_matching(case.number, row, exclude=linked, without_nir=True)
                if person is not None and _link(person, row.nir):
                    by_nir[row.nir] = person
                    linked.add(person.pk)

    new_people: list[Person] = []
    changed_people: dict[int, Person] = {}
    resolved: People = []
    for case in cases:
        people: dict[int, Person] = {}
        claimed: set[int] = set()
        # Rows with a NIR first, so that a row without one cannot claim a member the file names by NIR.
        for i in sorted(range(len(case.rows)), key=lambda i: not case.rows[i].nir):
            row = case.rows[i]
            if row.nir:
                person = by_nir.get(row.nir)
            else:
                person = known.member_matching(case.number, row, exclude=claimed, without_nir=False)
            if person is None:
                person = Person(nir=row.nir or None)
                _set_fields(person, row)
                new_people.append(person)
                if row.nir:
                    by_nir[row.nir] = person
            elif person.pk is not None:
                if _set_fields(person, row) or person.pk in linked:
                    changed_people[person.pk] = person
                claimed.add(person.pk)
            else:
                _set_fields(person, row)  # created by an earlier case of this batch
            people[i] = person
        resolved.append(people)

    without_nir = [person for person in new_people if not person.nir]
    for person, provisional_id in zip(without_nir, free_provisional_ids(len(without_nir)), strict=True):
        person.provisional_id = provisional_id
    Person.objects.bulk_create(new_people)
    for person in changed_people.values():
        person.updated_at = now
    _update_rows(Person, list(changed_people.values()), ["nir", *PERSON_FIELDS, "updated_at"])
    stats.people_created = len(new_people)
    stats.people_updated = len(changed_people)
    return resolved


def _link(person: Person, nir: str) -> bool:
    """Link the NIR of the file to a member the database knew without one. A refusal (the NIR became someone else's
    in the meantime) leaves the member as they were: the row then makes a new person, as any unknown NIR does."""
    try:
        linking.link_nir(person, nir, by=linking.BY_LEGACY_IMPORT)  # its own savepoint: a refusal changes nothing
    except linking.LinkRefused:
        return False
    return True


def _upsert_cases(
    cases: Sequence[LegacyCase], pin_hashes: Sequence[str], known: _KnownCases, now: datetime, stats: BatchStats
) -> dict[str, Case]:
    """Create the new cases and store every case's new PIN hash; returns every case of the batch by number."""
    new_cases = []
    for case, pin_hash in zip(cases, pin_hashes, strict=True):
        existing = known.cases.get(case.number)
        if existing is None:
            new_cases.append(Case(case_number=case.number, pin_hash=pin_hash, pin_changed_at=now))
        else:
            existing.pin_hash, existing.pin_changed_at, existing.updated_at = pin_hash, now, now
    Case.objects.bulk_create(new_cases)
    _update_rows(Case, list(known.cases.values()), ["pin_hash", "pin_changed_at", "updated_at"])
    stats.cases_created = len(new_cases)
    stats.cases_updated = len(known.cases)
    return {case.case_number: case for case in [*known.cases.values(), *new_cases]}


def _sync_memberships(
    cases: Sequence[LegacyCase],
    people: People,
    case_objects: dict[str, Case],
    known: _KnownCases,
    stats: BatchStats,
) -> None:
    """Make each case's memberships exactly the file's: members absent from the file leave, roles follow the file."""
    to_delete: list[int] = []
    demoted: list[Membership] = []
    promoted: list[Membership] = []
    to_create: list[Membership] = []
    for case, case_people in zip(cases, people, strict=True):
        case_object = case_objects[case.number]
        current = {membership.person_id: membership for membership in known.memberships.get(case_object.pk, [])}
        wanted = {case_people[i].pk: row.role for i, row in enumerate(case.rows)}
        for person_id, membership in current.items():
            if person_id not in wanted:
                to_delete.append(membership.pk)
            elif membership.role != wanted[person_id]:
                membership.role = wanted[person_id]
                (promoted if membership.role == Role.HOLDER else demoted).append(membership)
        to_create.extend(
            Membership(case=case_object, person_id=person_id, role=role)
            for person_id, role in wanted.items()
            if person_id not in current
        )
    # Order matters for the one-holder-per-case constraint: the old holder leaves or steps down first.
    Membership.objects.filter(pk__in=to_delete).delete()
    Membership.objects.bulk_update(demoted, ["role"])
    Membership.objects.bulk_update(promoted, ["role"])
    Membership.objects.bulk_create(to_create)
    stats.members_removed = len(to_delete)


def _set_fields(person: Person, row: PersonRow) -> bool:
    changed = False
    for name in PERSON_FIELDS:
        value = getattr(row, name)
        if getattr(person, name) != value:
            setattr(person, name, value)
            changed = True
    return changed


def _update_rows(model: type[models.Model], objects: Sequence[models.Model], fields: Sequence[str]) -> None:
    """UPDATE … WHERE id = %s, once per object, in one executemany.

    Django's bulk_update builds one CASE WHEN per field and row: on a batch of 500 cases it costs more CPU than the
    rest of the batch together, and that CPU is taken from the argon2 workers.
    """
    if not objects:
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    # Only table and column names from the model are interpolated; every value is a query parameter.
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    rows = [
        [column.get_db_prep_save(getattr(obj, column.attname), connection) for column in columns] + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
