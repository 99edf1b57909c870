"""Issue 7, item 1, in Chromium: while a NIR is under attack (many wrong passwords from other addresses), the owner
signs in from their usual browser as always, and from a new one with a code sent to their contact."""

import re

from django.conf import settings
from playwright.sync_api import expect

from moncompte.accounts import throttling
from tests.browser.helpers import click, field, login, logout
from tests.helpers import last_code


def test_the_owner_signs_in_during_an_attack_from_their_browser_and_from_a_new_one_with_a_code(
    open_page, new_context, migrated
):
    nir, password = migrated.person.nir, migrated.raw_password
    usual = open_page(new_context())
    usual.goto("/connexion/")
    login(usual, nir, password)
    expect(usual).to_have_url(re.compile(r"/mon-espace/$"))
    logout(usual)

    # The attack: wrong passwords for this NIR from many addresses, past the per-NIR ceiling.
    for n in range(settings.LOGIN_LIMIT_PER_IDENTIFIER):
        throttling.count_login_failure(nir, f"127.0.1.{n % 250 + 1}")

    login(usual, nir, password)
    expect(usual).to_have_url(re.compile(r"/mon-espace/$"))

    new = open_page(new_context())
    new.goto("/connexion/")
    login(new, nir, password)
    expect(new).to_have_url(re.compile(r"/connexion/code/$"))
    expect(new.get_by_role("heading", level=1)).to_have_text("Terminer la connexion")
    expect(new.get_by_role("main")).to_contain_text("Si le mot de passe saisi est le bon")
    field(new, re.compile("Code")).fill(last_code(to=migrated.email))
    click(new, "Me connecter")
    expect(new).to_have_url(re.compile(r"/mon-espace/$"))
