"""Contact change with the notice to the old address (issue 3, items 6 and 8): the person changes their e-mail with a
code sent to the new address; the old address gets a notice whose "Ce n'était pas moi" link, opened on another
device, signs every session out, restores the old address and leads to a new password."""

import re

from playwright.sync_api import Page, expect

from moncompte.accounts.models import Account, SecurityReport
from moncompte.messaging.models import OutboxMessage
from tests.browser.helpers import choose, click, field, login, set_new_password
from tests.helpers import last_code

NEW_EMAIL = "adresse.pirate@exemple.fr"
NEW_PASSWORD = "Hx5-Qb7-Zt2w"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_email_change_then_not_me_from_the_notice_restores_the_old_address(open_page, migrated, transactional_db):
    old_email, nir = migrated.email, migrated.person.nir
    page = open_page()
    login(page, nir, migrated.raw_password)
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))

    # "Mes informations" → change the e-mail (the password was just typed: no re-authentication needed yet).
    page.goto("/mon-espace/mes-informations/")
    expect(page.get_by_test_id("email")).to_have_text(old_email)
    page.get_by_role("link", name="Modifier mon adresse e-mail").click()
    expect(heading(page)).to_have_text("Modifier mon adresse e-mail")
    field(page, "Nouvelle adresse e-mail").fill(NEW_EMAIL)
    click(page, "Recevoir un code")
    expect(page).to_have_url(re.compile(r"/mon-espace/coordonnees/code/$"))
    expect(page.get_by_role("main")).to_contain_text("a•••@exemple.fr")
    field(page, "Code reçu").fill(last_code(to=NEW_EMAIL))
    click(page, "Valider")
    expect(page).to_have_url(re.compile(r"/mon-espace/mes-informations/$"))
    expect(page.get_by_text("Votre adresse e-mail est modifiée.")).to_be_visible()
    expect(page.get_by_test_id("email")).to_have_text(NEW_EMAIL)

    # The old address got a notice with the link; the owner opens it on another device, signed out.
    notice = OutboxMessage.objects.get(to=old_email, template="accounts/notices/contact_changed_old")
    link = re.search(r"https?://\S+/ce-n-etait-pas-moi/\S+/", notice.body).group(0)
    owner = open_page()
    owner.goto(link)
    expect(heading(owner)).to_have_text("Ce n'était pas moi")
    expect(owner.get_by_role("main")).to_contain_text("Changement de l'adresse e-mail")
    click(owner, "Confirmer : ce n'était pas moi")
    expect(heading(owner)).to_have_text("Votre signalement est enregistré")
    expect(owner.get_by_test_id("done")).to_contain_text("Votre ancienne coordonnée a été rétablie")
    assert Account.objects.get(pk=migrated.pk).email == old_email
    assert SecurityReport.objects.filter(account=migrated, source="notice").exists()

    # The session that changed the address is signed out at its next request.
    page.goto("/mon-espace/")
    expect(page).to_have_url(re.compile(r"/connexion/"))
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)

    # The old password no longer works; the reset code goes to the restored old address.
    login(page, nir, migrated.raw_password)
    expect(page.get_by_role("alert")).to_contain_text("Numéro de Sécurité sociale ou mot de passe incorrect.")
    owner.get_by_role("link", name="Choisir un nouveau mot de passe").click()
    field(owner, "Numéro de Sécurité sociale").fill(nir)
    choose(owner, "Par e-mail, à mon adresse connue de la Caf")
    click(owner, "Recevoir un code")
    field(owner, "Code reçu").fill(last_code(to=old_email))
    set_new_password(owner, NEW_PASSWORD)
    click(owner, "Enregistrer mon nouveau mot de passe")
    expect(owner).to_have_url(re.compile(r"/mon-espace/$"))
    expect(owner.get_by_text("Votre nouveau mot de passe est enregistré. Vous êtes connecté.")).to_be_visible()
    assert not OutboxMessage.objects.filter(to=NEW_EMAIL, template="verification/reset").exists()

    # The link works once: opened again, it says so and changes nothing.
    owner.goto(link)
    expect(owner.get_by_test_id("already-reported")).to_contain_text("Ce signalement a déjà été pris en compte")
    assert Account.objects.get(pk=migrated.pk).check_password(NEW_PASSWORD)


def test_a_tampered_link_shows_a_clear_french_page(page: Page, migrated, transactional_db):
    page.goto("/ce-n-etait-pas-moi/eyJhIjoxLCJlIjoxfQ:1abcde:faux/")

    expect(heading(page)).to_have_text("Lien non valide")
    expect(page.get_by_role("main")).to_contain_text("Rien n'a été modifié sur votre compte.")
    assert not SecurityReport.objects.exists()


def test_changing_the_mobile_accepts_an_overseas_number(page: Page, migrated, transactional_db):
    login(page, migrated.person.nir, migrated.raw_password)
    page.goto("/mon-espace/coordonnees/mobile/")
    field(page, "Nouveau numéro de téléphone mobile").fill("01 23 45 67 89")
    click(page, "Recevoir un code")
    expect(page.locator(".fr-message--error")).to_contain_text("Ce numéro n'est pas un numéro de mobile")

    field(page, "Nouveau numéro de téléphone mobile").fill("0692 12 34 56")
    click(page, "Recevoir un code")
    expect(page.get_by_role("main")).to_contain_text("0692 •• •• 56")
    field(page, "Code reçu").fill(last_code(to="+262692123456"))
    click(page, "Valider")
    expect(page.get_by_text("Votre numéro de mobile est modifié.")).to_be_visible()
    expect(page.get_by_test_id("mobile")).to_have_text("+262 692 12 34 56")
