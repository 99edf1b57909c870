"""What the browser tests share besides fixtures (those are in `conftest.py`): finding and filling the controls as a
person does, signing in and out, and the accessibility checks every page runs."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from moncompte.households.models import Role
from tests.factories import AccountFactory, CaseFactory, MembershipFactory

# Basic accessibility checks, run by every page of every test once it has loaded; problems go to the console as
# "a11y: …" errors and fail the test. (axe-core would need npm; these need nothing but the browser.)
A11Y_CHECKS = """() => {
  const problems = [];
  const lang = document.documentElement.getAttribute("lang");
  if (lang !== "fr") problems.push(`html lang="${lang}"`);
  if (!document.title.trim()) problems.push("empty <title>");
  const h1 = document.querySelectorAll("h1");
  if (h1.length !== 1) problems.push(`${h1.length} h1`);
  for (const control of document.querySelectorAll("input, select, textarea")) {
    if (control.type === "hidden") continue;
    const labelled = [...(control.labels || [])].some((label) => label.textContent.trim())
      || (control.getAttribute("aria-label") || "").trim()
      || (control.getAttribute("aria-labelledby") || "").trim();
    if (!labelled) problems.push(`no label for ${control.outerHTML}`);
  }
  const ids = [...document.querySelectorAll("[id]")].map((element) => element.id);
  const duplicates = ids.filter((id, index) => ids.indexOf(id) !== index);
  if (duplicates.length) problems.push(`duplicate ids: ${[...new Set(duplicates)].join(", ")}`);
  for (const attribute of ["aria-describedby", "aria-labelledby", "aria-controls"]) {
    for (const element of document.querySelectorAll(`[${attribute}]`)) {
      for (const id of element.getAttribute(attribute).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) problems.push(`${attribute}="${id}" points nowhere`);
      }
    }
  }
  for (const control of document.querySelectorAll("button, a[href]")) {
    const name = (control.textContent || "").trim() || control.getAttribute("aria-label") || control.title;
    if (!name) problems.push(`no accessible name: ${control.outerHTML}`);
  }
  return problems;
}"""


def field(page: Page, label: str | re.Pattern) -> Locator:
    """The form control whose label contains `label` (a fieldset's aria-label with the same words is skipped)."""
    return page.get_by_label(label).and_(page.locator("input, select, textarea"))


PASSWORD_LABEL = re.compile(r"^Mot de passe")


def choose(page: Page, label: str, checked: bool = True) -> None:
    """Tick a radio button or a checkbox the way a person does with DSFR's styled controls: on its label (the label
    covers the real input)."""
    control = field(page, label)
    if control.is_checked() != checked:
        page.locator(f"label[for='{control.get_attribute('id')}']").click()
    expect(control).to_be_checked(checked=checked)


def click(page: Page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def login(page: Page, nir: str, password: str, *, remember: bool | None = None) -> None:
    if not (page.url.endswith("/connexion/") and page.get_by_role("button", name="Se connecter").count()):
        page.goto("/connexion/")
    field(page, "Numéro de Sécurité sociale").fill(nir)
    field(page, PASSWORD_LABEL).fill(password)
    if remember is not None:
        choose(page, "Se souvenir de moi", remember)
    click(page, "Se connecter")


def logout(page: Page) -> None:
    click(page, "Se déconnecter")
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.get_by_text("Vous êtes déconnecté")).to_be_visible()


def set_new_password(page: Page, password: str, confirmation: str | None = None) -> None:
    field(page, "Nouveau mot de passe").fill(password)
    field(page, "Confirmez le mot de passe").fill(password if confirmation is None else confirmation)


def spaced(nir: str) -> str:
    """A NIR as printed on the carte Vitale: 1 84 05 75 123 456."""
    return f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]}"


def field_errors(page: Page) -> Locator:
    return page.locator(".fr-message--error")


# --- FranceConnect (the independent provider of conftest.franceconnect) ------------------------------------------


def in_a_household(person):
    """The person, a child of a new case whose holder has an account."""
    case = CaseFactory()
    MembershipFactory(case=case, role=Role.HOLDER, person=AccountFactory().person)
    MembershipFactory(case=case, role=Role.CHILD, person=person)
    return person


def through_franceconnect(page: Page, identity: str) -> None:
    """Click the button, pick the identity at the provider, consent, come back."""
    page.goto("/connexion/")
    page.get_by_role("button", name=re.compile("identifier avec")).click()
    page.get_by_role("button", name=identity).click()
    _resume(page)
    page.get_by_role("button", name="Continuer").click()
    _resume(page)


def _resume(page: Page) -> None:
    """Without JavaScript, the provider's page between two steps waits for a click (a script submits it otherwise)."""
    page.wait_for_load_state()
    resume = page.get_by_role("button", name="Continue", exact=True)
    if resume.count():
        resume.click()


def sign_out(page: Page) -> None:
    """« Se déconnecter », from the small screens' menu when the header folds into one."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("button", name="Se déconnecter", exact=True).first.click()
