""" "Se souvenir de moi": the NIR (never the password) is prefilled on this device only, until the person logs in
without the box."""

import re

from django.conf import settings
from playwright.sync_api import Page, expect

from tests.browser.helpers import PASSWORD_LABEL, field, login, logout, spaced


def expect_login_form(page: Page, *, nir: str, remembered: bool) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à Mon Compte")
    expect(field(page, "Numéro de Sécurité sociale")).to_have_value(nir)
    expect(field(page, "Se souvenir de moi")).to_be_checked(checked=remembered)
    expect(field(page, PASSWORD_LABEL)).to_have_value("")


def test_remember_me_prefills_the_nir_on_this_device_only(open_page, new_context, migrated):
    nir, password = migrated.person.nir, migrated.raw_password
    device = new_context()
    page = open_page(device)

    page.goto("/connexion/")
    expect_login_form(page, nir="", remembered=False)
    login(page, nir, password, remember=True)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    cookie = next(c for c in device.cookies() if c["name"] == settings.REMEMBER_ME_COOKIE_NAME)
    assert cookie["httpOnly"] and password not in cookie["value"]

    logout(page)
    expect_login_form(page, nir=spaced(nir), remembered=True)
    page.reload()
    expect_login_form(page, nir=spaced(nir), remembered=True)

    # Another device knows nothing.
    other = open_page()
    other.goto("/connexion/")
    expect_login_form(other, nir="", remembered=False)

    # Logging in without the box forgets the NIR on this device.
    login(page, nir, password, remember=False)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    logout(page)
    expect_login_form(page, nir="", remembered=False)
    assert not [c for c in device.cookies() if c["name"] == settings.REMEMBER_ME_COOKIE_NAME]
