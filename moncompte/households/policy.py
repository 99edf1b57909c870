"""The access policy: what each member of a household may see and do (DESIGN §3). Every page, endpoint and
command that reads a case or a person's data goes through this module with the signed-in person.

| capability                  | holder | partner with delegation | partner without | child / other 15+ |
|-----------------------------|--------|-------------------------|-----------------|-------------------|
| VIEW_OWN_DATA, CHANGE_OWN   | yes    | yes                     | yes             | yes               |
| DECLARE_SEPARATION          | yes    | yes                     | yes             | no                |
| VIEW_CASE                   | yes    | yes                     | own data only   | own data only     |
| PREPARE_REQUEST             | yes    | yes                     | yes             | no                |
| START_REQUEST (submit)      | yes    | yes                     | no              | no                |
| ANSWER_AGENCY, DESK_INFO    | yes    | yes                     | no              | no                |
| MANAGE_DELEGATION, INVITE,  | yes    | no                      | no              | no                |
| APPROVE_SIGNUP              |        |                         |                 |                   |

A partner without delegation may prepare a household request (a draft) but not send it: the holder is told a
draft awaits them, and sends it. "Own data only" means: the person sees their own identity, contacts and role, and
the case number; not the other members, not the case's payments or letters. The pages say so, and say whom to ask
(`limits`).

Objects are fetched through the scoped querysets below (`case_get`, `members_visible`…), never by a bare id:
a case the person does not belong to does not exist for them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum

import rules
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from moncompte.households.models import Case, Delegation, Membership, Role
from moncompte.households.selectors import household_of, memberships_for_person
from moncompte.identity.models import Person
from moncompte.journal import reads
from moncompte.lib import dates


class Capability(StrEnum):
    VIEW_OWN_DATA = "households.view_own_data"
    DECLARE_SEPARATION = "households.declare_separation"
    VIEW_CASE = "households.view_case"
    PREPARE_REQUEST = "households.prepare_request"
    START_REQUEST = "households.start_request"
    ANSWER_AGENCY = "households.answer_agency"
    DESK_INFO = "households.desk_info"
    MANAGE_DELEGATION = "households.manage_delegation"
    INVITE_MEMBER = "households.invite_member"
    APPROVE_SIGNUP = "households.approve_signup"


@dataclass(frozen=True)
class Standing:
    """A person's place in one case: their membership and whether they hold the delegation."""

    membership: Membership
    delegated: bool

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def acts_for_household(self) -> bool:
        return self.role == Role.HOLDER or (self.role == Role.PARTNER and self.delegated)


def _person(who) -> Person | None:
    """Accept a Person or a signed-in account (anything with `.person`); anonymous or agent → None."""
    if isinstance(who, Person):
        return who
    return getattr(who, "person", None) if getattr(who, "is_authenticated", False) else None


def standing(who, case: Case) -> Standing | None:
    """The person's standing in the case, or None if they are not a member. Cached on the person object for the
    request (a page asks several questions about the same case)."""
    person = _person(who)
    if person is None or case is None:
        return None
    cache = person.__dict__.setdefault("_standing_cache", {})
    if case.pk not in cache:
        membership = Membership.objects.filter(case=case, person=person).select_related("case").first()
        delegated = bool(
            membership
            and membership.role == Role.PARTNER
            and Delegation.objects.filter(case=case, partner=person, revoked_at__isnull=True).exists()
        )
        cache[case.pk] = Standing(membership, delegated) if membership else None
    return cache[case.pk]


def forget(who) -> None:
    """Drop the cached standings (after a delegation or membership change in the same request)."""
    person = _person(who)
    if person is not None:
        person.__dict__.pop("_standing_cache", None)


# --- Predicates (rules) ----------------------------------------------------------------------------------------------


@rules.predicate
def is_member(who, case) -> bool:
    return standing(who, case) is not None


@rules.predicate
def is_holder(who, case) -> bool:
    s = standing(who, case)
    return s is not None and s.role == Role.HOLDER


@rules.predicate
def is_partner(who, case) -> bool:
    s = standing(who, case)
    return s is not None and s.role == Role.PARTNER


@rules.predicate
def is_delegated_partner(who, case) -> bool:
    s = standing(who, case)
    return s is not None and s.role == Role.PARTNER and s.delegated


acts_for_household = is_holder | is_delegated_partner

RULES = rules.RuleSet()
RULES.add_rule(Capability.VIEW_OWN_DATA, is_member)
RULES.add_rule(Capability.DECLARE_SEPARATION, is_holder | is_partner)
RULES.add_rule(Capability.VIEW_CASE, acts_for_household)
RULES.add_rule(Capability.PREPARE_REQUEST, is_holder | is_partner)
RULES.add_rule(Capability.START_REQUEST, acts_for_household)
RULES.add_rule(Capability.ANSWER_AGENCY, acts_for_household)
RULES.add_rule(Capability.DESK_INFO, acts_for_household)
RULES.add_rule(Capability.MANAGE_DELEGATION, is_holder)
RULES.add_rule(Capability.INVITE_MEMBER, is_holder)
RULES.add_rule(Capability.APPROVE_SIGNUP, is_holder)


def can(who, capability: Capability, case: Case) -> bool:
    return RULES.test_rule(capability, who, case)


# --- Scoped querysets ------------------------------------------------------------------------------------------------


