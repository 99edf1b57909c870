"""The access matrix (DESIGN §3, issue 3): every URL of the site by every role, by own and foreign objects, over a few
hundred generated households. Each response must have the expected status and must not show the data of anyone
the viewer may not see: people of other households always, and the other members of their own household when the
policy limits them to their own data.

A URL added to the site without a line in ROUTES fails `test_every_url_of_the_site_is_in_the_matrix`: a new view
cannot skip the matrix. A view that forgets the policy (fetching by a bare id) fails its row here.

The agents' screens (the desk, under /guichet/) and the admin are walked by the agents' roles too (AGENT_ROLES): an
agent who proved only their password, one with no application yet, a desk agent, a supervisor, the security team and
a superuser outside it. An agent's exchange with a person tells only what the policy lets that person be told.
"""

from __future__ import annotations

import datetime
import json
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from moncompte.accounts import agents
from moncompte.accounts.models import Account
from moncompte.households.models import Case, Delegation, DelegationOrigin, Membership, Role, SignupRequest
from moncompte.identity.models import Person
from moncompte.journal.models import Entry
from moncompte.partners import client as partners_client
from moncompte.procedures.models import Draft, Submission
from tests.agents import STAFF_BACKEND, agent_client, agent_make
from tests.factories import make_nir

HOUSEHOLDS = 200
PASSWORD = "Tr0mbone-Vert"

# Viewer roles. An "outsider" is the holder of another household; "foreign" targets are another household's objects.
HOLDER, DELEGATED, PARTNER, CHILD, OTHER, ANONYMOUS = "holder", "delegated", "partner", "child", "other", "anonymous"
MEMBER_ROLES = (HOLDER, DELEGATED, PARTNER, CHILD, OTHER)
ACTS_FOR_HOUSEHOLD = (HOLDER, DELEGATED)

# Agent roles (tests.agents): signed in with the password only (an application enrolled, its code not typed yet), or
# with no application yet; then, second factor proven: a desk agent, a supervisor, the security team, and a superuser
# who is not in the security team.
UNVERIFIED, UNENROLLED, DESK, SUPERVISOR, SECURITY, SUPERUSER = (
    "unverified", "unenrolled", agents.DESK, agents.SUPERVISOR, agents.SECURITY, "superuser"
)  # fmt: skip
AGENT_ROLES = (UNVERIFIED, UNENROLLED, DESK, SUPERVISOR, SECURITY, SUPERUSER)
SIGNED_IN_AGENTS = (DESK, SUPERVISOR, SECURITY, SUPERUSER)
#: Who holds accounts.desk_use: the desk's roles, and a superuser (every permission outside the security team's).
RECEIVES = (DESK, SUPERVISOR, SUPERUSER)


# --- The generated world ---------------------------------------------------------------------------------------------


def _word(n: int, prefix: str) -> str:
    """A name that appears nowhere else on any page: a prefix and letters only (no digits to collide with)."""
    letters = ""
    n += 26**3
    while n:
        n, r = divmod(n, 26)
        letters = string.ascii_lowercase[r] + letters
    return prefix + letters


@dataclass
class Household:
    index: int
    case: Case
    people: dict[str, Person] = field(default_factory=dict)  # holder, partner, child, other, young
    accounts: dict[str, Account] = field(default_factory=dict)
    delegated: bool = False
    signup_request: SignupRequest | None = None  # a pending request of the child of 16, for the holder to decide
    draft: Draft | None = None  # a housing-aid request the holder started
    submission: Submission | None = None  # and one the holder sent

    def tokens(self, person: Person) -> set[str]:
        return {person.birth_name, person.given_names, person.email_on_file, person.nir}

    def all_tokens(self) -> set[str]:
        return set().union(*(self.tokens(p) for p in self.people.values())) | {self.case.case_number}


@dataclass
class World:
    households: list[Household]

    def with_partner(self, delegated: bool) -> list[Household]:
        return [h for h in self.households if "partner" in h.people and h.delegated == delegated]

    def with_other(self) -> list[Household]:
        return [h for h in self.households if "other" in h.people]


