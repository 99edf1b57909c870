"""What the onboarding screens say to one person: their role in the household and how they arrived (issue 7, item 10).

A read only, for `onboarding_view`: the screens are true for whoever reads them. A holder hears about the case PIN
they used and about delegation; a child of 16 who created her account from the login page hears neither.

Arrival is read from the journal (`account.created`: "case_pin", "password_reset", "signup", "invitation"), else from
the session's `auth_via` (a session opened by the case PIN on an account created earlier).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from moncompte.accounts.models import Account
from moncompte.households import policy, selectors
from moncompte.households.models import DelegationOrigin, Membership, Role
from moncompte.journal.models import Entry

ARRIVAL_CASE_PIN = "case_pin"
ARRIVAL_PASSWORD_RESET = "password_reset"  # noqa: S105 (a way in, not a secret)
ARRIVAL_SIGNUP = "signup"
ARRIVAL_INVITATION = "invitation"
ARRIVALS = (ARRIVAL_CASE_PIN, ARRIVAL_PASSWORD_RESET, ARRIVAL_SIGNUP, ARRIVAL_INVITATION)

#: The membership the screens speak about when a person belongs to several cases: the one that gives most.
_ROLE_RANK = {Role.HOLDER: 0, Role.PARTNER: 1, Role.CHILD: 2, Role.OTHER: 3}


def arrival_of(account: Account, auth_via: str = "") -> str:
    """How the account was opened: from its `account.created` entry, else from the session's sign-in method."""
    entry = (
        Entry.objects.filter(kind="account.created", person_id=account.person_id, undone_at__isnull=True)
        .order_by("-created_at", "-id")
        .only("after")
        .first()
    )
    via = (entry.after or {}).get("via", "") if entry is not None else ""
    if via in ARRIVALS:
        return via
    return auth_via if auth_via in ARRIVALS else ""


def _main_membership(account: Account) -> Membership | None:
    memberships = list(policy.memberships_of(account.person))
    return min(memberships, key=lambda m: (_ROLE_RANK.get(m.role, 9), m.case.case_number), default=None)


def onboarding_context(account: Account, *, auth_via: str = "") -> dict[str, Any]:
    """The facts the onboarding templates need (see accounts/templates/accounts/onboarding_*.html):

    - `role`: "holder", "partner", "child", "other", or "" (no case);
    - `delegated`: a partner who holds the delegation; `delegation_from_pin`: that delegation came from the case PIN;
    - `has_partner`: the case has a partner (for a holder: delegation and separation make sense);
    - `arrival`: "case_pin", "password_reset", "signup", "invitation" or "";
    - `knew_case_pin`: a holder or partner who came with the case PIN, or reset it (the PIN was theirs; the phone
      line still asks for it); never a child, another member, or a partner who signed up without it;
    - `case_number`, `phone_sunset`."""
    membership = _main_membership(account)
    role = membership.role if membership is not None else ""
    arrival = arrival_of(account, auth_via)
    standing = policy.standing(account.person, membership.case) if membership is not None else None
    delegated = bool(standing and standing.delegated)
    delegation = selectors.delegation_active(membership.case) if delegated else None
    has_partner = bool(
        membership is not None
        and (role == Role.PARTNER or selectors.membership_in_role(membership.case, Role.PARTNER) is not None)
    )
    return {
        "role": str(role),
        "is_holder": role == Role.HOLDER,
        "is_partner": role == Role.PARTNER,
        "is_member": role in (Role.CHILD, Role.OTHER),
        "delegated": delegated,
        "delegation_from_pin": bool(delegation and delegation.origin == DelegationOrigin.CASE_PIN),
        "has_partner": has_partner,
        "arrival": arrival,
        "knew_case_pin": role in (Role.HOLDER, Role.PARTNER) and arrival in (ARRIVAL_CASE_PIN, ARRIVAL_PASSWORD_RESET),
        "case_number": membership.case.case_number if membership is not None else "",
        "phone_sunset": getattr(settings, "PHONE_PIN_SUNSET", None),
    }
