"""Assets and accessibility. Every page that any browser test opens already runs the basic checks of
helpers.A11Y_CHECKS (French, one h1, a title, a label for every control, unique ids, aria references that point
somewhere); here: the DSFR assets load under the Content Security Policy, the checks themselves, the pages and error
states no journey visits, and the small-screen header."""

import re
import time
from importlib import import_module

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from moncompte.accounts.sessions import SESSION_AUTH_AT
from moncompte.households.models import Role, SignupRequest
from tests.agency.helpers import case_records, ids
from tests.browser.axe import MODE_IDS, MODES
from tests.browser.helpers import (
    A11Y_CHECKS,
    PASSWORD_LABEL,
    choose,
    click,
    field,
    in_a_household,
    login,
    set_new_password,
    sign_out,
    through_franceconnect,
)
from tests.factories import AccountFactory, MembershipFactory, PersonFactory, family
from tests.helpers import LEA, last_code, lea_person


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
    assert loaded("/web/password-rules.js").status == 200
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


# --- axe-core on every page (issue 7, item 16) -----------------------------------------------------------------------
# Every page a person can reach, signed out, during the first login and signed in, at desktop and phone widths, with
# JavaScript and without it (every page is a server-rendered form or text and must work without it); tests.browser.axe
# says what fails a test.

NEW_PASSWORD = "Kq7-Wz3-Xv9m"
BY_EMAIL = "Par e-mail, à mon adresse connue de la Caf"


