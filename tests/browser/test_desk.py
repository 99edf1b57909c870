"""The desk (issue 13, items 2 and 3) in Chromium: an agent signs in for the first time, enrols an authenticator
application from the secret on the page, sees the backup codes once, then receives each member of a household and
sees what the access policy lets them be told; the person then reads the look in their security history. A
supervisor resets an agent's second factor, and the agent's next sign-in enrols again. axe-core runs on every page of
the journeys, and `test_axe_finds_nothing_serious_on_the_desk_pages` walks the desk's pages at desktop and phone
widths, with and without JavaScript (the citizens' page for an agent's code is in test_accessibility.py). The last
tests check the header on every desk page: DSFR's script runs without error, and on a phone the agent sees who is
signed in and can sign out, with or without JavaScript."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import pytest
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Locator, Page, expect

from moncompte.accounts import agents
from moncompte.accounts.assistance import IDENTIFIED_BY
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from tests.agency.helpers import HOUSING, case_records
from tests.agents import AGENT_PASSWORD, DESK_LOGIN, ENROL, SECOND_FACTOR, agent_make, totp_next_code
from tests.browser.axe import MODE_IDS, MODES, VIEWPORTS
from tests.browser.helpers import click, field, login, set_new_password
from tests.factories import family
from tests.helpers import last_code

SHOTS = Path("/tmp/desk-shots")
HOME = "/guichet/"
TEAM = "/guichet/equipe/"
BACKUP_CODES = "/guichet/connexion/codes-de-secours/"
SEARCH_LABEL = "Numéro allocataire ou numéro de Sécurité sociale"
TELL = "Vous pouvez lui communiquer les informations du dossier."
PARTNER_LIMITS = (
    "Conjoint sans délégation : ne communiquez que ses propres informations, pas celles du dossier (paiements, "
    "courriers, autres membres).",
    "Raison à donner : l'allocataire ne lui a pas donné de délégation.",
)
MEMBER_LIMITS = (
    "Membre du foyer (enfant ou autre personne) : ne communiquez que ses propres informations, pas celles du dossier "
    "(paiements, courriers, autres membres).",
    "Raison à donner : les informations du dossier sont réservées à l'allocataire, et à son conjoint s'il a une "
    "délégation.",
)
CONSULTED = "Un agent de la Caf a consulté votre dossier"
NEW_PASSWORD = "Vb6-Hq2-Tz8k"


def url(path: str) -> re.Pattern:
    return re.compile(rf"{re.escape(path)}$")


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def screenshot(page: Page, name: str) -> None:
    """The page at desktop width, then at 375 px, in /tmp/desk-shots/ (to be looked at: tables, long lines)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    desktop = page.viewport_size
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(VIEWPORTS["mobile"])
    page.screenshot(path=str(SHOTS / f"{name}-375.png"), full_page=True)
    page.set_viewport_size(desktop)


# --- Signing in ----------------------------------------------------------------------------------------------------


def password_step(page: Page, login_id: str, password: str = AGENT_PASSWORD) -> None:
    if not re.search(r"/guichet/connexion/(\?|$)", page.url):
        page.goto(DESK_LOGIN)
    expect(heading(page)).to_have_text("Connexion des agents")
    field(page, "Identifiant").fill(login_id)
    field(page, "Mot de passe").fill(password)
    click(page, "Continuer")


def code_step(page: Page, agent) -> None:
    expect(page).to_have_url(url(SECOND_FACTOR))
    field(page, "Code").fill(totp_next_code(agents.totp_confirmed(agent)))
    click(page, "Me connecter")


def app_code(secret: str, *, at: float | None = None) -> str:
    """What an authenticator application shows for the secret typed by hand (base32; RFC 6238's defaults)."""
    totp = TOTP(base64.b32decode(secret.replace(" ", "")), step=30, t0=0, digits=6)
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def a_wrong_code(secret: str) -> str:
    """Six digits that the application shows at no moment the server accepts now (its tolerance is one step)."""
    now = time.time()
    accepted = {app_code(secret, at=now + offset) for offset in (-60, -30, 0, 30, 60)}
    return next(code for code in (f"{n:06d}" for n in range(123_456, 10**6)) if code not in accepted)


def throttle_waited(device) -> None:
    """django-otp slows a device down after a wrong code (1 s, then 2, 4…: a code typed sooner is refused, right or
    not): wait as a person retyping would."""
    deadline = time.monotonic() + 10
    while True:
        device.refresh_from_db()
        if device.verify_is_allowed()[0]:
            return
        assert time.monotonic() < deadline, "the device stays throttled"
        time.sleep(0.2)


