"""Which drafts and submissions a person may see: their own, and those of the cases they act for (holder, partner
with delegation). Fetched by their handle through these querysets only: anyone else's does not exist for them."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from moncompte.households import policy
from moncompte.households.models import Case
from moncompte.households.policy import Capability
from moncompte.identity.models import Person
from moncompte.procedures.models import Draft, Submission


def cases_acted_for(person: Person) -> list[Case]:
    return [case for case in policy.cases_of(person) if policy.can(person, Capability.START_REQUEST, case)]


def cases_prepared_for(person: Person) -> list[Case]:
    return [case for case in policy.cases_of(person) if policy.can(person, Capability.PREPARE_REQUEST, case)]


def drafts_visible(person: Person) -> QuerySet[Draft]:
    return (
        Draft.objects.filter(Q(author=person) | Q(case__in=cases_acted_for(person)))
        .select_related("case", "author")
        .order_by("-saved_at")
    )


def _handle_ok(handle: str, length: int) -> bool:
    return bool(handle) and len(handle) <= length and "\x00" not in handle


def draft_get(person: Person, token: str) -> Draft:
    """Raises Draft.DoesNotExist for a draft the person may not see, or none."""
    token = str(token)
    if not _handle_ok(token, Draft._meta.get_field("token").max_length):
        raise Draft.DoesNotExist
    return drafts_visible(person).get(token=token)


def submissions_visible(person: Person) -> QuerySet[Submission]:
    return (
        Submission.objects.filter(Q(author=person) | Q(prepared_by=person) | Q(case__in=cases_acted_for(person)))
        .select_related("case", "author", "prepared_by")
        .order_by("-submitted_at")
    )


def submission_get(person: Person, reference: str) -> Submission:
    reference = str(reference).upper()
    if not _handle_ok(reference, Submission._meta.get_field("reference").max_length):
        raise Submission.DoesNotExist
    return submissions_visible(person).get(reference=reference)
