"""Issue 12, item 8, URL by URL: no response of the site may be kept by a shared cache (DESIGN §7, the cause of 10
October 2021). Every answer, whatever its status (200, 302, 400, 403, 404, 405…), says `Cache-Control: private,
no-store` and `Vary: Cookie`.

The walk takes every URL of the site from the URL resolver and the access matrix's table (tests/test_access_matrix.py:
a URL added without a line there fails here too), for each member role, with their own objects, another household's
and the mixed ones, by GET and by the matrix's POSTs, signed out too; then every URL of the agents' admin, as a
superuser, with a real object where the URL names one. The proxy test (`test_caching_proxy.py`) shows what these
headers do to a real nginx."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import NoReverseMatch, URLPattern, URLResolver, reverse
from django.urls.resolvers import RegexPattern, RoutePattern

from moncompte.accounts.models import Account
from tests.agents import agent_client, agent_make
from tests.test_access_matrix import (  # noqa: F401 (case_system: a fixture)
    DELEGATED,
    ROUTES,
    Household,
    build_world,
    case_system,
    site_url_names,
    viewers,
)

NIR_BACKEND = "moncompte.accounts.authentication.NirBackend"
STAFF_BACKEND = "moncompte.accounts.authentication.StaffBackend"


def not_stored(response) -> str | None:
    """None when the response may be kept by no cache; otherwise what it says instead."""
    cache_control = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    vary = {part.strip().lower() for part in response.get("Vary", "").split(",")}
    if {"private", "no-store"} <= cache_control and "cookie" in vary:
        return None
    return f"{response.status_code}: Cache-Control {response.get('Cache-Control')!r}, Vary {response.get('Vary')!r}"


def member_requests(world) -> list[tuple[str, str, str, Account | None, str]]:
    """(label, method, URL, account signed in or None, URL name) for every line of the matrix and every viewer,
    the GETs first (a POST may change what a later GET finds: a draft deleted, a session ended)."""
    gets, posts = [], []
    households = world.households
    for index, name in enumerate(sorted(ROUTES)):
        route = ROUTES[name]

        def url(household: Household, route=route, name=name) -> str:
            return reverse(name, kwargs=route.kwargs(household) if route.kwargs else None)

        gets.append(("anonymous", "get", url(households[index % len(households)]), None, name))
        for role, candidates in viewers(world):
            household = candidates[index % len(candidates)]
            foreign = households[(household.index + 1) % len(households)]
            account = household.accounts[{DELEGATED: "partner"}.get(role, role)]
            gets.append((role, "get", url(household), account, name))
            if route.foreign is not None:
                gets.append((f"{role} (foreign)", "get", url(foreign), account, name))
            if route.mixed is not None:
                mixed = reverse(name, kwargs=route.mixed(household, foreign))
                gets.append((f"{role} (mixed)", "get", mixed, account, name))
                if "post" in route.mixed_methods:
                    posts.append((f"{role} (mixed)", "post", mixed, account, name))
            if route.post_own is not None:
                posts.append((role, "post", url(household), account, name))
            if route.post_foreign is not None:
                posts.append((f"{role} (foreign)", "post", url(foreign), account, name))
    return gets + posts


@pytest.fixture
def world(db):
    return build_world(count=6)  # every kind of member: holder, delegated and plain partner, child, other adult


@pytest.mark.usefixtures("case_system")
def test_every_url_of_the_site_answers_every_viewer_private_no_store_vary_cookie(world, client):
    unknown = site_url_names() - set(ROUTES)
    assert not unknown, f"URLs the walk cannot build (add them to the access matrix's ROUTES): {sorted(unknown)}"

    failures, statuses, signed_in = [], Counter(), 0
    requests = member_requests(world)
    for label, method, url, account, name in requests:
        client.logout()
        if account is not None:
            client.force_login(account, backend=NIR_BACKEND)
        response = client.post(url, {}) if method == "post" else client.get(url)
        statuses[response.status_code] += 1
        signed_in += response.wsgi_request.user.is_authenticated
        if problem := not_stored(response):
            failures.append(f"{label}: {method.upper()} {url} ({name}) → {problem}")
    # The language switch, the one URL outside the matrix (tests/test_i18n.py walks it).
    client.force_login(world.households[0].accounts["holder"], backend=NIR_BACKEND)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/mon-espace/"})
    statuses[response.status_code] += 1
    if problem := not_stored(response):
        failures.append(f"holder: POST {reverse('set_language')} → {problem}")

    assert not failures, f"{len(failures)} responses a cache may keep:\n" + "\n".join(failures)
    # The walk met every kind of answer, signed in: not only pages that happen to be protected.
    assert {200, 302, 400, 403, 404, 405} <= set(statuses), statuses
    assert signed_in > len(requests) * 3 // 4, f"only {signed_in} of {len(requests)} requests were signed in"
    print(f"\n{len(requests) + 1} requests ({signed_in} signed in), statuses {dict(sorted(statuses.items()))}")


# --- The agents' admin ----------------------------------------------------------------------------------------------


def admin_url_patterns() -> list[tuple[str, set[str]]]:
    """(URL name, names of its arguments) of every named URL of the admin site."""
    found = []

    def arguments(pattern) -> set[str]:
        if isinstance(pattern, RoutePattern):
            return set(pattern.converters)
        if isinstance(pattern, RegexPattern):
            return set(pattern.regex.groupindex)
        return set()

    def walk(patterns, above: set[str]):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, above | arguments(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name:
                found.append((pattern.name, above | arguments(pattern.pattern)))

    walk(admin.site.get_urls(), set())
    return found


def admin_url(name: str, arguments: set[str]) -> str:
    """The URL `name` of the admin, with a real object of its model where it names one (1 where none exists)."""
    models = {f"{model._meta.app_label}_{model._meta.model_name}": model for model in admin.site._registry}
    model = next((m for key, m in models.items() if name.startswith(f"{key}_")), None)
    first = model._default_manager.order_by("pk").first() if model is not None else None
    values = {
        "app_label": "accounts",
        "content_type_id": ContentType.objects.get_for_model(Account).pk,
        "object_id": first.pk if first is not None else 1,
        "id": first.pk if first is not None else 1,
    }
    return reverse(f"admin:{name}", kwargs={argument: values.get(argument, 1) for argument in arguments})


@pytest.mark.usefixtures("world")
# django-dsfr's own admin (its site settings) has a URLField without `assume_scheme`: Django warns on its add page.
@pytest.mark.filterwarnings("ignore:The default scheme will be changed::")
def test_every_url_of_the_admin_answers_an_agent_private_no_store_vary_cookie(client):
    agent_client(agent_make("agent-cache", roles=("security",), superuser=True), client)

    failures, status_of, unbuilt = [], {}, []
    patterns = admin_url_patterns()
    for name, arguments in patterns:
        try:
            url = admin_url(name, arguments)
        except NoReverseMatch:
            unbuilt.append(name)
            continue
        response = client.get(url)
        status_of[name] = response.status_code
        if problem := not_stored(response):
            failures.append(f"agent: GET {url} (admin:{name}) → {problem}")

    assert not unbuilt, f"admin URLs the walk cannot build: {unbuilt}"
    assert not failures, f"{len(failures)} admin responses a cache may keep:\n" + "\n".join(failures)
    # The agent did see the admin's pages: its index and every list of objects.
    lists = {name: status for name, status in status_of.items() if name == "index" or name.endswith("_changelist")}
    assert len(lists) > 10 and set(lists.values()) == {200}, lists
    statuses = Counter(status_of.values())
    print(f"\n{len(patterns)} admin URLs, statuses {dict(sorted(statuses.items()))}")