def build_world(count: int = HOUSEHOLDS) -> World:
    """`count` households, in bulk: holder; a partner in 4 of 5 (with delegation in every other one); a child of 16;
    another adult in 1 of 3; a child of 10 (too young for an account). Everyone aged 15+ has a migrated account."""
    today = timezone.localdate()
    password_hash = make_password(PASSWORD)
    now = timezone.now()
    people, cases, plan = [], [], []
    seq = 0
    for i in range(count):
        case = Case(case_number=f"{7_300_000 + i:07d}", pin_hash="")
        cases.append(case)
        roles = ["holder", "child", "young"]
        if i % 5:
            roles.append("partner")
        if i % 3 == 0:
            roles.append("other")
        for slot in roles:
            seq += 1
            age = {"child": 16, "young": 10}.get(slot, 40)
            person = Person(
                nir=make_nir(sex="1" if slot != "partner" else "2", year=(today.year - age) % 100, seq=500_000 + seq),
                birth_name=_word(seq, "Nomz"),
                given_names=_word(seq, "Prenomz"),
                birth_date=today.replace(year=today.year - age, month=1, day=1),
                sex="M" if slot != "partner" else "F",
                birthplace="75056",
                email_on_file=f"{_word(seq, 'mel')}@exemple.fr",
            )
            people.append(person)
            plan.append((i, slot, person))
    Person.objects.bulk_create(people)
    Case.objects.bulk_create(cases)
    cases = {c.case_number: c for c in Case.objects.filter(case_number__in=[c.case_number for c in cases])}
    people_by_nir = {p.nir: p for p in Person.objects.filter(nir__in=[p.nir for p in people])}
    households = [Household(i, cases[f"{7_300_000 + i:07d}"]) for i in range(count)]
    memberships, accounts = [], []
    role_of = {"holder": Role.HOLDER, "partner": Role.PARTNER, "child": Role.CHILD, "young": Role.CHILD}
    for i, slot, person in plan:
        person = people_by_nir[person.nir]
        household = households[i]
        household.people[slot] = person
        memberships.append(Membership(case=household.case, person=person, role=role_of.get(slot, Role.OTHER)))
        if slot != "young":
            accounts.append(
                Account(
                    login_id=person.nir,
                    person=person,
                    password=password_hash,
                    email=person.email_on_file,
                    email_verified_at=now,
                    password_changed_at=now,
                    onboarded_at=now,
                )
            )
    Membership.objects.bulk_create(memberships)
    Account.objects.bulk_create(accounts)
    by_person = {a.person_id: a for a in Account.objects.filter(person__in=people_by_nir.values())}
    delegations = []
    for household in households:
        household.accounts = {slot: by_person[p.pk] for slot, p in household.people.items() if p.pk in by_person}
        if "partner" in household.people and household.index % 2 == 0:
            household.delegated = True
            delegations.append(
                Delegation(
                    case=household.case,
                    partner=household.people["partner"],
                    origin=DelegationOrigin.HOLDER,
                    granted_by=household.people["holder"],
                )
            )
    Delegation.objects.bulk_create(delegations)
    SignupRequest.objects.bulk_create(
        SignupRequest(
            case=h.case, person=h.people["child"], medium="email", destination=h.people["child"].email_on_file
        )
        for h in households
    )
    for household, request in zip(households, SignupRequest.objects.order_by("case__case_number"), strict=True):
        household.signup_request = request
    later = now + datetime.timedelta(days=90)
    Draft.objects.bulk_create(
        Draft(kind="aide-au-logement", case=h.case, author=h.people["holder"], current_step="foyer", saved_at=now,
              expires_at=later)
        for h in households
    )  # fmt: skip
    Submission.objects.bulk_create(
        Submission(reference=f"AL-2026-{h.index:04d}-ZZZ", kind="aide-au-logement", case=h.case,
                   author=h.people["holder"], data={"raw": {}, "summary": []}, submitted_at=now)
        for h in households
    )  # fmt: skip
    drafts = Draft.objects.filter(case__in=[h.case for h in households]).order_by("case__case_number")
    submissions = Submission.objects.filter(case__in=[h.case for h in households]).order_by("case__case_number")
    for household, draft, submission in zip(households, drafts, submissions, strict=True):
        household.draft, household.submission = draft, submission
    return World(households)


# --- Routes ----------------------------------------------------------------------------------------------------------

OK, REDIRECT, FORBIDDEN, NOT_FOUND, GONE, NOT_ALLOWED = 200, 302, 403, 404, 410, 405

Kwargs = Callable[[Household], dict]


@dataclass(frozen=True)
class Route:
    """How to reach one URL name, and what each viewer must get.

    `own`: expected GET status per viewer role on their own household's object (or the only object, for URLs without
    one). `foreign`: what a member gets for another household's object (None: the URL takes no object).
    `anonymous`: expected status signed out. `post`: also POST an empty form; it must not answer 500 and must change
    nothing the viewer may not change (the status is checked the same way, with `post_own`)."""

    kwargs: Kwargs | None = None
    own: dict[str, int] | int = OK
    foreign: int | None = None
    anonymous: int = REDIRECT
    post_own: dict[str, int] | int | None = None
    post_foreign: int | None = None
    # For URLs naming a case and an object in it: the viewer's case with another household's object. Whoever may
    # act on their case gets 404 (no such object for them); whoever may not gets the same refusal as for their own.
    mixed: Callable[[Household, Household], dict] | None = None
    # The methods tried on the mixed URL: a read-only view (a download) answers 405 to a POST before anything else.
    mixed_methods: tuple[str, ...] = ("get", "post")
    # Roles whose response may show the rest of their own household (the policy lets them see it).
    sees_household: tuple[str, ...] = ACTS_FOR_HOUSEHOLD
    # The agents' screens: expected status per agent role (AGENT_ROLES) of a GET and of an empty POST, walked with an
    # exchange open (with a household's holder) for whoever may receive people. None: not an agent's URL.
    agents: dict[str, int] | int | None = None
    post_agents: dict[str, int] | int | None = None

    def expected(self, table, role: str) -> int:
        return table if isinstance(table, int) else table.get(role, table.get("*", OK))


