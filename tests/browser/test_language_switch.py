"""The header's language switch (DSFR's "translate" component): with DSFR's script as a drop-down menu, on a small
screen inside the header menu, and without JavaScript as plain buttons of the same form."""

import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import A11Y_CHECKS, field

# The basic checks (helpers.A11Y_CHECKS) require lang="fr"; an English page is right to say lang="en", and must pass
# the rest.
ENGLISH_PAGE_PROBLEMS = ['html lang="en"']


def expect_english_login(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Mon Compte")
    expect(field(page, "Social security number")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()


def test_with_javascript_the_menu_switches_to_english_and_back(new_context, console):
    # Not the `page` fixture: its checks would fail the English page on its (right) lang="en".
    page = console.attach(new_context().new_page())
    page.goto("/connexion/")
    page.wait_for_load_state("load")
    toggle = page.locator(".fr-header__tools-links .fr-translate__btn")
    expect(toggle).to_have_accessible_name("FR - Français")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.get_by_role("button", name="EN - English", exact=True).click()

    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect_english_login(page)
    assert page.evaluate(A11Y_CHECKS) == ENGLISH_PAGE_PROBLEMS
    assert [problem for problem in console.a11y_problems if not problem.endswith(ENGLISH_PAGE_PROBLEMS[0])] == []

    page.get_by_role("button", name="EN - English", exact=True).click()
    page.get_by_role("button", name="FR - Français", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à Mon Compte")
    assert page.evaluate(A11Y_CHECKS) == []
    assert not console.csp_violations and not console.script_errors, console.errors


def test_on_a_small_screen_the_header_menu_offers_the_languages(new_context, console):
    page = console.attach(new_context(viewport={"width": 375, "height": 740}).new_page())
    page.goto("/connexion/")
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="FR - Français", exact=True).click()
    page.get_by_role("button", name="EN - English", exact=True).click()
    expect_english_login(page)
    assert page.evaluate(A11Y_CHECKS) == ENGLISH_PAGE_PROBLEMS  # the copied menu keeps ids unique
    assert not console.csp_violations and not console.script_errors, console.errors


def test_without_javascript_the_languages_are_plain_buttons_of_a_form(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/connexion/")
    expect(page.locator(".fr-translate__btn")).to_be_hidden()  # the drop-down needs DSFR's script
    english = page.get_by_role("button", name="EN - English", exact=True)
    expect(english).to_be_visible()
    english.click()
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect_english_login(page)
    page.get_by_role("button", name="FR - Français", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()
