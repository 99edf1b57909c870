from django.db import models
from django.db.models import QuerySet, Value, When

from moncompte.households.models import PIN_ROLES, Case, Delegation, Membership, Role, SeparationRequest
from moncompte.identity.models import Person


def memberships_for_person(person: Person) -> QuerySet[Membership]:
    return Membership.objects.filter(person=person).select_related("case").order_by("case__case_number")


def pin_memberships_for_person(person: Person) -> QuerySet[Membership]:
    """Memberships through which a person may sign in with the case PIN (holder or partner of a case with a PIN)."""
    return memberships_for_person(person).filter(role__in=PIN_ROLES).exclude(case__pin_hash="")


def household_of(membership: Membership) -> QuerySet[Membership]:
    """The members of a case, for a person who belongs to it (the access policy of issue 3 refines this)."""
    role_order = models.Case(
        *(When(role=role, then=Value(rank)) for rank, role in enumerate(Role)), output_field=models.IntegerField()
    )
    return (
        Membership.objects.filter(case_id=membership.case_id)
        .select_related("person")
        .order_by(role_order, "person__birth_date", "id")
    )


# --- Delegation and separation (issue 3) -----------------------------------------------------------------------------
# Reads for the services and for views that already asked the access policy; none of them checks who is asking.


def members_with_account_flag(memberships: QuerySet[Membership]) -> QuerySet[Membership]:
    """Mark each membership with `has_account`, through the reverse relation `person.account` (households does not
    import accounts: the join is enough, and no account data is loaded)."""
    return memberships.annotate(
        has_account=models.ExpressionWrapper(
            models.Q(person__account__isnull=False), output_field=models.BooleanField()
        )
    )


def membership_in_role(case: Case, role: str) -> Membership | None:
    """The case's member in a role (the holder, or the partner: at most one of each)."""
    return Membership.objects.filter(case=case, role=role).select_related("person").order_by("id").first()


def delegation_active(case: Case) -> Delegation | None:
    return Delegation.objects.filter(case=case, revoked_at__isnull=True).select_related("partner").first()


def separation_pending(case: Case) -> SeparationRequest | None:
    return SeparationRequest.objects.filter(case=case, status=SeparationRequest.Status.PENDING).first()


def children_of(case: Case) -> QuerySet[Membership]:
    """The children of the case, eldest first (the order the separation form lists them in)."""
    return (
        Membership.objects.filter(case=case, role=Role.CHILD)
        .select_related("person")
        .order_by("person__birth_date", "id")
    )