def case_kwargs(household: Household) -> dict:
    return {"case_number": household.case.case_number}


def letter_kwargs(household: Household, of: Household | None = None) -> dict:
    """A letter of the household's case as the case system names it (`case_system` below), or one of `of`'s."""
    return {"case_number": household.case.case_number, "letter_id": f"C-{(of or household).case.case_number}"}


def draft_kwargs(household: Household) -> dict:
    return {"handle": household.draft.token}


def reference_kwargs(household: Household) -> dict:
    return {"reference": household.submission.reference}


#: A household's requests: read and changed by whoever acts for it; for anyone else they do not exist.
FOR_HOUSEHOLD = {HOLDER: OK, DELEGATED: OK, "*": NOT_FOUND}


def request_kwargs(household: Household, of: Household | None = None) -> dict:
    return {"case_number": household.case.case_number, "request_id": f"D-{(of or household).case.case_number}"}


def agent_screen(reach: tuple[str, ...], get: int, post: int) -> Route:
    """An agent's screen (desk.access.agent_required): a citizen, the signed out and an agent whose second factor is
    not proven are sent to sign in; a verified agent without the screen's permission is refused; those in `reach`
    get `get` and `post`."""
    not_yet = {UNVERIFIED: REDIRECT, UNENROLLED: REDIRECT}
    return Route(
        own=REDIRECT,
        anonymous=REDIRECT,
        post_own=REDIRECT,
        agents={**not_yet, **dict.fromkeys(reach, get), "*": FORBIDDEN},
        post_agents={**not_yet, **dict.fromkeys(reach, post), "*": FORBIDDEN},
    )


#: An action of the exchange (POST only, back to the exchange or the search): a GET is refused once the agent may.
EXCHANGE_ACTION = agent_screen(RECEIVES, get=NOT_ALLOWED, post=REDIRECT)


