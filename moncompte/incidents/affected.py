"""Who an incident concerns (issue 12, item 4), computed from the journal and the record of reads of its window.

- `outside`: people whose data an account outside their household displayed in the window (journal.reads);
- `household`: people whose data only another member of their household displayed (the holder looking at the
  partner's data: what the policy allows; counted, not concerned);
- `agents`: people whose data an agent displayed (counted, not concerned: agents' looks are their work);
- `acted`: people who did anything in the window (signed in, saved a request…), their actions being cancelled;
- `excluded`: among all of these, people whose password was set or changed before the window's start and not
  within it: they were not concerned (the seed's rule of 10 October 2021: the breach came with the new sign-in).

Concerned: outside or acted, and not excluded. Every query is bounded by the window (its reads and journal entries,
then the people they name, by chunks of ids): the cost grows with the window, not with the journal."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from moncompte.accounts.models import Account
from moncompte.households.models import Membership
from moncompte.journal import kinds, reads
from moncompte.journal.models import Entry

CHUNK = 5_000


@dataclass
class Affected:
    start: datetime.datetime
    end: datetime.datetime
    outside: set[int] = field(default_factory=set)
    household: set[int] = field(default_factory=set)
    agents: set[int] = field(default_factory=set)
    acted: set[int] = field(default_factory=set)
    excluded: set[int] = field(default_factory=set)
    looks: int = 0
    actions: int = 0
    #: The person of each account that looked or acted in the window (None: an agent).
    account_people: dict[int, int | None] = field(default_factory=dict)

    def concerned_accounts(self) -> set[int]:
        """The accounts whose actions in the window are cancelled: those of the people who acted, not excluded."""
        people = self.acted - self.excluded
        return {account for account, person in self.account_people.items() if person in people}

    @property
    def concerned(self) -> set[int]:
        return (self.outside | self.acted) - self.excluded

    def counts(self) -> dict[str, int]:
        concerned = self.concerned
        return {
            "looks": self.looks,
            "actions": self.actions,
            "read_outside_household": len(self.outside - self.excluded),
            "read_in_household_only": len(self.household - self.outside - self.acted - self.excluded),
            "read_by_agents_only": len(self.agents - self.outside - self.household - self.acted - self.excluded),
            "acted": len(self.acted - self.excluded),
            "excluded_password_before": len(self.excluded),
            "concerned": len(concerned),
        }


def chunks(values: Iterable, size: int = CHUNK) -> Iterator[list]:
    batch: list = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def people_of_accounts(account_ids: Iterable[int]) -> dict[int, int | None]:
    """Account id → person id (None for an agent's account)."""
    found: dict[int, int | None] = {}
    for batch in chunks(set(account_ids)):
        found.update(Account.objects.filter(pk__in=batch).values_list("pk", "person_id"))
    return found


def members_of_cases(case_numbers: Iterable[str]) -> dict[str, set[int]]:
    members: dict[str, set[int]] = defaultdict(set)
    for batch in chunks(set(case_numbers)):
        for number, person_id in Membership.objects.filter(case__case_number__in=batch).values_list(
            "case__case_number", "person_id"
        ):
            members[number].add(person_id)
    return members


def cases_of_people(person_ids: Iterable[int]) -> dict[int, set[str]]:
    cases: dict[int, set[str]] = defaultdict(set)
    for batch in chunks(set(person_ids)):
        for person_id, number in Membership.objects.filter(person_id__in=batch).values_list(
            "person_id", "case__case_number"
        ):
            cases[person_id].add(number)
    return cases


def affected(start: datetime.datetime, end: datetime.datetime) -> Affected:
    result = Affected(start, end)
    looks = list(reads.in_window(start, end).values_list("viewer_account_id", "case_number", "person_id"))
    result.looks = len(looks)
    actions = list(
        Entry.objects.filter(created_at__gte=start, created_at__lt=end, actor_account_id__isnull=False)
        .exclude(kind__endswith=kinds.UNDONE)
        .values_list("actor_account_id", flat=True)
    )
    result.actions = len(actions)

    viewers = result.account_people = people_of_accounts([viewer for viewer, _, _ in looks] + actions)
    members = members_of_cases(number for _, number, _ in looks if number)
    looked_people = {person for _, _, person in looks if person is not None}
    cases_of = cases_of_people({p for p in viewers.values() if p is not None} | looked_people)

    for viewer, number, person in looks:
        viewer_person = viewers.get(viewer)
        subjects = members.get(number, set()) if number else {person}
        subject_cases = {number} if number else cases_of.get(person, set())
        for subject in subjects:
            if subject == viewer_person:
                continue
            if viewer_person is None:
                result.agents.add(subject)
            elif cases_of.get(viewer_person, set()) & subject_cases:
                result.household.add(subject)
            else:
                result.outside.add(subject)
    result.acted = {viewers[a] for a in actions if viewers.get(a) is not None}

    candidates = result.outside | result.household | result.agents | result.acted
    for batch in chunks(candidates):
        before = set(
            Entry.objects.filter(kind__in=kinds.PASSWORD_SET, person_id__in=batch, created_at__lt=start)
            .values_list("person_id", flat=True)
            .distinct()
        )
        if before:
            within = set(
                Entry.objects.filter(
                    kind__in=kinds.PASSWORD_SET, person_id__in=before, created_at__gte=start, created_at__lt=end
                )
                .values_list("person_id", flat=True)
                .distinct()
            )
            result.excluded |= before - within
    return result
