"""What the signed-in person may do on a case, for a template to offer only what the access policy allows (a child is
not offered a payments page they cannot see): `{% load access %}{% can "view_case" case as sees_case %}`."""

from __future__ import annotations

from django import template

from moncompte.households import policy
from moncompte.households.policy import Capability

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, capability: str, case) -> bool:
    """`capability` is a households.policy.Capability without its prefix: "view_case", "answer_agency"…"""
    request = context.get("request")
    return request is not None and policy.can(request.user, Capability(f"households.{capability}"), case)


@register.simple_tag(takes_context=True)
def can_somewhere(context, capability: str) -> bool:
    """Whether the person has the capability on at least one of their cases."""
    request = context.get("request")
    if request is None:
        return False
    wanted = Capability(f"households.{capability}")
    return any(policy.can(request.user, wanted, case) for case in policy.cases_of(request.user))