ROUTES: dict[str, Route] = {
    # Public pages: the same for everyone; a signed-in person is sent on to their space.
    "accounts:login": Route(own=REDIRECT, anonymous=OK, post_own=REDIRECT),
    "accounts:logout": Route(own=NOT_ALLOWED, anonymous=NOT_ALLOWED, post_own=REDIRECT),
    "accounts:provisional_id": Route(own=REDIRECT, anonymous=OK, post_own=REDIRECT),
    "accounts:password_reset": Route(anonymous=OK, post_own=400),
    "accounts:password_reset_complete": Route(own=REDIRECT, anonymous=REDIRECT),
    # « J'ai reçu un code d'un conseiller »: open to everyone, signed in or not (an empty form: refused).
    "accounts:password_reset_desk": Route(own=OK, anonymous=OK, post_own=400),
    # The code step of a stepped-up login: only a session whose password was right has one (none here).
    "accounts:login_code": Route(own=REDIRECT, anonymous=REDIRECT, post_own=REDIRECT),
    # The footer's fixed pages: the same for everyone, read-only.
    "pages:accessibility": Route(anonymous=OK, post_own=NOT_ALLOWED),
    "pages:legal_notice": Route(anonymous=OK, post_own=NOT_ALLOWED),
    "pages:personal_data": Route(anonymous=OK, post_own=NOT_ALLOWED),
    "pages:cookies": Route(anonymous=OK, post_own=NOT_ALLOWED),
    # First login: a migrated account is sent on to the dashboard.
    "accounts:migration_password": Route(own=REDIRECT),
    "accounts:migration_contact": Route(own=REDIRECT),
    "accounts:migration_contact_code": Route(own=REDIRECT),
    "accounts:onboarding": Route(own=OK),
    # The personal space.
    "accounts:dashboard": Route(own=OK),
    "accounts:password_change": Route(own=OK, post_own=400),
    "accounts:reauth": Route(own=REDIRECT, post_own=400),  # the password was just typed: straight back
    # Account creation by members, invitations (a made-up token: real links are walked in test_invitation.py).
    "signup:start": Route(own=REDIRECT, anonymous=OK, post_own=REDIRECT),
    "signup:contact": Route(own=REDIRECT, anonymous=REDIRECT),
    "signup:code": Route(own=REDIRECT, anonymous=REDIRECT),
    "signup:pending": Route(own=OK, anonymous=OK),  # a fixed explanation, nothing personal
    "signup:invitation": Route(kwargs=lambda h: {"token": "x" * 43}, own=NOT_FOUND, anonymous=NOT_FOUND),
    "signup:invitation_code": Route(own=OK, anonymous=OK, post_own=400),
    "signup:invite": Route(
        kwargs=lambda h: {"case_number": h.case.case_number, "person_id": h.people["young"].pk},
        mixed=lambda own, other: {"case_number": own.case.case_number, "person_id": other.people["young"].pk},
        own={HOLDER: OK, "*": FORBIDDEN},
        foreign=NOT_FOUND,
        post_own={HOLDER: 400, "*": FORBIDDEN},
        post_foreign=NOT_FOUND,
    ),
    "signup:request_decide": Route(
        kwargs=lambda h: {"case_number": h.case.case_number, "request_id": h.signup_request.pk},
        mixed=lambda own, other: {"case_number": own.case.case_number, "request_id": other.signup_request.pk},
        own={HOLDER: OK, "*": FORBIDDEN},
        foreign=NOT_FOUND,
        post_own={HOLDER: 400, "*": FORBIDDEN},
        post_foreign=NOT_FOUND,
    ),
    # Mes informations, contacts, security history and sessions: only ever the person's own data.
    "profile:info": Route(own=OK, sees_household=()),
    "profile:correction": Route(own=OK, post_own=400, sees_household=()),
    "profile:download": Route(kwargs=lambda h: {"fmt": "json"}, own=OK, sees_household=()),
    "profile:contact_change": Route(kwargs=lambda h: {"medium": "email"}, own=OK, post_own=400, sees_household=()),
    "profile:contact_code": Route(own=REDIRECT, post_own=REDIRECT),
    "profile:not_me": Route(kwargs=lambda h: {"token": "x" * 40}, own=400, anonymous=400, post_own=400),
    "profile:security": Route(own=OK, sees_household=()),
    "profile:security_report": Route(own=NOT_ALLOWED, post_own=NOT_FOUND),
    "profile:sessions": Route(own=OK, sees_household=()),
    "profile:sessions_end": Route(own=NOT_ALLOWED, post_own=NOT_FOUND),
    # The household space.
    "households:home": Route(own=OK),
    "households:case": Route(kwargs=case_kwargs, own=OK, foreign=NOT_FOUND, post_own=NOT_ALLOWED),
    "households:delegation": Route(
        kwargs=case_kwargs,
        own=OK,
        foreign=NOT_FOUND,
        post_own={HOLDER: 400, "*": FORBIDDEN},
        post_foreign=NOT_FOUND,
    ),
    "households:separation": Route(
        kwargs=case_kwargs,
        own={CHILD: FORBIDDEN, OTHER: FORBIDDEN, "*": OK},
        foreign=NOT_FOUND,
        post_own={CHILD: FORBIDDEN, OTHER: FORBIDDEN, "*": 400},
        post_foreign=NOT_FOUND,
    ),
    # What the Caf has in the case (the case system played by `case_system` below): read by whoever acts for the
    # household; the others read the limited-access notice (200) and are refused the download and the answer (403).
    "case:payments": Route(kwargs=case_kwargs, own=OK, foreign=NOT_FOUND, post_own=NOT_ALLOWED),
    "case:letters": Route(kwargs=case_kwargs, own=OK, foreign=NOT_FOUND, post_own=NOT_ALLOWED),
    "case:letter_pdf": Route(
        kwargs=letter_kwargs,
        mixed=letter_kwargs,
        mixed_methods=("get",),
        own={HOLDER: OK, DELEGATED: OK, "*": FORBIDDEN},
        foreign=NOT_FOUND,
        post_own=NOT_ALLOWED,
    ),
    "case:requests": Route(kwargs=case_kwargs, own=OK, foreign=NOT_FOUND, post_own=NOT_ALLOWED),
    "case:answer": Route(
        kwargs=request_kwargs,
        mixed=request_kwargs,
        own={HOLDER: OK, DELEGATED: OK, "*": FORBIDDEN},
        foreign=NOT_FOUND,
        post_own={HOLDER: 400, DELEGATED: 400, "*": FORBIDDEN},  # an empty answer: refused, nothing kept
        post_foreign=NOT_FOUND,
    ),
    # « Mes démarches »: a draft and a receipt of the holder, by their handle (procedures.selectors).
    "procedures:index": Route(own=OK, post_own=NOT_ALLOWED),
    "procedures:start": Route(kwargs=lambda h: {"kind": "aide-au-logement"}, own=NOT_ALLOWED, post_own=REDIRECT),
    "procedures:resume": Route(
        kwargs=draft_kwargs, own={HOLDER: REDIRECT, DELEGATED: REDIRECT, "*": NOT_FOUND}, foreign=NOT_FOUND
    ),
    "procedures:step": Route(
        kwargs=lambda h: {**draft_kwargs(h), "step": "foyer"},
        own=FOR_HOUSEHOLD,
        foreign=NOT_FOUND,
        post_own={HOLDER: 400, DELEGATED: 400, "*": NOT_FOUND},  # no action chosen: refused, nothing saved
        post_foreign=NOT_FOUND,
    ),
    "procedures:delete": Route(
        kwargs=draft_kwargs,
        own=FOR_HOUSEHOLD,
        foreign=NOT_FOUND,
        post_own={HOLDER: REDIRECT, DELEGATED: REDIRECT, "*": NOT_FOUND},
        post_foreign=NOT_FOUND,
    ),
    "procedures:receipt": Route(kwargs=reference_kwargs, own=FOR_HOUSEHOLD, foreign=NOT_FOUND, post_own=NOT_ALLOWED),
    "procedures:receipt_pdf": Route(
        kwargs=reference_kwargs, own=FOR_HOUSEHOLD, foreign=NOT_FOUND, post_own=NOT_ALLOWED
    ),
    # « Faire une demande » without an account: a signed-in person is sent to « Mes démarches »; the later steps
    # without the flow's session send back to its start.
    "signup:applicant_start": Route(own=REDIRECT, anonymous=OK, post_own=REDIRECT),
    "signup:applicant_contact": Route(own=REDIRECT, anonymous=REDIRECT, post_own=REDIRECT),
    "signup:applicant_code": Route(own=REDIRECT, anonymous=REDIRECT, post_own=REDIRECT),
    "signup:applicant_welcome": Route(own=OK, sees_household=()),
    # FranceConnect (not configured here: no button, no flow; tests/web/franceconnect walks it configured). Without a
    # flow of this browser, the link and new-account steps send back to the login page.
    "franceconnect:start": Route(own=NOT_ALLOWED, anonymous=NOT_ALLOWED, post_own=NOT_FOUND),
    "franceconnect:callback": Route(own=NOT_FOUND, anonymous=NOT_FOUND),
    "franceconnect:link": Route(own=REDIRECT, anonymous=REDIRECT, post_own=REDIRECT),
    "franceconnect:create": Route(own=REDIRECT, anonymous=REDIRECT, post_own=REDIRECT),
    "franceconnect:logged_out": Route(own=OK, anonymous=OK),
    "franceconnect:unlink": Route(own=REDIRECT, anonymous=REDIRECT, post_own=REDIRECT),
    # The voice server's webhooks: POST only, and only with the provider's signature (tests/phone plays the calls).
    "phone:incoming": Route(own=NOT_ALLOWED, anonymous=NOT_ALLOWED, post_own=FORBIDDEN),
    "phone:step": Route(
        kwargs=lambda household: {"name": "welcome"}, own=NOT_ALLOWED, anonymous=NOT_ALLOWED, post_own=FORBIDDEN
    ),
    # The agents' screens (moncompte/desk). Signing in: the password page for whoever is not an agent signed in (a
    # citizen reads the form, their account does not open it); a signed-in agent is sent on to their next step, or
    # once verified to their screens; an empty form is refused to anyone. The code and enrolment steps answer the
    # agent at that step and send everyone else on.
    "desk:login": Route(own=OK, anonymous=OK, post_own=400, agents=REDIRECT, post_agents=400),
    "desk:second_factor": Route(
        own=REDIRECT,
        anonymous=REDIRECT,
        post_own=REDIRECT,
        agents={UNVERIFIED: OK, "*": REDIRECT},
        post_agents={UNVERIFIED: 400, "*": REDIRECT},
    ),
    "desk:enrol": Route(
        own=REDIRECT,
        anonymous=REDIRECT,
        post_own=REDIRECT,
        # Signed in without the password's POST, the agent has no secret to scan yet: the page offers to make one.
        agents={UNENROLLED: OK, "*": REDIRECT},
        post_agents={UNENROLLED: OK, "*": REDIRECT},
    ),
    # Every verified agent's own backup codes (a POST makes new ones).
    # An empty POST: new codes need a code of the application (400).
    "desk:backup_codes": agent_screen(SIGNED_IN_AGENTS, get=OK, post=400),
    "desk:logout": Route(
        own=NOT_ALLOWED, anonymous=NOT_ALLOWED, post_own=REDIRECT, agents=NOT_ALLOWED, post_agents=REDIRECT
    ),
    # Receiving a person: accounts.desk_use (not the security team's). An empty search is refused.
    "desk:home": agent_screen(RECEIVES, get=OK, post=400),
    "desk:exchange": agent_screen(RECEIVES, get=OK, post=NOT_ALLOWED),
    "desk:exchange_open": EXCHANGE_ACTION,
    "desk:reset_code": EXCHANGE_ACTION,
    "desk:invitation": EXCHANGE_ACTION,
    "desk:error_report": EXCHANGE_ACTION,
    "desk:exchange_end": EXCHANGE_ACTION,
    # The supervisors' list of agents: accounts.second_factor_reset, which a superuser holds too (every permission
    # outside the security team's). An empty POST is refused with a message on the page (200).
    # Supervisors and the security team reset second factors (each only of agents whose roles theirs cover).
    "desk:team": agent_screen((SUPERVISOR, SECURITY, SUPERUSER), get=OK, post=OK),
}

