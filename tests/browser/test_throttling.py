"""Login throttling: after five wrong passwords for one NIR from this device, even the right password waits, and the
page says until when (never a permanent lock: a NIR is not a secret)."""

import re
from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import F
from playwright.sync_api import Page, expect

from tests.browser.helpers import field, login, logout
from tests.factories import AccountFactory

LOGIN_FAILED = "Numéro de Sécurité sociale ou mot de passe incorrect."


def submit_login(page: Page, nir: str, password: str):
    """Log in and return the response to the form's POST."""
    with page.expect_response(lambda r: r.url.endswith("/connexion/") and r.request.method == "POST") as info:
        login(page, nir, password)
    return info.value


def test_five_wrong_passwords_suspend_the_login_with_the_time_to_retry(page: Page, migrated):
    nir = migrated.person.nir
    other = AccountFactory()
    for attempt in range(1, 5):
        response = submit_login(page, nir, f"Wrong-pass-{attempt}")
        assert response.status == 400, attempt
        expect(page.get_by_role("alert")).to_contain_text(LOGIN_FAILED)
        expect(field(page, re.compile("^Mot de passe"))).to_have_value("")
    # The fifth failure suspends the login at once (django-axes, AXES_FAILURE_LIMIT = 5)...
    assert submit_login(page, nir, "Wrong-pass-5").status == 429
    expect(page.locator("#lockout-message")).to_contain_text("Trop de mots de passe incorrects")

    # ... and the sixth attempt, even with the right password, waits too.
    response = submit_login(page, nir, migrated.raw_password)
    assert response.status == 429
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion suspendue pour un moment")
    message = page.locator("#lockout-message")
    expect(message).to_contain_text("Trop de mots de passe incorrects")
    expect(message).to_contain_text(re.compile(r"Vous pourrez réessayer à \d{2} h \d{2} \(dans \d+ minutes?\)"))
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    # The way out it offers: the forgotten-password page.
    expect(page.get_by_role("main").get_by_role("link", name="Mot de passe oublié ?")).to_have_attribute(
        "href", "/mot-de-passe-oublie/"
    )

    # Only this NIR is suspended (axes counts per identifier AND address): another person on this device is not.
    assert submit_login(page, other.person.nir, other.raw_password).status == 302
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    logout(page)

    # Never a permanent lock: once the cool-off has passed, the right password opens the account.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME - timedelta(minutes=1))
    assert submit_login(page, nir, migrated.raw_password).status == 302
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
