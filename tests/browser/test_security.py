"""Sessions and the security history in the browser (issue 3, item 8): "sign out everywhere" from one device ends the
other device's session at its next request; "Ce n'était pas moi" from the history signs everything out."""

import re

from playwright.sync_api import Page, expect

from moncompte.accounts.models import Account, SecurityReport
from tests.browser.helpers import click, login


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_sign_out_everywhere_ends_the_other_device_at_its_next_request(open_page, migrated, transactional_db):
    laptop, phone = open_page(), open_page()  # two browser contexts: two devices
    for device in (laptop, phone):
        login(device, migrated.person.nir, migrated.raw_password)
        expect(device).to_have_url(re.compile(r"/mon-espace/$"))

    laptop.goto("/mon-espace/sessions/")
    expect(heading(laptop)).to_have_text("Mes sessions")
    expect(laptop.get_by_test_id("sessions").locator("tbody tr")).to_have_count(2)
    expect(laptop.get_by_test_id("current-session")).to_contain_text("Cette session")
    expect(laptop.get_by_test_id("current-session")).to_contain_text("Chrome sur Linux")

    click(laptop, "Me déconnecter partout")

    expect(laptop).to_have_url(re.compile(r"/connexion/$"))
    expect(laptop.get_by_text("Vous êtes déconnecté de toutes vos sessions.")).to_be_visible()
    phone.goto("/mon-espace/")
    expect(phone).to_have_url(re.compile(r"/connexion/$"))
    expect(phone.get_by_text("Cette session a été fermée. Connectez-vous à nouveau.")).to_be_visible()
    expect(phone.get_by_role("button", name="Se déconnecter")).to_have_count(0)


def test_closing_one_other_session_keeps_this_one(open_page, migrated, transactional_db):
    laptop, phone = open_page(), open_page()
    for device in (laptop, phone):
        login(device, migrated.person.nir, migrated.raw_password)

    laptop.goto("/mon-espace/sessions/")
    laptop.get_by_role("button", name=re.compile(r"^Fermer cette session")).click()

    expect(laptop.get_by_text("1 session a été fermée.")).to_be_visible()
    expect(laptop.get_by_test_id("sessions").locator("tbody tr")).to_have_count(1)
    phone.reload()
    expect(phone).to_have_url(re.compile(r"/connexion/$"))
    laptop.goto("/mon-espace/")
    expect(heading(laptop)).to_contain_text("Bonjour")


def test_not_me_from_the_security_history(open_page, migrated, transactional_db):
    intruder = open_page()
    login(intruder, migrated.person.nir, "pas-le-bon-mot-de-passe")
    owner = open_page()
    login(owner, migrated.person.nir, migrated.raw_password)

    owner.goto("/mon-espace/securite/")
    expect(heading(owner)).to_have_text("Historique de connexion et de sécurité")
    history = owner.get_by_test_id("history")
    failure = history.locator("tbody tr").filter(has_text="Échec de connexion")
    expect(failure).to_contain_text("Chrome sur Linux")
    expect(failure).to_contain_text("127.0.0.••")
    failure.get_by_role("button", name=re.compile(r"^Ce n'était pas moi")).click()

    expect(heading(owner)).to_have_text("Votre signalement est enregistré")
    expect(owner.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    report = SecurityReport.objects.get()
    assert (report.kind, report.source) == ("login.failed", "history")
    assert not Account.objects.get(pk=migrated.pk).check_password(migrated.raw_password)