#: URL names checked elsewhere: the admin (staff only: its security pages by every agent role in ADMIN_PAGES below,
#: the rest in tests/households/test_admin.py and below), the language switch (tests/test_i18n.py).
NOT_IN_MATRIX = {"set_language"}


def site_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns, "")
    return names - NOT_IN_MATRIX


def test_every_url_of_the_site_is_in_the_matrix():
    missing = site_url_names() - set(ROUTES)
    assert not missing, f"URLs without a line in the access matrix: {sorted(missing)}"
    assert not set(ROUTES) - site_url_names(), "lines of the matrix for URLs that no longer exist"


# --- The walk --------------------------------------------------------------------------------------------------------


@pytest.fixture
def world(db) -> World:
    return build_world()


def viewers(world: World) -> list[tuple[str, Household]]:
    """One household per role, spread over the world (a different household for each URL, see `pick`)."""
    return [
        (HOLDER, world.households),
        (DELEGATED, world.with_partner(delegated=True)),
        (PARTNER, world.with_partner(delegated=False)),
        (CHILD, world.households),
        (OTHER, world.with_other()),
    ]


def _slot(role: str) -> str:
    return {DELEGATED: "partner"}.get(role, role)


def forbidden_tokens(world: World, role: str, household: Household, route: Route) -> set[str]:
    """What this viewer must never read: every other household, and their own household's other members unless
    the policy lets them see the household."""
    tokens: set[str] = set()
    for other in world.households:
        if other is not household:
            tokens |= other.all_tokens()
    if role not in route.sees_household:
        me = household.people[_slot(role)]
        for person in household.people.values():
            if person.pk != me.pk:
                tokens |= household.tokens(person)
    return tokens


