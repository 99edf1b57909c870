"""One-time codes on the contact-validation page: attempts left, attempt limit, expiry, resend delay, and a resend
voiding the previous code."""

import re
from datetime import timedelta

from django.db.models import F
from django.utils import timezone
from playwright.sync_api import Page, expect

from moncompte.verification.models import OneTimeCode
from tests.browser.helpers import choose, click, field, login, set_new_password
from tests.helpers import last_code

EMAIL = "aurelien.lefevre@exemple.fr"
CODE_PAGE = re.compile(r"/premiere-connexion/coordonnees/code/$")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def enter_code(page: Page, code: str) -> None:
    field(page, "Code reçu").fill(code)
    click(page, "Valider")


def code_error(page: Page):
    return page.locator("#id_code-messages")


def test_attempts_expiry_and_resend(page: Page, household):
    holder = household.holder
    login(page, holder.nir, household.case.pin)
    set_new_password(page, "Kq7-Wz3-Xv9m")
    click(page, "Créer mon mot de passe")
    choose(page, "Par e-mail")
    field(page, "Adresse e-mail").fill("")  # prefilled with the address on file
    click(page, "Recevoir un code")
    expect(page.locator("#id_email-messages")).to_have_text("Saisissez votre adresse e-mail.")
    field(page, "Adresse e-mail").fill(EMAIL)
    click(page, "Recevoir un code")
    expect(page).to_have_url(CODE_PAGE)
    expect(page.get_by_role("main")).to_contain_text("à l'adresse a•••@exemple.fr")
    first = last_code(to=EMAIL)

    # A wrong code says how many tries are left.
    enter_code(page, wrong(first))
    expect(code_error(page)).to_have_text("Code incorrect. Il vous reste 4 essais.")
    for left in ("3 essais", "2 essais", "1 essai"):
        enter_code(page, wrong(first))
        expect(code_error(page)).to_have_text(f"Code incorrect. Il vous reste {left}.")
    enter_code(page, wrong(first))
    expect(code_error(page)).to_contain_text("Vous avez épuisé vos essais : demandez un nouveau code.")

    # After five wrong codes, even the right one is refused.
    enter_code(page, first)
    expect(page).to_have_url(CODE_PAGE)
    expect(code_error(page)).to_have_text(re.compile("demandez un nouveau code", re.I))

    # A new code cannot be asked for within 60 seconds of the previous one.
    click(page, "Recevoir un nouveau code")
    expect(page.get_by_role("alert")).to_contain_text("Un code vient d'être envoyé.")
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile(r"Vous pourrez en demander un nouveau dans \d+ secondes")
    )
    assert OneTimeCode.objects.filter(person=holder).count() == 1

    # Two minutes later, it can; the previous code stops working.
    OneTimeCode.objects.filter(person=holder).update(created_at=F("created_at") - timedelta(minutes=2))
    click(page, "Recevoir un nouveau code")
    expect(
        page.get_by_text("Un nouveau code vient de vous être envoyé. L'ancien code ne fonctionne plus.")
    ).to_be_visible()
    second = last_code(to=EMAIL)
    assert OneTimeCode.objects.filter(person=holder).count() == 2
    if second != first:  # one chance in a million that the new code is the old one
        enter_code(page, first)
        expect(code_error(page)).to_have_text("Code incorrect. Il vous reste 4 essais.")

    # An expired code is refused, even though it is the right one.
    OneTimeCode.objects.filter(person=holder, used_at=None, voided_at=None).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    enter_code(page, second)
    expect(page).to_have_url(CODE_PAGE)
    expect(code_error(page)).to_have_text("Ce code a expiré. Demandez un nouveau code.")

    # A fresh code works, once.
    OneTimeCode.objects.filter(person=holder).update(created_at=F("created_at") - timedelta(minutes=2))
    click(page, "Recevoir un nouveau code")
    third = last_code(to=EMAIL)
    enter_code(page, third)
    expect(page).to_have_url(re.compile(r"/premiere-connexion/bienvenue/$"))
    assert OneTimeCode.objects.filter(person=holder, used_at__isnull=False).count() == 1