def age_the_password_entry(page: Page) -> None:
    """The browser's session typed its password longer ago than REAUTH_MAX_AGE: security pages ask for it again."""
    key = next(c["value"] for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    session[SESSION_AUTH_AT] = time.time() - settings.REAUTH_MAX_AGE - 1
    session.save()


@pytest.mark.parametrize(("viewport", "javascript"), MODES, ids=MODE_IDS)
def test_axe_finds_nothing_serious_on_the_pages_signed_out(axe_scan, viewport, javascript, migrated):
    scan = axe_scan(viewport, javascript)
    page = scan.page
    child = PersonFactory(child=True, email_on_file="", mobile_on_file="")
    MembershipFactory(case=migrated.case, person=child, role=Role.CHILD)

    scan.goto("/connexion/", "login")
    show_password = page.get_by_role("button", name="Afficher le mot de passe")
    if javascript:
        expect(show_password).to_be_visible()
    else:
        expect(show_password).to_be_hidden()  # it would do nothing without its script
    click(page, "Se connecter")
    scan.check("login, empty form sent")
    scan.goto("/identifiant-provisoire/", "provisional id")

    scan.goto("/mot-de-passe-oublie/", "password reset")
    click(page, "Recevoir un code")
    scan.check("password reset, empty form sent")
    field(page, "Numéro de Sécurité sociale").fill(migrated.person.nir)
    choose(page, BY_EMAIL)
    click(page, "Recevoir un code")
    expect(page).to_have_url(re.compile(r"/mot-de-passe-oublie/code/$"))
    scan.check("password reset, code and new password")
    # The code an agent sent from the desk (issue 13, item 3); the desk's own pages: test_desk.py.
    scan.goto("/mot-de-passe-oublie/code-conseiller/", "password reset, agent's code")
    click(page, "Enregistrer mon nouveau mot de passe")
    scan.check("password reset, agent's code, empty form sent")
    field(page, "Numéro de Sécurité sociale").fill(migrated.person.nir)
    field(page, "Code reçu").fill("00000000")
    set_new_password(page, NEW_PASSWORD)
    click(page, "Enregistrer mon nouveau mot de passe")
    expect(page.locator("#id_code-messages")).to_contain_text("Code incorrect.")
    scan.check("password reset, agent's code, wrong code")

    scan.goto("/creer-mon-compte/", "signup")
    field(page, "Numéro de Sécurité sociale").fill(child.nir)
    field(page, "Date de naissance").fill(child.birth_date.isoformat())
    field(page, "Prénom").fill(child.first_name)
    choose(page, "La Caf n'a ni mon e-mail ni mon mobile")
    click(page, "Continuer")
    expect(page).to_have_url(re.compile(r"/creer-mon-compte/coordonnees/$"))
    scan.check("signup, contact")
    choose(page, "Par e-mail")
    field(page, "Adresse e-mail").fill("lea.perso@exemple.fr")
    click(page, "Recevoir un code")
    expect(page).to_have_url(re.compile(r"/creer-mon-compte/code/$"))
    scan.check("signup, code")
    scan.goto("/creer-mon-compte/en-attente/", "signup, pending")
    scan.goto("/invitation/saisir-le-code/", "invitation code")
    scan.goto("/invitation/" + "x" * 43 + "/", "invitation link that does not work", status=404)
    scan.goto("/ce-n-etait-pas-moi/" + "x" * 40 + "/", "'Ce n'était pas moi' link that does not work", status=400)

    for url, label in INFORMATION_PAGES.items():
        scan.goto(url, label)
    scan.goto("/cette-page-n-existe-pas/", "page not found", status=404)
    scan.assert_clean()


INFORMATION_PAGES = {
    "/accessibilite/": "accessibility statement",
    "/mentions-legales/": "legal notice",
    "/donnees-personnelles/": "personal data",
    "/cookies/": "cookies",
}


@pytest.mark.parametrize(("viewport", "javascript"), MODES, ids=MODE_IDS)
def test_axe_finds_nothing_serious_during_the_first_login(axe_scan, viewport, javascript, household):
    scan = axe_scan(viewport, javascript)
    page = scan.page

    login(page, household.holder.nir, household.case.pin)
    expect(page).to_have_url(re.compile(r"/premiere-connexion/mot-de-passe/$"))
    scan.check("first login, new password")
    click(page, "Créer mon mot de passe")
    scan.check("first login, new password, empty form sent")
    set_new_password(page, NEW_PASSWORD)
    click(page, "Créer mon mot de passe")
    expect(page).to_have_url(re.compile(r"/premiere-connexion/coordonnees/$"))
    scan.check("first login, contact")
    choose(page, "Par SMS")
    field(page, "Numéro de téléphone mobile").fill("06 12 34 56 78")
    click(page, "Recevoir un code")
    expect(page).to_have_url(re.compile(r"/premiere-connexion/coordonnees/code/$"))
    scan.check("first login, code")
    field(page, "Code reçu").fill(last_code(to="+33612345678"))
    click(page, "Valider")
    expect(page).to_have_url(re.compile(r"/premiere-connexion/bienvenue/$"))
    scan.check("onboarding, screen 1")
    for screen in (2, 3):
        page.get_by_role("link", name="Suivant").click()
        expect(page.get_by_text(f"Écran {screen} sur 3")).to_be_visible()
        scan.check(f"onboarding, screen {screen}")
    click(page, "Accéder à mon espace")
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    scan.assert_clean()


@pytest.mark.parametrize(("viewport", "javascript"), MODES, ids=MODE_IDS)
def test_axe_finds_nothing_serious_on_the_pages_signed_in(axe_scan, viewport, javascript):
    f = family(children=2)
    case = f.case.case_number
    invited, requesting = f.children
    request = SignupRequest.objects.create(
        case=f.case, person=requesting, medium="email", destination="demande@exemple.fr"
    )

    # The holder: every page of the personal and household spaces.
    scan = axe_scan(viewport, javascript)
    page = scan.page
    login(page, f.holder.nir, f.holder_account.raw_password)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    scan.check("dashboard")
    scan.goto("/premiere-connexion/bienvenue/", "onboarding, seen again")
    scan.goto("/mon-foyer/", "Mon foyer")
    if viewport == "mobile":
        # The members' table scrolls sideways on a phone: its scroll region takes the keyboard focus, with a name.
        region = page.get_by_role("region", name=f"Dossier n° {case} Membres du foyer")
        region.focus()
        expect(region).to_be_focused()
    scan.goto(f"/mon-foyer/{case}/", "one case")
    scan.goto(f"/mon-foyer/{case}/delegation/", "delegation")
    scan.goto(f"/mon-foyer/{case}/separation/", "separation")
    click(page, "Envoyer ma déclaration")
    scan.check("separation, empty form sent")
    scan.goto(f"/mon-foyer/{case}/inviter/{invited.pk}/", "invite a member")
    scan.goto(f"/mon-foyer/{case}/demandes/{request.pk}/", "decide a signup request")
    scan.goto("/mon-espace/mes-informations/", "my information")
    scan.goto("/mon-espace/mes-informations/signaler-une-erreur/", "report an error")
    scan.goto("/mon-espace/securite/", "security history")
    scan.goto("/mon-espace/sessions/", "sessions")
    scan.goto("/mon-espace/mot-de-passe/", "password change")
    scan.goto("/mon-espace/coordonnees/email/", "contact change")
    field(page, "Nouvelle adresse e-mail").fill("nouvelle.adresse@exemple.fr")
    click(page, "Recevoir un code")
    expect(page).to_have_url(re.compile(r"/mon-espace/coordonnees/code/$"))
    scan.check("contact change, code")
    age_the_password_entry(page)
    page.goto("/mon-espace/coordonnees/mobile/")
    expect(page).to_have_url(re.compile(r"/mon-espace/confirmer-mot-de-passe/"))
    scan.check("re-authentication")

    scan.assert_clean()

    # The partner without the delegation, in another browser: the household pages show them less, and say why.
    scan = axe_scan(viewport, javascript)
    login(scan.page, f.partner.nir, f.partner_account.raw_password)
    expect(scan.page).to_have_url(re.compile(r"/mon-espace/$"))
    scan.check("dashboard, partner")
    scan.goto("/mon-foyer/", "Mon foyer, partner")
    expect(scan.page.get_by_test_id("limits")).to_be_visible()
    scan.goto(f"/mon-foyer/{case}/delegation/", "delegation, partner")
    scan.goto(f"/mon-foyer/{case}/separation/", "separation, partner")
    scan.goto("/mon-espace/mes-informations/", "my information, partner")
    if not javascript:
        # Without the script the small-screen "Menu" cannot open: the header shows its buttons in its place.
        expect(scan.page.get_by_role("button", name="Menu")).to_be_hidden()
        click(scan.page, "Se déconnecter")
        expect(scan.page.get_by_text("Vous êtes déconnecté")).to_be_visible()
    scan.assert_clean()


def test_every_cookie_the_site_sets_is_listed_on_the_cookie_page(new_context, migrated):
    """The cookie page must stay true: sign in with "Se souvenir de moi", switch the language there and back, sign out
    (a message for the next page), and every cookie name the server set on the way is in the page's table."""
    page = new_context(java_script_enabled=False).new_page()  # the language buttons are plain without the script
    set_cookies: set[str] = set()

    def record(response) -> None:
        for header in response.headers_array():
            if header["name"].lower() == "set-cookie":
                set_cookies.add(header["value"].split("=", 1)[0].strip())

    page.on("response", record)
    login(page, migrated.person.nir, migrated.raw_password, remember=True)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    page.get_by_role("button", name="EN - English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="FR - Français", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    click(page, "Se déconnecter")
    expect(page.get_by_text("Vous êtes déconnecté")).to_be_visible()

    page.goto("/cookies/")
    listed = set(page.get_by_test_id("cookies").locator("tbody tr td:first-child code").all_inner_texts())
    expected = {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME, "messages"}
    assert expected | {settings.REMEMBER_ME_COOKIE_NAME, settings.DEVICE_COOKIE_NAME} <= set_cookies, set_cookies
    assert set_cookies <= listed, f"cookies the page does not list: {sorted(set_cookies - listed)}"


@pytest.mark.parametrize(("viewport", "javascript"), MODES, ids=MODE_IDS)
def test_axe_finds_nothing_serious_on_the_franceconnect_pages(axe_scan, viewport, javascript, franceconnect):
    """Through the independent provider (conftest.franceconnect): every page of ours the FranceConnect journeys
    show. The provider's own pages are the stand-in's, not checked here."""
    account = AccountFactory(person=in_a_household(lea_person()))
    in_a_household(lea_person(given_names="Emma", nir="2090575112002"))
    franceconnect(
        {
            "lea": {"label": "Léa Martin", **LEA},
            "emma": {"label": "Emma Martin", **LEA, "given_name": "Emma"},
            "nobody": {"label": "Inconnu", **LEA, "family_name": "INCONNU"},
        }
    )
    scan = axe_scan(viewport, javascript)
    page = scan.page
    scan.goto("/connexion/", "login, with FranceConnect")
    scan.goto("/creer-mon-compte/", "signup, with FranceConnect")

    through_franceconnect(page, "Léa Martin")
    scan.check("link an account")
    field(page, PASSWORD_LABEL).fill("Pas-Le-Bon-Mot-De-Passe")
    click(page, "Relier mon compte")
    scan.check("link an account, wrong password")
    click(page, "Recevoir un code")
    scan.check("link an account, code sent")
    field(page, PASSWORD_LABEL).fill(account.raw_password)
    click(page, "Relier mon compte")
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    scan.goto("/mon-espace/mes-informations/", "my information, linked")
    scan.goto("/franceconnect/detacher/", "unlink")
    sign_out(page)
    if not javascript:  # the provider's logout form submits itself with a script; without it, its button
        page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/franceconnect/deconnexion/"))
    scan.check("signed out at both ends")

    through_franceconnect(page, "Emma Martin")
    scan.check("create an account")
    through_franceconnect(page, "Inconnu")
    scan.check("nobody found")
    scan.assert_clean()


@pytest.mark.parametrize(("viewport", "javascript"), MODES, ids=MODE_IDS)
def test_axe_finds_nothing_serious_on_the_requests_and_the_case_pages(
    axe_scan, viewport, javascript, transactional_db, partners, media
):
    """Issue 11's pages at every width, with and without JavaScript: « Mes démarches » and a step with its errors, the
    case's payments, letters and requests and the answer form, then « Faire une demande » signed out. The journeys
    (test_procedures, test_case_pages, test_new_applicant) check the rest of their pages at desktop width."""
    f = family()
    number = f.case.case_number
    partners.push(case_records(number))

    scan = axe_scan(viewport, javascript)
    page = scan.page
    login(page, f.holder.nir, f.holder_account.raw_password)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    scan.goto("/demarches/", "Mes démarches")
    click(page, "Commencer : Demande d'aide au logement")
    expect(page).to_have_url(re.compile(r"/etape/foyer/$"))
    scan.check("housing aid, household")
    choose(page, "seul ou seule")
    field(page, "Nombre d'enfants à votre charge").fill("0")
    click(page, "Continuer")
    expect(page).to_have_url(re.compile(r"/etape/logement/$"))
    click(page, "Continuer")
    expect(page.locator(".fr-message--error").first).to_be_visible()
    scan.check("housing aid, home, errors")
    click(page, "Enregistrer et reprendre plus tard")
    expect(page).to_have_url(re.compile(r"/demarches/$"))
    scan.check("Mes démarches, a draft")

    scan.goto(f"/mon-dossier/{number}/paiements/", "payments")
    scan.goto(f"/mon-dossier/{number}/courriers/", "letters")
    scan.goto(f"/mon-dossier/{number}/demandes-de-la-caf/", "requests")
    scan.goto(f"/mon-dossier/{number}/demandes-de-la-caf/{ids(number).document}/repondre/", "answer")
    click(page, "Envoyer ma réponse")
    expect(page.locator(".fr-message--error")).to_be_visible()
    scan.check("answer, document missing")
    sign_out(page)
    expect(page).to_have_url(re.compile(r"/connexion/$"))

    scan.goto("/faire-une-demande/", "new applicant, identity")
    click(page, "Vérifier mon identité et continuer")
    expect(page.locator(".fr-message--error").first).to_be_visible()
    scan.check("new applicant, identity, errors")
    scan.assert_clean()