# --- Receiving a person --------------------------------------------------------------------------------------------


def search(page: Page, query: str) -> None:
    field(page, SEARCH_LABEL).fill(query)
    click(page, "Rechercher")


def card_of(page: Page, person) -> Locator:
    name = page.get_by_role("heading", name=f"{person.first_name} {person.last_name}", exact=True)
    return page.locator(".fr-card").filter(has=name)


def receive(page: Page, person, identified_by: str) -> None:
    """« Qui vous parle ? »: this person's card, how they were identified, « Recevoir … »."""
    card = card_of(page, person)
    card.get_by_text(IDENTIFIED_BY[identified_by], exact=True).click()  # DSFR's label covers the radio button
    expect(card.get_by_label(IDENTIFIED_BY[identified_by])).to_be_checked()
    click(card, f"Recevoir {person.first_name}")
    expect(page).to_have_url(url("/guichet/echange/"))
    expect(heading(page)).to_have_text(f"Échange avec {person.first_name} {person.last_name}")
    expect(page.locator("#asker")).to_contain_text(f"Identification : {IDENTIFIED_BY[identified_by].lower()}.")


def end_exchange(page: Page) -> None:
    click(page, "Terminer l'échange")
    expect(page).to_have_url(url(HOME))
    expect(page.get_by_role("status")).to_contain_text("Échange terminé.")


def sees_the_case(page: Page, case, others) -> None:
    """The holder's or a delegated partner's exchange: the case may be told, the other members with it."""
    section = page.locator(f"#case-{case.case_number}")
    expect(section.get_by_text(TELL, exact=True)).to_be_visible()
    members = section.get_by_role("heading", name="Membres du foyer").locator("xpath=following-sibling::ul[1]")
    for other in others:
        expect(members).to_contain_text(other.full_name)


def sees_only_the_limits(page: Page, case, limits: tuple[str, ...], others) -> None:
    """A partner without delegation's or a member's exchange: the reasons to give, and nothing of the others."""
    section = page.locator(f"#case-{case.case_number}")
    for line in limits:
        expect(section).to_contain_text(line)
    main = page.get_by_role("main")
    expect(main).not_to_contain_text(TELL)
    expect(main).not_to_contain_text("Membres du foyer")
    expect(main).not_to_contain_text(HOUSING)  # the case's payments
    for other in others:
        expect(main).not_to_contain_text(other.given_names)
        expect(main).not_to_contain_text(other.birth_name)


def consulted(person, agent, identified_by: str) -> bool:
    return Entry.objects.filter(
        kind="desk.consulted",
        person_id=person.pk,
        actor_account_id=agent.pk,
        channel="desk",
        after__identified_by=identified_by,
    ).exists()


# --- The journeys --------------------------------------------------------------------------------------------------


