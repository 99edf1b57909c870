"""The access policy's rules, capability by capability and role by role (DESIGN §3)."""

import datetime

import pytest

from moncompte.households import policy
from moncompte.households.models import Delegation, DelegationOrigin, Role
from moncompte.households.policy import Capability
from tests.factories import CaseFactory, MembershipFactory, PersonFactory

EXPECTED = {
    # capability: roles allowed, among holder, delegated (partner with delegation), partner, child, other
    Capability.VIEW_OWN_DATA: {"holder", "delegated", "partner", "child", "other"},
    Capability.DECLARE_SEPARATION: {"holder", "delegated", "partner"},
    Capability.VIEW_CASE: {"holder", "delegated"},
    Capability.PREPARE_REQUEST: {"holder", "delegated", "partner"},
    Capability.START_REQUEST: {"holder", "delegated"},
    Capability.ANSWER_AGENCY: {"holder", "delegated"},
    Capability.DESK_INFO: {"holder", "delegated"},
    Capability.MANAGE_DELEGATION: {"holder"},
    Capability.INVITE_MEMBER: {"holder"},
    Capability.APPROVE_SIGNUP: {"holder"},
}


@pytest.fixture
def members(db):
    case = CaseFactory()
    people = {
        "holder": MembershipFactory(case=case, role=Role.HOLDER).person,
        "partner": MembershipFactory(case=case, role=Role.PARTNER).person,
        "child": MembershipFactory(case=case, role=Role.CHILD, person=PersonFactory(child=True)).person,
        "other": MembershipFactory(case=case, role=Role.OTHER).person,
    }
    people["outsider"] = MembershipFactory(role=Role.HOLDER).person
    return case, people


def _delegate(case, partner):
    Delegation.objects.create(case=case, partner=partner, origin=DelegationOrigin.HOLDER)


@pytest.mark.parametrize("capability", list(Capability))
def test_each_capability_follows_the_matrix_of_the_design(members, capability):
    case, people = members
    allowed = {role for role in ("holder", "partner", "child", "other") if policy.can(people[role], capability, case)}
    assert allowed == EXPECTED[capability] - {"delegated"}
    assert not policy.can(people["outsider"], capability, case)
    _delegate(case, people["partner"])
    policy.forget(people["partner"])
    assert policy.can(people["partner"], capability, case) == ("delegated" in EXPECTED[capability])


def test_a_revoked_delegation_gives_nothing(members):
    case, people = members
    Delegation.objects.create(
        case=case,
        partner=people["partner"],
        origin=DelegationOrigin.HOLDER,
        revoked_at=datetime.datetime.now(datetime.UTC),
    )
    assert not policy.can(people["partner"], Capability.VIEW_CASE, case)


def test_a_delegation_to_someone_who_is_not_the_partner_gives_nothing(members):
    case, people = members
    _delegate(case, people["child"])
    assert not policy.can(people["child"], Capability.VIEW_CASE, case)


def test_limited_members_see_only_themselves_and_are_told_why(members):
    case, people = members
    assert policy.members_visible(people["holder"], case).count() == 4
    for role in ("partner", "child", "other"):
        visible = list(policy.members_visible(people[role], case))
        assert [m.person for m in visible] == [people[role]]
        assert policy.limits(people[role], case)
    assert policy.limits(people["holder"], case) == []
    assert not policy.members_visible(people["outsider"], case).exists()


def test_a_case_of_someone_else_does_not_exist_for_them(members):
    case, people = members
    assert policy.case_get(people["child"], case.case_number) == case
    with pytest.raises(type(case).DoesNotExist):
        policy.case_get(people["outsider"], case.case_number)
    with pytest.raises(type(case).DoesNotExist):
        policy.case_get(None, case.case_number)


def test_member_get_needs_the_capability_and_a_member_of_that_case(members):
    case, people = members
    assert (
        policy.member_get(people["holder"], case, people["child"].pk, Capability.INVITE_MEMBER).person
        == people["child"]
    )
    with pytest.raises(policy.Membership.DoesNotExist):
        policy.member_get(people["partner"], case, people["child"].pk, Capability.INVITE_MEMBER)
    with pytest.raises(policy.Membership.DoesNotExist):
        policy.member_get(people["holder"], case, people["outsider"].pk, Capability.INVITE_MEMBER)


def test_members_may_have_an_account_from_15(members):
    _, people = members
    person = people["child"]
    birthday_15 = person.birth_date.replace(year=person.birth_date.year + 15)
    assert policy.may_have_account(person, birthday_15)
    assert not policy.may_have_account(person, birthday_15 - datetime.timedelta(days=1))
