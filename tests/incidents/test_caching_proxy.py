"""Issue 12, item 8: the cause class of 10 October 2021 is gone. That evening a shared cache served one person's case
page to others. Here two gunicorn servers share the database behind Debian's nginx, configured as the dangerous
proxy of 2021: it caches whatever the app lets it cache, aggressively (`proxy_cache_valid any 10m` for a response
without caching headers), under a key without the cookie (`$scheme$host$request_uri`). It honours the app's headers
(no `proxy_ignore_headers`): the app's `Cache-Control: private, no-store`, `Vary: Cookie` and `Set-Cookie` decide.

Thirty households' holders sign in through it at the same time and load their pages over and over, concurrently:
each page shows its own person's name and case number, never anyone else's, and nginx never answers a signed-in
page from its cache. The second test proves the cache was on and able to cache: the static files, which the app
lets be cached, are served from it the second time.

nginx is installed by `make system-packages` (which `.ci/run`, through `make test`, runs). Without it these tests
fail, saying so: a proof that does not run proves nothing."""

from __future__ import annotations

import contextlib
import html
import json
import os
import pwd
import random
import re
import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers import HOLDER_PASSWORD, free_port
from tests.incidents.processes import manage, server

HOUSEHOLDS = 30
ROUNDS = 5  # loads of each page by each person
LOGINS = 4  # logins at the same time
THREADS = 8  # page loads at the same time
PAGES = ("/mon-espace/", "/mon-foyer/", "/mon-espace/mes-informations/", "/mon-foyer/{case}/")
STATIC = "/static/dsfr/dist/dsfr.min.css"
#: nginx's cache statuses of an answer taken from its cache (MISS, BYPASS and EXPIRED come from the app).
FROM_CACHE = {"HIT", "STALE", "UPDATING", "REVALIDATED"}
WORDS = re.compile(r"[\w.+@-]+")

#: Run in a `manage.py shell` of the servers' database: the households, committed, as JSON on the last line.
MAKE_HOUSEHOLDS = f"""
import json
from tests.factories import family

households = []
for _ in range({HOUSEHOLDS}):
    home = family(partner=True, children=1)
    members = [home.holder, home.partner, *home.children]
    households.append({{
        "nir": home.holder.nir,
        "names": [home.holder.birth_name, home.holder.given_names],
        "case": home.case.case_number,
        "tokens": [token for person in members
                   for token in (person.birth_name, person.given_names, person.nir, person.email_on_file)],
    }})
print(json.dumps(households))
"""