WORDS = re.compile(r"[\w.+@-]+")


def leaks(response, tokens: set[str]) -> set[str]:
    body = response.content.decode(errors="replace")
    found = set(WORDS.findall(body)) & tokens
    # Words are split on punctuation that may stick to a token: check the longer tokens as substrings too.
    return found | {t for t in tokens if "@" in t and t in body}


def _check(client, method, url, expected, tokens, label, failures):
    response = client.post(url, {}) if method == "post" else client.get(url)
    # What the viewer typed in the address (a foreign case number) may come back to them: it is not a leak.
    tokens = {token for token in tokens if token not in url}
    if response.status_code != expected:
        failures.append(f"{label}: {method.upper()} {url} → {response.status_code}, expected {expected}")
    if response.status_code >= 500:
        return
    leaked = leaks(response, tokens)
    if leaked:
        failures.append(f"{label}: {method.upper()} {url} shows data it must not: {sorted(leaked)[:5]}")


def agents_made() -> dict[str, Account]:
    """An agent per agent role (AGENT_ROLES)."""
    return {
        UNVERIFIED: agent_make("matrice-sans-code", roles=(agents.DESK,)),
        UNENROLLED: agent_make("matrice-sans-appli", roles=(agents.DESK,), enrolled=False),
        DESK: agent_make("matrice-accueil", roles=(agents.DESK,)),
        SUPERVISOR: agent_make("matrice-superviseur", roles=(agents.SUPERVISOR,)),
        SECURITY: agent_make("matrice-securite", roles=(agents.SECURITY,)),
        SUPERUSER: agent_make("matrice-superutilisateur", superuser=True),
    }


def agent_signed_in(client: Client, role: str, account: Account) -> Client:
    """The browser signed in as the agent, as the desk's login leaves it at that role's step: the password only for
    UNVERIFIED and UNENROLLED, both factors for the others. (One browser for every viewer: a new one would load the
    whole middleware again, static files included.)"""
    client.logout()
    if role in (UNVERIFIED, UNENROLLED):
        client.force_login(account, backend=STAFF_BACKEND)
        return client
    return agent_client(account, client)


def exchange_open(agent: Client, household: Household, slot: str):
    """The agent searches the household's case number and receives its member `slot`, identified at the desk."""
    found = agent.post(reverse("desk:home"), {"query": household.case.case_number})
    assert found.status_code == 200, found.status_code
    opened = agent.post(
        reverse("desk:exchange_open"), {"person": household.people[slot].pk, "identified_by": "desk_id"}
    )
    assert opened.status_code == 302 and opened["Location"] == reverse("desk:exchange"), opened.status_code
    return opened


