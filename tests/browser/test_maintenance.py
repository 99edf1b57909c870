"""Issue 12, item 1, in Chromium: while the service is closed a person reaches the maintenance page (HTTP 503, in
French, accessible), whatever page they open; once reopened, the login page is back."""

import re

from playwright.sync_api import expect

from moncompte.incidents import services


def test_the_maintenance_page_while_closed_then_the_site_again(axe_scan, transactional_db, migrated):
    scan = axe_scan("mobile", False)  # the page loads no script: it must not need one
    page = scan.page
    services.service_close(reason="Exercice", actor="test")

    for path in ("/connexion/", "/mon-espace/", "/demarches/"):
        response = page.goto(path)
        assert response.status == 503 and response.headers["retry-after"] == "3600"
        expect(page.get_by_role("heading", level=1)).to_have_text("Mon Compte est momentanément fermé")
        expect(page.get_by_role("main")).to_contain_text("Revenez un peu plus tard")
        expect(page.get_by_role("link")).to_have_count(0)  # nothing to follow while closed
    scan.check("maintenance")
    scan.assert_clean()

    services.service_reopen(actor="test")
    page.goto("/connexion/")
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()