NGINX_CONF = """\
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 512; }}
http {{
    log_format cache '$request $status $upstream_cache_status $upstream_addr';
    access_log {dir}/access.log cache;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    proxy_cache_path {dir}/cache levels=1:2 keys_zone=pages:10m max_size=100m inactive=10m use_temp_path=off;

    upstream moncompte {{
{upstreams}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://moncompte;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # The dangerous cache of 2021: everything the app lets be cached, for 10 minutes when it says nothing,
            # under a key without the cookie. The app's Cache-Control, Vary and Set-Cookie are honoured.
            proxy_cache pages;
            proxy_cache_key "$scheme$host$request_uri";
            proxy_cache_valid any 10m;
{extra}
            add_header X-Cache-Status $upstream_cache_status always;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found is None:
        pytest.fail(
            "nginx is not installed: `make system-packages` (run by `make test`, hence by `.ci/run`) installs it "
            "(apt-get install nginx)",
            pytrace=False,
        )
    return found


@contextlib.contextmanager
def nginx(directory: Path, upstreams: list[int], extra: str = "") -> Iterator[int]:
    """Debian's nginx in the foreground, everything of it in `directory`, as the caching proxy of `upstreams`."""
    binary = nginx_binary()
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = directory / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            # Run as root, nginx's workers would otherwise become `nobody`, who cannot enter pytest's folders.
            user=f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else "",
            dir=directory,
            port=port,
            upstreams="\n".join(f"        server 127.0.0.1:{upstream};" for upstream in upstreams),
            extra=extra,
        )
    )
    error_log = directory / "error.log"
    with (directory / "stderr.log").open("w") as output:
        process = subprocess.Popen(
            [binary, "-p", str(directory), "-c", str(conf), "-g", "daemon off;"], stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            logs = [p.read_text() for p in (directory / "stderr.log", error_log) if p.exists()]
            assert process.poll() is None and time.monotonic() < deadline, "nginx did not start:\n" + "\n".join(logs)
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class Holder:
    nir: str
    names: list[str]
    case: str
    tokens: list[str]

    def own_tokens(self) -> set[str]:
        return {token.lower() for token in [*self.tokens, self.case]}


@dataclass
class Load:
    """One page load, as the proxy answered it."""

    holder: Holder
    url: str
    status: int
    cache_status: str
    upstream: str
    cache_control: str
    vary: str
    body: str


def words(body: str) -> set[str]:
    return set(WORDS.findall(html.unescape(body).lower()))


def sign_in(client: httpx.Client, holder: Holder) -> None:
    """The login page as a browser goes through it: its CSRF cookie and token, then the NIR and the password."""
    page = client.get("/connexion/")
    assert page.status_code == 200, page.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        "/connexion/",
        data={"csrfmiddlewaretoken": token, "identifier": holder.nir, "password": HOLDER_PASSWORD},
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/mon-espace/", (
        f"{holder.nir}: login answered {answer.status_code} {answer.headers.get('Location')}"
    )


def load(client: httpx.Client, holder: Holder, url: str) -> Load:
    response = client.get(url)
    return Load(
        holder,
        url,
        response.status_code,
        response.headers.get("X-Cache-Status", ""),
        response.headers.get("X-Upstream", ""),
        response.headers.get("Cache-Control", ""),
        response.headers.get("Vary", ""),
        response.text,
    )


def problems_of(loads: list[Load], holders: list[Holder]) -> list[str]:
    """What is wrong with each load: not the page asked for, a foreign person or case on it, served from cache."""
    everyone = {token for holder in holders for token in holder.own_tokens()}
    problems = []
    for item in loads:
        label = f"{item.holder.names[1]} {item.holder.names[0]} ({item.holder.case}) GET {item.url}"
        seen = words(item.body)
        foreign = (seen & everyone) - item.holder.own_tokens()
        if item.status != 200:
            problems.append(f"{label}: {item.status}")
        if foreign:
            owners = sorted({h.case for h in holders if h is not item.holder and foreign & h.own_tokens()})
            problems.append(f"{label}: shows other people's data {sorted(foreign)[:6]} (cases {owners})")
        missing = {token.lower() for token in [*item.holder.names, item.holder.case]} - seen
        if missing:
            problems.append(f"{label}: its own person's {sorted(missing)} are not on the page")
        if item.cache_status in FROM_CACHE:
            problems.append(f"{label}: nginx answered from its cache ({item.cache_status})")
        cache_control = {part.strip() for part in item.cache_control.split(",")}
        if not {"private", "no-store"} <= cache_control or "cookie" not in item.vary.lower():
            problems.append(f"{label}: Cache-Control {item.cache_control!r}, Vary {item.vary!r}")
    return problems


@pytest.fixture
def holders(environment) -> list[Holder]:
    """Thirty households (holder, partner, child) in the servers' database, their holders migrated."""
    output = manage(environment, "shell", "--no-imports", "-c", MAKE_HOUSEHOLDS)
    return [Holder(**fields) for fields in json.loads(output.strip().splitlines()[-1])]


@pytest.fixture
def servers(environment) -> Iterator[list[int]]:
    nginx_binary()  # before starting anything: without nginx, fail (or skip) at once
    with server(environment) as first, server(environment) as second:
        yield [first, second]


