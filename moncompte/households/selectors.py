from django.db import models
from django.db.models import QuerySet, Value, When

from moncompte.households.models import PIN_ROLES, Membership, Role
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