CASE_SYSTEM = "http://case-system.test/caf"
#: What the case system plays for every case: a PDF (what the page hands out is the case system's bytes).
LETTER_PDF = b"%PDF-1.4\n% lettre\n%%EOF\n"


def _case_system(request: httpx.Request) -> httpx.Response:
    """The Caf's case system for every case of the world: one payment, one letter "C-<case>", one request
    "D-<case>" expecting a text. A letter or request id of another case is unknown (404), as the real one says."""
    body = json.loads(request.content or b"{}")
    number = body.get("numero_allocataire", "")
    day = timezone.localdate().isoformat()
    path = request.url.path.removeprefix("/caf/")
    if path == "paiements":
        payment = {"date": day, "prestation": "Aide au logement", "montant": "245.30", "debut_periode": day}
        return httpx.Response(200, json={"paiements": [{**payment, "fin_periode": day}]})
    if path == "courriers":
        return httpx.Response(200, json={"courriers": [{"id": f"C-{number}", "date": day, "objet": "Courrier"}]})
    if path == "courriers/document":
        if body.get("id") != f"C-{number}":
            return httpx.Response(404, json={"erreur": "courrier_inconnu"})
        return httpx.Response(200, content=LETTER_PDF, headers={"Content-Type": "application/pdf"})
    if path == "demandes":
        asked = {"id": f"D-{number}", "date": day, "objet": "Situation", "texte": "Précisez votre situation."}
        return httpx.Response(200, json={"demandes": [{**asked, "attendu": "texte", "echeance": None}]})
    return httpx.Response(404, json={})


@pytest.fixture
def case_system(settings, monkeypatch):
    """The case system (payments, letters, requests), played in process: the pages read what it says per case."""
    settings.PARTNER_CASE_SYSTEM_URL = CASE_SYSTEM
    monkeypatch.setattr(partners_client, "transport", httpx.MockTransport(_case_system))


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_each_url_answers_each_role_as_the_policy_says_and_leaks_nothing(name, world, client, case_system):
    route = ROUTES[name]
    failures: list[str] = []
    pick = sorted(ROUTES).index(name)
    everyone_else = set().union(*(h.all_tokens() for h in world.households))

    def url_for(household: Household) -> str:
        return reverse(name, kwargs=route.kwargs(household) if route.kwargs else None)

    # Signed out: no personal data at all.
    target = world.households[pick % len(world.households)]
    _check(client, "get", url_for(target), route.anonymous, everyone_else, "anonymous", failures)

    for role, candidates in viewers(world):
        household = candidates[pick % len(candidates)]
        foreign = world.households[(household.index + 1 + pick) % len(world.households)]
        client.force_login(household.accounts[_slot(role)], backend="moncompte.accounts.authentication.NirBackend")
        tokens = forbidden_tokens(world, role, household, route)
        _check(client, "get", url_for(household), route.expected(route.own, role), tokens, role, failures)
        if route.post_own is not None:
            _check(client, "post", url_for(household), route.expected(route.post_own, role), tokens, role, failures)
        if route.foreign is not None:
            _check(client, "get", url_for(foreign), route.foreign, tokens, f"{role} (foreign)", failures)
            if route.post_foreign is not None:
                _check(client, "post", url_for(foreign), route.post_foreign, tokens, f"{role} (foreign)", failures)
        if route.mixed is not None:
            mixed_url = reverse(name, kwargs=route.mixed(household, foreign))
            own_status = route.expected(route.own, role)
            expected = NOT_FOUND if own_status in (OK, 400) else own_status
            for method in route.mixed_methods:
                _check(client, method, mixed_url, expected, tokens, f"{role} (own case, foreign object)", failures)
        client.logout()

    if route.agents is not None:
        received = world.households[(pick * 7) % len(world.households)]
        for role, account in agents_made().items():
            agent = agent_signed_in(client, role, account)
            tokens = everyone_else
            if role in RECEIVES:  # the screens as they are while a person is received: the holder of `received`
                exchange_open(agent, received, "holder")
                tokens = everyone_else - received.all_tokens()
            url = url_for(target)
            _check(agent, "get", url, route.expected(route.agents, role), tokens, f"agent {role}", failures)
            if route.post_agents is not None:
                expected = route.expected(route.post_agents, role)
                _check(agent, "post", url, expected, tokens, f"agent {role}", failures)
    assert not failures, "\n".join(failures)


#: The admin's pages by agent role: any verified agent reaches the index (it lists what their permissions show); the
#: incidents, the « Ce n'était pas moi » reports and the security alerts are the security team's alone, a superuser
#: outside the team included (Account.has_perm). Whoever has not proven both factors, a citizen or nobody signed in
#: is sent to the admin's login (which sends to the desk's).
SECURITY_TEAM_ONLY = {UNVERIFIED: REDIRECT, UNENROLLED: REDIRECT, SECURITY: OK, "*": FORBIDDEN}
ADMIN_PAGES: dict[str, dict[str, int]] = {
    "admin:index": {UNVERIFIED: REDIRECT, UNENROLLED: REDIRECT, "*": OK},
    "admin:incidents_incident_changelist": SECURITY_TEAM_ONLY,
    "admin:accounts_securityreport_changelist": SECURITY_TEAM_ONLY,
    "admin:journal_securityalert_changelist": SECURITY_TEAM_ONLY,
    "admin:journal_entry_changelist": SECURITY_TEAM_ONLY,
    "admin:journal_read_changelist": SECURITY_TEAM_ONLY,
}