def test_an_agent_enrols_then_tells_each_member_what_the_policy_allows(open_page, transactional_db, partners, axe):
    f = family(children=1)  # the partner has no delegation; the child is 16
    child = f.children[0]
    assert (timezone.localdate() - child.birth_date).days > 15 * 366  # 15 or older: may have an account of their own
    d = family(delegated=True, children=0)
    partners.push(case_records(f.case.case_number))
    agent = agent_make("agent-guichet", roles=(agents.DESK,), enrolled=False)

    # First sign-in: the password, then the enrolment of an authenticator application.
    page = open_page()
    page.goto(DESK_LOGIN)
    axe(page, "desk login")
    click(page, "Continuer")
    expect(page.locator("#id_username-messages")).not_to_be_empty()
    axe(page, "desk login, empty form sent")
    password_step(page, agent.login_id)
    expect(page).to_have_url(url(ENROL))
    expect(heading(page)).to_have_text("Activer la double authentification")
    axe(page, "enrol")

    # The agent types the secret into the application by hand (the QR code says the same).
    secret = page.locator("#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", secret), secret
    device = TOTPDevice.objects.get(user=agent)
    assert not device.confirmed and device.bin_key == base64.b32decode(secret.replace(" ", ""))
    field(page, "Code affiché par l'application").fill(a_wrong_code(secret))
    click(page, "Activer")
    expect(page.locator("#id_code-messages")).to_contain_text("Code incorrect.")
    axe(page, "enrol, wrong code")
    assert not agents.has_second_factor(agent)
    throttle_waited(device)
    field(page, "Code affiché par l'application").fill(app_code(secret))
    click(page, "Activer")

    # Ten backup codes, shown this once, in the answer to the code (never kept in the session).
    expect(page.locator("#backup-codes li")).to_have_count(10)
    codes = page.locator("#backup-codes li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in codes), codes
    assert agents.has_second_factor(agent) and agents.backup_codes_left(agent) == 10
    stored = set(StaticDevice.objects.get(user=agent).token_set.values_list("token", flat=True))
    assert not stored & ({code.replace("-", "") for code in codes} | set(codes))  # kept hashed, never as shown
    axe(page, "backup codes")
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    expect(page).to_have_url(url(HOME))
    expect(heading(page)).to_have_text("Recevoir une personne")
    page.get_by_role("link", name="Mes codes de secours").click()
    expect(page.get_by_role("main")).to_contain_text("Il vous reste 10 codes de secours.")
    expect(page.locator("#backup-codes")).to_have_count(0)
    shown_again = page.get_by_role("main").inner_text()
    assert not [code for code in codes if code in shown_again]
    axe(page, "backup codes, seen again")
    page.get_by_role("link", name="Recevoir une personne").click()
    expect(page).to_have_url(url(HOME))
    axe(page, "desk home")

    # A number that is not one, then one nobody has.
    search(page, "12345")
    expect(page.locator("#id_query-messages")).to_contain_text("Saisissez un numéro allocataire (7 chiffres)")
    axe(page, "desk home, wrong number")
    search(page, "9999999")
    expect(page.get_by_role("status")).to_contain_text("Aucune personne ne correspond à ce numéro")

    # The holder, identified at the desk: the whole case, with the other members and the payments.
    search(page, f.case.case_number)
    for person, role in ((f.holder, "Allocataire"), (f.partner, "Conjoint"), (child, "Enfant")):
        expect(card_of(page, person)).to_contain_text(f"du dossier {f.case.case_number}")
        expect(card_of(page, person)).to_contain_text(role)
    axe(page, "desk home, a case's members")
    receive(page, f.holder, "desk_id")
    sees_the_case(page, f.case, [f.partner, child])
    expect(page.locator(f"#case-{f.case.case_number}")).to_contain_text(HOUSING)
    assert consulted(f.holder, agent, "desk_id")
    axe(page, "exchange, holder")
    screenshot(page, "exchange-holder")
    end_exchange(page)

    # The partner without delegation, on the phone: their own information only, and why.
    search(page, f.case.case_number)
    receive(page, f.partner, "phone_questions")
    sees_only_the_limits(page, f.case, PARTNER_LIMITS, [f.holder, child])
    assert consulted(f.partner, agent, "phone_questions")
    axe(page, "exchange, partner without delegation")
    end_exchange(page)

    # The child of 16, through the voice server: the same, worded for a member.
    search(page, f.case.case_number)
    receive(page, child, "phone_voice_server")
    sees_only_the_limits(page, f.case, MEMBER_LIMITS, [f.holder, f.partner])
    assert consulted(child, agent, "phone_voice_server")
    axe(page, "exchange, child")
    screenshot(page, "exchange-child")
    end_exchange(page)

    # A delegated partner, by letter: the whole case, as the holder. She forgot her password: a code goes to her
    # validated address; the agent sees where it went, never the code.
    search(page, d.case.case_number)
    receive(page, d.partner, "letter")
    sees_the_case(page, d.case, [d.holder])
    assert consulted(d.partner, agent, "letter")
    axe(page, "exchange, delegated partner")
    screenshot(page, "exchange-delegated-partner")
    click(page, "Envoyer le code")
    expect(page.get_by_role("status")).to_contain_text("Code envoyé à ")
    reset_code = last_code(to=d.partner_account.email)
    assert OutboxMessage.objects.filter(to=d.partner_account.email, template="verification/desk_reset").exists()
    assert reset_code not in page.content()
    axe(page, "exchange, code sent")
    end_exchange(page)
    axe.assert_clean()

    # She types it herself on the site, with a new password, and is signed in.
    partner_page = open_page()
    partner_page.goto("/mot-de-passe-oublie/")
    partner_page.get_by_role("link", name="Un conseiller de la Caf vous a envoyé un code ? Saisissez-le ici").click()
    expect(partner_page).to_have_url(url("/mot-de-passe-oublie/code-conseiller/"))
    field(partner_page, "Numéro de Sécurité sociale").fill(d.partner.nir)
    field(partner_page, "Code reçu").fill(reset_code)
    set_new_password(partner_page, NEW_PASSWORD)
    click(partner_page, "Enregistrer mon nouveau mot de passe")
    expect(partner_page).to_have_url(url("/mon-espace/"))
    d.partner_account.refresh_from_db()
    assert d.partner_account.check_password(NEW_PASSWORD)
    partner_page.goto("/mon-espace/securite/")
    expect(partner_page.get_by_test_id("history").get_by_role("row").filter(has_text=CONSULTED)).to_have_count(1)

    # The holder, on their own device: the look is in their security history (and only theirs: not the partner's
    # or the child's).
    look = Entry.objects.get(kind="desk.consulted", person_id=f.holder.pk)
    citizen = open_page()
    login(citizen, f.holder.nir, f.holder_account.raw_password)
    expect(citizen).to_have_url(url("/mon-espace/"))
    citizen.goto("/mon-espace/securite/")
    rows = citizen.get_by_test_id("history").get_by_role("row").filter(has_text=CONSULTED)
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(timezone.localtime(look.created_at).strftime("%d/%m/%Y %H:%M"))
    expect(rows).to_contain_text("Un agent de la Caf, à l'accueil ou au téléphone")  # never the agent's device
    expect(citizen.get_by_role("main")).not_to_contain_text(agent.login_id)


def test_a_supervisor_resets_an_agent_s_second_factor_and_the_agent_enrols_again(open_page, transactional_db, axe):
    agent = agent_make("agent-guichet", roles=(agents.DESK,))
    supervisor = agent_make("superviseur", roles=(agents.SUPERVISOR,))

    # The agent signs in with the application's code; the team's page is not for their role.
    agent_page = open_page()
    password_step(agent_page, agent.login_id)
    expect(agent_page).to_have_url(url(SECOND_FACTOR))
    expect(heading(agent_page)).to_have_text("Double authentification")
    axe(agent_page, "second factor")
    device = agents.totp_confirmed(agent)
    field(agent_page, "Code").fill(a_wrong_code(base64.b32encode(device.bin_key).decode()))
    click(agent_page, "Me connecter")
    expect(agent_page.locator("#id_code-messages")).to_contain_text("Code incorrect.")
    axe(agent_page, "second factor, wrong code")
    throttle_waited(device)
    code_step(agent_page, agent)
    expect(agent_page).to_have_url(url(HOME))
    expect(agent_page.get_by_role("link", name="Agents", exact=True)).to_have_count(0)
    response = agent_page.goto(TEAM)
    assert response.status == 403
    expect(heading(agent_page)).to_have_text("Accès réservé")
    axe(agent_page, "forbidden")

    # The supervisor, from their own device, resets the agent's second factor (a lost phone); not their own.
    supervisor_page = open_page()
    password_step(supervisor_page, supervisor.login_id)
    code_step(supervisor_page, supervisor)
    expect(supervisor_page).to_have_url(url(HOME))
    supervisor_page.get_by_role("link", name="Agents", exact=True).click()
    expect(supervisor_page).to_have_url(url(TEAM))
    axe(supervisor_page, "team")
    screenshot(supervisor_page, "team")
    agents_list = supervisor_page.locator("#agents > li")
    row = agents_list.filter(has=supervisor_page.get_by_role("heading", name=agent.login_id, exact=True))
    own_row = agents_list.filter(has=supervisor_page.get_by_role("heading", name=f"{supervisor.login_id} (vous)"))
    expect(row).to_contain_text("Accueil et téléphone")
    expect(row).to_contain_text("activée")
    expect(own_row).to_have_count(1)
    expect(own_row.get_by_role("button")).to_have_count(0)
    row.get_by_label("Motif").fill("Téléphone perdu")
    click(row, f"Réinitialiser la double authentification de {agent.login_id}")
    expect(supervisor_page.get_by_role("status")).to_contain_text(
        f"Double authentification de {agent.login_id} réinitialisée"
    )
    expect(row).to_contain_text("à activer à la prochaine connexion")
    axe(supervisor_page, "team, after a reset")
    assert not TOTPDevice.objects.filter(user=agent, confirmed=True).exists()
    assert not StaticDevice.objects.filter(user=agent).exists()
    assert Entry.objects.filter(
        kind="agent.second_factor_reset", actor_account_id=supervisor.pk, after__login_id=agent.login_id
    ).exists()

    # The agent's session is over; signing in again asks to enrol a new application.
    agent_page.goto(HOME)
    expect(agent_page).to_have_url(re.compile(r"/guichet/connexion/(\?|$)"))
    password_step(agent_page, agent.login_id)
    expect(agent_page).to_have_url(url(ENROL))
    expect(heading(agent_page)).to_have_text("Activer la double authentification")
    expect(agent_page.locator("#totp-secret")).not_to_be_empty()
    agent_page.goto(HOME)  # nothing else before the enrolment
    expect(agent_page).to_have_url(url(ENROL))
    axe.assert_clean()


# --- axe-core on every desk page, at desktop and phone widths, with and without JavaScript -------------------------


@pytest.mark.parametrize(("viewport", "javascript"), MODES, ids=MODE_IDS)
def test_axe_finds_nothing_serious_on_the_desk_pages(axe_scan, viewport, javascript, transactional_db):
    f = family(children=1)
    child = f.children[0]
    agent = agent_make("agent-guichet", roles=(agents.DESK,), enrolled=False)
    supervisor = agent_make("superviseur", roles=(agents.SUPERVISOR,))
    agent_make("agent-accueil", roles=(agents.DESK,))  # a row of the team's table with its reset form

    # A desk agent's first sign-in, then the exchanges.
    scan = axe_scan(viewport, javascript)
    page = scan.page
    scan.goto(DESK_LOGIN, "desk login")
    click(page, "Continuer")
    scan.check("desk login, empty form sent")
    password_step(page, agent.login_id)
    expect(page).to_have_url(url(ENROL))
    scan.check("enrol")
    click(page, "Activer")
    expect(page.locator("#id_code-messages")).not_to_be_empty()
    scan.check("enrol, empty form sent")
    field(page, "Code affiché par l'application").fill(totp_next_code(agents.enrolment_pending(agent)))
    click(page, "Activer")
    expect(page.locator("#backup-codes li")).to_have_count(10)
    scan.check("backup codes")
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    expect(page).to_have_url(url(HOME))
    scan.check("desk home")
    search(page, "12345")
    scan.check("desk home, wrong number")
    search(page, f.case.case_number)
    scan.check("desk home, a case's members")
    receive(page, f.holder, "desk_id")
    scan.check("exchange, holder")
    end_exchange(page)
    scan.check("desk home, exchange ended")
    search(page, f.case.case_number)
    receive(page, child, "phone_questions")
    scan.check("exchange, child")
    scan.goto(TEAM, "forbidden", status=403)
    scan.assert_clean()

    # A supervisor, on another device: the second factor, then the team.
    scan = axe_scan(viewport, javascript)
    page = scan.page
    password_step(page, supervisor.login_id)
    expect(page).to_have_url(url(SECOND_FACTOR))
    scan.check("second factor")
    device = agents.totp_confirmed(supervisor)
    field(page, "Code").fill(a_wrong_code(base64.b32encode(device.bin_key).decode()))
    click(page, "Me connecter")
    expect(page.locator("#id_code-messages")).to_contain_text("Code incorrect.")
    scan.check("second factor, wrong code")
    throttle_waited(device)
    code_step(page, supervisor)
    expect(page).to_have_url(url(HOME))
    scan.goto(TEAM, "team")
    scan.assert_clean()


# --- The header on every desk page, and on a phone ---------------------------------------------------------------


def test_dsfr_s_header_script_runs_without_errors_on_the_desk_pages(open_page, console, transactional_db):
    agent = agent_make("agent-guichet", roles=(agents.DESK,))
    page = open_page()
    password_step(page, agent.login_id)
    code_step(page, agent)
    expect(page).to_have_url(url(HOME))
    expect(page.locator("html")).to_have_attribute("data-fr-js", "true")
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 100))")
    errors = list(console.script_errors)
    console.errors.clear()  # said here, in the test, rather than again by open_page's checks
    assert not errors, errors


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_on_a_phone_the_agent_sees_who_is_signed_in_and_can_sign_out(
    open_page, new_context, transactional_db, javascript
):
    agent = agent_make("agent-guichet", roles=(agents.DESK,))
    page = open_page(new_context(viewport=VIEWPORTS["mobile"], java_script_enabled=javascript))
    password_step(page, agent.login_id)
    code_step(page, agent)
    expect(page).to_have_url(url(HOME))
    menu = page.get_by_role("button", name="Menu")
    if menu.count() and menu.is_visible():
        menu.click()
    expect(page.get_by_text(agent.login_id).filter(visible=True).first).to_be_visible()  # « Connecté : … »
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    click(page, "Se déconnecter")
    expect(page).to_have_url(url(DESK_LOGIN))
    expect(page.get_by_role("status")).to_contain_text("Vous êtes déconnecté.")