def cases_of(who) -> QuerySet[Case]:
    """The cases the person belongs to; nothing for anyone else."""
    person = _person(who)
    if person is None:
        return Case.objects.none()
    return Case.objects.filter(memberships__person=person).order_by("case_number")


#: The largest id the database stores (BIGINT): a larger one from a URL or a form is no object of anyone's.
MAX_ID = 2**63 - 1
_CASE_NUMBER_LENGTH = Case._meta.get_field("case_number").max_length


def case_get(who, case_number: str) -> Case:
    """A case of the person, by number; raises Case.DoesNotExist for any other (the view answers 404).

    A number no case can have (too long, or with a NUL byte, which PostgreSQL refuses in a query) is not looked up."""
    case_number = str(case_number)
    if not case_number or len(case_number) > _CASE_NUMBER_LENGTH or "\x00" in case_number:
        raise Case.DoesNotExist
    case = cases_of(who).get(case_number=case_number)
    if can(who, Capability.VIEW_CASE, case):  # who sees the case's data, not only their own (journal.reads)
        reads.seen(case_number=case.case_number)
    return case


def memberships_of(who) -> QuerySet[Membership]:
    person = _person(who)
    if person is None:
        return Membership.objects.none()
    return memberships_for_person(person)


def members_visible(who, case: Case) -> QuerySet[Membership]:
    """The members of the case this person may see: everyone when they act for the household, else themselves."""
    s = standing(who, case)
    if s is None:
        return Membership.objects.none()
    if can(who, Capability.VIEW_CASE, case):
        reads.seen(case_number=case.case_number)
        return household_of(s.membership)
    return household_of(s.membership).filter(person=s.membership.person)


def member_get(who, case: Case, person_id, capability: Capability) -> Membership:
    """Another member of the case, for an action the person may take on the household (invite, approve…).
    Raises Membership.DoesNotExist when the capability is missing or the id is not a member of this case."""
    if not can(who, capability, case):
        raise Membership.DoesNotExist
    try:
        person_id = int(person_id)
    except (TypeError, ValueError):
        raise Membership.DoesNotExist from None
    if not 0 < person_id <= MAX_ID:  # SQLite cannot even compare a larger one: no such member
        raise Membership.DoesNotExist
    membership = household_of(standing(who, case).membership).get(person_id=person_id)
    reads.seen(person_id=membership.person_id)
    return membership


def may_have_account(person: Person, on: datetime.date | None = None) -> bool:
    """Every member aged 15 or more on the day may have their own account (seed)."""
    return person.age_on(on or timezone.localdate()) >= settings.MEMBER_ACCOUNT_MIN_AGE


def account_age_cutoff(on: datetime.date | None = None) -> datetime.date:
    """The latest birth date of someone aged MEMBER_ACCOUNT_MIN_AGE or more on the day (a 29 February birthday
    comes on 1 March in common years, as `Person.age_on` counts it)."""
    return dates.years_before(on or timezone.localdate(), settings.MEMBER_ACCOUNT_MIN_AGE)


def account_opening_date(birth_date: datetime.date) -> datetime.date:
    """The day a member may open their account (born on 29 February: 1 March in common years, as `age_on` counts)."""
    return dates.years_after(birth_date, settings.MEMBER_ACCOUNT_MIN_AGE)


# --- What the page tells a person with limited access --------------------------------------------------------------


def limits(who, case: Case) -> list[str]:
    """What this person cannot do on the case and why, in French, to show on the page instead of hiding it."""
    s = standing(who, case)
    if s is None or s.acts_for_household:
        return []
    if s.role == Role.PARTNER:
        return [
            _(
                "Vous voyez vos propres informations, mais pas celles des autres membres du foyer : l'allocataire "
                "ne vous a pas donné de délégation."
            ),
            _(
                "Pour obtenir la délégation, demandez à l'allocataire de vous l'accorder depuis son espace, "
                "rubrique « Mon foyer »."
            ),
        ]
    return [
        _(
            "Vous voyez vos propres informations. Les noms, rôles et dates de naissance des autres membres du foyer "
            "sont réservés à l'allocataire (et à son conjoint s'il a une délégation)."
        ),
        _("Pour toute question sur le dossier de votre foyer, adressez-vous à l'allocataire."),
    ]


def desk_limits(who, case: Case) -> list[str]:
    """What an agent at the desk or on the phone may not tell this person about the case, and the reason to give
    them (issue 13, item 3): the rule above, worded for the agent. Empty for the holder and a delegated partner."""
    s = standing(who, case)
    if s is None or s.acts_for_household:
        return []
    if s.role == Role.PARTNER:
        return [
            _(
                "Conjoint sans délégation : ne communiquez que ses propres informations, pas celles du dossier "
                "(paiements, courriers, autres membres)."
            ),
            _(
                "Raison à donner : l'allocataire ne lui a pas donné de délégation. L'allocataire peut la lui accorder "
                "depuis son espace, rubrique « Mon foyer »."
            ),
        ]
    return [
        _(
            "Membre du foyer (enfant ou autre personne) : ne communiquez que ses propres informations, pas celles du "
            "dossier (paiements, courriers, autres membres)."
        ),
        _(
            "Raison à donner : les informations du dossier sont réservées à l'allocataire, et à son conjoint s'il a "
            "une délégation."
        ),
    ]
