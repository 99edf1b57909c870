"""The holder grants, then revokes, the delegation to the partner from "Mon foyer", confirming their password first;
the partner's view of the household follows, and both are told by e-mail."""

import re
import time
from importlib import import_module

from django.conf import settings
from playwright.sync_api import Page, expect

from moncompte.accounts.sessions import SESSION_AUTH_AT
from moncompte.households.models import Delegation
from moncompte.messaging.models import OutboxMessage
from tests.browser.helpers import PASSWORD_LABEL, click, field, login
from tests.factories import family


def age_password_entry(page: Page) -> None:
    """As if the password had been typed an hour ago: the next security change asks for it again."""
    key = next(c["value"] for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    session[SESSION_AUTH_AT] = time.time() - 3600
    session.save()


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_the_holder_grants_and_revokes_the_delegation_after_confirming_the_password(open_page, transactional_db):
    f = family(children=1)
    holder_page = open_page()
    login(holder_page, f.holder.nir, f.holder_account.raw_password)
    expect(holder_page).to_have_url(re.compile(r"/mon-espace/$"))

    partner_page = open_page()
    login(partner_page, f.partner.nir, f.partner_account.raw_password)
    partner_page.goto("/mon-foyer/")
    expect(partner_page.get_by_test_id("limits")).to_contain_text("l'allocataire ne vous a pas donné de délégation")
    expect(partner_page.get_by_role("main")).not_to_contain_text(f.children[0].full_name)

    # Some time later: the holder must type the password again before changing the delegation.
    age_password_entry(holder_page)
    holder_page.goto("/mon-foyer/")
    expect(holder_page.get_by_test_id("delegation-status")).to_contain_text("Votre conjoint n'a pas la délégation")
    holder_page.get_by_role("link", name="Gérer la délégation").click()
    expect(heading(holder_page)).to_have_text("Confirmez votre mot de passe")
    field(holder_page, PASSWORD_LABEL).fill(f.holder_account.raw_password)
    click(holder_page, "Confirmer")
    expect(heading(holder_page)).to_have_text("Délégation à votre conjoint")

    click(holder_page, f"Accorder la délégation à {f.partner.full_name}")
    expect(holder_page.get_by_role("status")).to_contain_text(f"La délégation est accordée à {f.partner.full_name}")
    expect(holder_page.get_by_test_id("delegation-status")).to_contain_text(f"{f.partner.full_name} a la délégation")
    assert Delegation.objects.filter(case=f.case, partner=f.partner, revoked_at__isnull=True).exists()
    partner_notice = OutboxMessage.objects.get(to=f.partner_account.email)
    assert "l'allocataire vous a accordé la délégation" in partner_notice.body
    assert OutboxMessage.objects.filter(to=f.holder_account.email, template__endswith="delegation_granted").exists()

    # The partner now sees the whole household.
    partner_page.reload()
    expect(partner_page.get_by_test_id("limits")).to_have_count(0)
    expect(partner_page.get_by_role("main")).to_contain_text(f.children[0].full_name)
    expect(partner_page.get_by_test_id("delegation-status")).to_contain_text("Vous avez la délégation")

    # The holder takes it back.
    click(holder_page, "Retirer la délégation")
    expect(holder_page.get_by_role("status")).to_contain_text("est retirée")
    expect(holder_page.get_by_role("button", name=re.compile("^Accorder la délégation"))).to_be_visible()
    assert not Delegation.objects.filter(case=f.case, revoked_at__isnull=True).exists()
    assert OutboxMessage.objects.filter(to=f.partner_account.email, template__endswith="delegation_revoked").exists()

    partner_page.reload()
    expect(partner_page.get_by_test_id("limits")).to_be_visible()
    expect(partner_page.get_by_role("main")).not_to_contain_text(f.children[0].full_name)

    # The partner cannot change it: their delegation page only explains.
    partner_page.goto(f"/mon-foyer/{f.case.case_number}/delegation/")
    expect(partner_page.get_by_test_id("delegation-status")).to_contain_text(
        "Seul l'allocataire du dossier peut accorder ou retirer la délégation."
    )
    expect(partner_page.get_by_role("button", name=re.compile("délégation"))).to_have_count(0)