@pytest.mark.parametrize("name", sorted(ADMIN_PAGES))
def test_the_admin_answers_each_agent_role_as_the_policy_says(name, db, client):
    households = build_world(count=3).households
    everyone = set().union(*(h.all_tokens() for h in households))
    table = ADMIN_PAGES[name]
    url = reverse(name)
    failures: list[str] = []
    _check(client, "get", url, REDIRECT, everyone, "anonymous", failures)
    for role in MEMBER_ROLES:
        household = {PARTNER: households[1], DELEGATED: households[2]}.get(role, households[0])  # as build_world
        client.force_login(household.accounts[_slot(role)], backend="moncompte.accounts.authentication.NirBackend")
        _check(client, "get", url, REDIRECT, everyone, role, failures)
        client.logout()
    for role, account in agents_made().items():
        agent = agent_signed_in(client, role, account)
        _check(agent, "get", url, Route().expected(table, role), everyone, f"agent {role}", failures)
    assert not failures, "\n".join(failures)


def test_an_agents_exchange_tells_each_member_only_what_the_policy_lets_them_be_told(world, client, case_system):
    """Over the world, an agent receives each kind of member of a few households: the exchange shows nobody of
    another household, and the household's other members, payments and letters only to whoever acts for it."""
    agent = agent_client(agent_make("matrice-guichet", roles=(agents.DESK,)), client)
    route = ROUTES["desk:exchange"]
    failures: list[str] = []
    received = []
    for role, candidates in viewers(world):
        for household in candidates[:: len(candidates) // 3][:3]:  # three households per role, spread over the world
            person = household.people[_slot(role)]
            exchange_open(agent, household, _slot(role))
            received.append(person.pk)
            label = f"exchange with the {role} of {household.case.case_number}"
            tokens = forbidden_tokens(world, role, household, route)
            _check(agent, "get", reverse("desk:exchange"), OK, tokens, label, failures)
            text = agent.get(reverse("desk:exchange")).content.decode()
            words = set(WORDS.findall(text))
            if not {person.first_name, person.last_name} <= words:
                failures.append(f"{label}: the page does not name the person received")
            others = [p for p in household.people.values() if p.pk != person.pk]
            if role in ACTS_FOR_HOUSEHOLD:
                missing = [p.full_name for p in others if not {p.first_name, p.last_name} <= words]
                if missing or "Vous pouvez lui communiquer les informations du dossier." not in text:
                    failures.append(f"{label}: the household is not shown (members missing: {missing})")
                if "245,30" not in text:
                    failures.append(f"{label}: the case system's payment is not shown")
            else:
                if "Vous pouvez lui communiquer" in text or "245,30" in text:
                    failures.append(f"{label}: the case is told to a member the policy limits to their own data")
                if "ne communiquez que ses propres informations" not in text and "Membre du foyer" not in text:
                    failures.append(f"{label}: the agent is not told what not to say")
    consulted = Entry.objects.filter(kind="desk.consulted", channel="desk", actor_account_id=agent.agent.pk)
    assert sorted(consulted.values_list("person_id", flat=True)) == sorted(received)
    assert len(received) == 3 * len(MEMBER_ROLES)
    assert not failures, "\n".join(failures)


def test_the_case_pages_of_the_matrix_read_what_the_case_system_says(db, client, case_system):
    """The rows of the case pages above are walked with the case system answering, not with the notice."""
    household = build_world(count=3).households[0]
    client.force_login(household.accounts["holder"], backend="moncompte.accounts.authentication.NirBackend")
    number = household.case.case_number

    assert "245,30" in client.get(reverse("case:payments", kwargs=case_kwargs(household))).content.decode()
    assert client.get(reverse("case:letter_pdf", kwargs=letter_kwargs(household))).content == LETTER_PDF
    assert (
        f"D-{number}/repondre/" in client.get(reverse("case:requests", kwargs=case_kwargs(household))).content.decode()
    )


def test_the_world_has_every_kind_of_member(world):
    assert len(world.households) >= 200
    assert world.with_partner(delegated=True) and world.with_partner(delegated=False) and world.with_other()
    assert Membership.objects.count() == sum(len(h.people) for h in world.households)
    young = world.households[0].people["young"]
    assert young.age_on(datetime.date.today()) < 15 and not Account.objects.filter(person=young).exists()