def every_page_concurrently(port: int, holders: list[Holder]) -> list[Load]:
    """Sign every holder in, LOGINS at a time, each with a client of their own (their own cookies), and as soon as
    one is signed in, queue the loads of each of their pages ROUNDS times, shuffled, for THREADS threads: logins and
    the page loads of everyone run side by side, several loads of one person at the same time too."""
    clients = {holder.nir: httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) for holder in holders}
    shuffle = random.Random(2021).shuffle

    def person(holder: Holder, pages: ThreadPoolExecutor) -> list[Future]:
        sign_in(clients[holder.nir], holder)
        urls = [page.format(case=holder.case) for page in PAGES for _ in range(ROUNDS)]
        shuffle(urls)
        return [pages.submit(load, clients[holder.nir], holder, url) for url in urls]

    try:
        with ThreadPoolExecutor(LOGINS) as logins, ThreadPoolExecutor(THREADS) as pages:
            signed_in = [logins.submit(person, holder, pages) for holder in holders]
            return [page.result() for login in signed_in for page in login.result()]
    finally:
        for client in clients.values():
            client.close()


@pytest.mark.slow
def test_behind_a_shared_cache_every_person_only_ever_sees_their_own_pages(tmp_path, servers, holders):
    started = time.monotonic()
    with nginx(tmp_path / "nginx", servers) as port:
        loads = every_page_concurrently(port, holders)
    elapsed = time.monotonic() - started

    problems = problems_of(loads, holders)
    assert not problems, f"{len(problems)} wrong loads of {len(loads)}:\n" + "\n".join(problems[:40])
    upstreams = Counter(item.upstream for item in loads)
    assert len(upstreams) == 2, f"both app servers should have answered: {upstreams}"
    statuses = Counter(item.cache_status for item in loads)
    print(
        f"\n{len(holders)} people signed in ({2 * len(holders)} requests) and {len(loads)} page loads through nginx "
        f"in {elapsed:.1f} s; cache statuses {dict(statuses)}; app servers {dict(upstreams)}"
    )


@pytest.mark.slow
def test_the_same_proxy_does_cache_what_the_app_lets_it_cache(tmp_path, servers):
    """Not a vacuous proof: the proxy above caches. The DSFR style sheet (public, served by WhiteNoise) comes from
    nginx's cache the second time; the login page, anonymous too but `private, no-store`, never does."""
    with nginx(tmp_path / "nginx", servers) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        first, second = client.get(STATIC), client.get(STATIC)
        logins = [client.get("/connexion/") for _ in range(3)]

    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert "public" in first.headers["Cache-Control"], first.headers["Cache-Control"]
    assert (first.headers["X-Cache-Status"], second.headers["X-Cache-Status"]) == ("MISS", "HIT")
    assert [login.status_code for login in logins] == [200] * 3
    assert [login.headers["X-Cache-Status"] for login in logins] == ["MISS"] * 3


def test_the_proxy_is_not_trusted_with_an_assertion_it_cannot_fail():
    """The checks of the first test catch a page of someone else and a page served from the cache."""
    alice = Holder("1", ["Nomalice", "Prenomalice"], "1000001", ["Nomalice", "Prenomalice", "1", "a@exemple.fr"])
    bob = Holder("2", ["Nombob", "Prenombob"], "1000002", ["Nombob", "Prenombob", "2", "b@exemple.fr"])
    page = "<h1>Prenombob NOMBOB</h1><p>Dossier 1000002</p>"
    good = Load(bob, "/mon-foyer/", 200, "MISS", "127.0.0.1:1", "private, no-store, max-age=0", "Cookie", page)
    assert problems_of([good], [alice, bob]) == []

    foreign = Load(alice, "/mon-foyer/", 200, "HIT", "", "max-age=600", "", page)
    problems = problems_of([foreign], [alice, bob])
    assert any("shows other people's data" in p for p in problems)
    assert any("answered from its cache (HIT)" in p for p in problems)
    assert any("are not on the page" in p for p in problems)
    assert any("Cache-Control 'max-age=600'" in p for p in problems)
