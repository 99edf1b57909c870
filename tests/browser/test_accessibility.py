"""Assets and accessibility. Every page that any browser test opens already runs the basic checks of
conftest.A11Y_CHECKS (French, one h1, a title, a label for every control, unique ids, aria references that point
somewhere); here: the DSFR assets load under the Content Security Policy, the checks themselves, the pages and error
states no journey visits, and the small-screen header."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import A11Y_CHECKS, click, field, login


def test_dsfr_assets_load_under_the_content_security_policy(page: Page, console, household):
    statics = {}
    page.on("response", lambda response: "/static/" in response.url and statics.__setitem__(response.url, response))
    page.on("requestfailed", lambda request: console.errors.append(f"request failed: {request.url}"))
    response = page.goto("/connexion/")
    assert response.status == 200
    assert "script-src" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")

    def loaded(suffix: str):
        matches = [r for url, r in statics.items() if url.split("?")[0].endswith(suffix)]
        assert matches, f"{suffix} was not requested: {sorted(statics)}"
        return matches[0]

    css = loaded("/dsfr/dist/dsfr/dsfr.min.css")
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")
    assert loaded("/dsfr/dist/dsfr/dsfr.module.min.js").status == 200
    assert loaded("/accounts/password-rules.js").status == 200
    assert all(r.status == 200 for r in statics.values()), {url: r.status for url, r in statics.items()}

    # The stylesheet applies (Marianne, DSFR's font) and DSFR's script started (it marks the page when it runs).
    assert "Marianne" in page.evaluate("getComputedStyle(document.body).fontFamily")
    expect(page.locator("html")).to_have_attribute("data-fr-js", "true")
    # The page's own module ran too: the show-password button works.
    page.get_by_role("button", name="Afficher le mot de passe").click()
    expect(page.locator("#id_password")).to_have_attribute("type", "text")

    assert not console.errors, console.errors  # no CSP violation, no failed request, no script error


def test_the_console_checks_catch_what_they_are_meant_to(page: Page, console):
    bad_page = (
        '<html lang="en"><title> </title><h1>a</h1><h1>b</h1><input id="x"><input id="x" aria-describedby="nope">'
        "<button></button></html>"
    )
    page.route(
        "**/a11y-probe/",
        lambda route: route.fulfill(
            body=bad_page + "<script>document.title = 'inline';</script>",
            content_type="text/html",
            headers={"Content-Security-Policy": "script-src 'self'"},
        ),
    )
    page.goto("/a11y-probe/")
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 0))")  # after the load handlers
    assert page.evaluate(A11Y_CHECKS) == [
        'html lang="en"',
        "empty <title>",
        "2 h1",
        'no label for <input id="x">',
        'no label for <input id="x" aria-describedby="nope">',
        "duplicate ids: x",
        'aria-describedby="nope" points nowhere',
        "no accessible name: <button></button>",
    ]
    # The same problems reached the console, where every other test would fail on them.
    assert console.a11y_problems == ["a11y: /a11y-probe/: " + " | ".join(page.evaluate(A11Y_CHECKS))]
    # And a script the Content Security Policy blocks is caught as well.
    assert len(console.csp_violations) == 1, console.errors
    console.errors.clear()


def test_pages_and_error_states_no_journey_visits(page: Page, console):
    page.goto("/identifiant-provisoire/")
    expect(page.get_by_role("heading", level=1)).to_have_text("J'ai un identifiant provisoire")
    page.goto("/connexion/")
    click(page, "Se connecter")  # empty form: the error messages must keep labels and references right
    expect(field(page, "Numéro de Sécurité sociale")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_identifier-messages")).to_have_text("Saisissez votre numéro de Sécurité sociale.")
    page.goto("/mot-de-passe-oublie/")
    click(page, "Recevoir un code")
    expect(page.locator("#id_identifier-messages")).to_have_text("Saisissez votre numéro de Sécurité sociale.")
    page.wait_for_load_state("load")
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 0))")  # the check runs after the load handlers
    assert not console.a11y_problems, console.a11y_problems


def test_on_a_small_screen_the_menu_offers_the_logout_button(open_page, new_context, migrated):
    page = open_page(new_context(viewport={"width": 375, "height": 740}))
    login(page, migrated.person.nir, migrated.raw_password)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    logout_button = page.get_by_role("button", name="Se déconnecter")
    expect(logout_button).to_have_count(0)  # hidden in the collapsed header
    page.get_by_role("button", name="Menu").click()
    logout_button.click()
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.get_by_text("Vous êtes déconnecté")).to_be_visible()
