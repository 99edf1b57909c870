"""The new-password rules: live feedback while typing (password-rules.js) and the server's French message for each
refused password, with and without JavaScript."""

import re

import pytest
from playwright.sync_api import Page, expect

from moncompte.identity.models import Person
from tests.browser.helpers import click, field, field_errors, login, set_new_password

CREATE = "Créer mon mot de passe"
VALID = re.compile(r"\bfr-message--valid\b")
INFO = re.compile(r"\bfr-message--info\b")
RULES = ("length", "lower", "upper", "digit", "entropy")


@pytest.fixture
def holder(household):
    """The holder, with a name and a birth date the tests can build passwords from."""
    Person.objects.filter(pk=household.holder.pk).update(birth_name="Lefèvre", usage_name="", given_names="Aurélien")
    household.holder.refresh_from_db()
    return household.holder


def open_create_password_page(page: Page, holder, pin: str) -> None:
    login(page, holder.nir, pin)
    expect(page).to_have_url(re.compile(r"/premiere-connexion/mot-de-passe/$"))


def rule(page: Page, name: str):
    return page.locator(f"#id_password1-rules [data-rule={name}]")


def expect_rules(page: Page, *valid: str) -> None:
    for name in RULES:
        item = rule(page, name)
        if name in valid:
            expect(item, f"rule {name} should be met").to_have_class(VALID)
            expect(item).not_to_have_class(INFO)
        else:
            expect(item, f"rule {name} should not be met").to_have_class(INFO)
            expect(item).not_to_have_class(VALID)


def test_rules_light_up_as_the_person_types(page: Page, holder, household):
    open_create_password_page(page, holder, household.case.pin)
    password = field(page, "Nouveau mot de passe")
    expect_rules(page)  # nothing typed yet: every rule is still to meet

    password.press_sequentially("a")
    expect_rules(page, "lower")
    password.press_sequentially("B")
    expect_rules(page, "lower", "upper")
    password.press_sequentially("3")
    expect_rules(page, "lower", "upper", "digit")
    password.press_sequentially("xyzw")  # 7 characters
    expect_rules(page, "lower", "upper", "digit")
    password.press_sequentially("k")  # 8 characters, but without a special character: too easy to guess (CNIL)
    expect_rules(page, "lower", "upper", "digit", "length")
    password.press_sequentially("!")
    expect_rules(page, *RULES)
    password.press_sequentially("q" * 15)  # 24 characters: still fine
    expect_rules(page, *RULES)
    password.press_sequentially("q")  # 25: too long
    expect_rules(page, "lower", "upper", "digit", "entropy")

    password.fill("aB3xyzwkq")  # 9 characters: the three classes are enough from 9 on
    expect_rules(page, *RULES)
    password.fill("")
    expect_rules(page)

    # Screen readers hear the state of each rule, and a summary once the person pauses.
    password.fill("abc")
    expect(rule(page, "lower")).to_contain_text("(respecté)")
    expect(rule(page, "upper")).to_contain_text("(non respecté)")
    expect(page.locator("#id_password1-rules-status")).to_contain_text("Règles non respectées")

    # The show/hide button.
    toggle = page.get_by_role("button", name="Afficher le mot de passe")
    toggle.click()
    expect(password).to_have_attribute("type", "text")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    expect(password).to_have_attribute("type", "password")


TOO_SHORT = "Le mot de passe doit comporter au moins 8 caractères."
TOO_LONG = "Le mot de passe doit comporter au plus 24 caractères."
NO_LOWER = "Le mot de passe doit contenir au moins une lettre minuscule."
NO_UPPER = "Le mot de passe doit contenir au moins une lettre majuscule."
NO_DIGIT = "Le mot de passe doit contenir au moins un chiffre."
GUESSABLE = "Ce mot de passe est trop facile à deviner"
COMMON = "Ce mot de passe est trop courant."
BREACHED_BASE = (
    "Ce mot de passe est construit sur l'un des mots de passe les plus répandus dans les fuites de données : "
    "choisissez-en un autre."
)
PERSONAL = (
    "Le mot de passe ne doit pas contenir votre nom, votre prénom, votre date de naissance"
    " ni votre numéro de Sécurité sociale."
)
MISMATCH = "Les deux mots de passe ne sont pas identiques."


def refused_passwords(holder) -> list[tuple[str, str, str, list[str]]]:
    """(what, password, confirmation, every message expected, from validators.py and forms.py). A password breaking
    several rules gets every message at once."""
    return [
        ("short, lowercase only", "kqxwzt", "kqxwzt", [TOO_SHORT, NO_UPPER, NO_DIGIT, GUESSABLE]),
        (
            "25 characters, no lowercase",
            "KQXWZ-TPLMN-RVBCD-7SJHG-Y",
            "KQXWZ-TPLMN-RVBCD-7SJHG-Y",
            [TOO_LONG, NO_LOWER],
        ),
        ("8 characters without a special one (CNIL)", "Kq7Wz3Xv", "Kq7Wz3Xv", [GUESSABLE]),
        ("common", "Soleil2024!", "Soleil2024!", [COMMON, BREACHED_BASE]),
        ("birth name", "LEFEVRE-kq7!", "LEFEVRE-kq7!", [PERSONAL]),
        ("birth date", "Kq-01/05/1984-x", "Kq-01/05/1984-x", [PERSONAL]),
        ("NIR", f"Kq-{holder.nir}", f"Kq-{holder.nir}", [PERSONAL]),
        ("confirmation differs", "Kq7-Wz3-Xv9m", "Kq7-Wz3-Xv9n", [MISMATCH]),
    ]


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_each_rule_refuses_with_its_french_message(open_page, new_context, holder, household, javascript):
    page = open_page(new_context(java_script_enabled=javascript))
    open_create_password_page(page, holder, household.case.pin)
    failures = []
    for what, password, confirmation, expected in refused_passwords(holder):
        set_new_password(page, password, confirmation)
        click(page, CREATE)
        expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient des erreurs")
        shown = field_errors(page).all_inner_texts()
        missing = [message for message in expected if not any(message in text for text in shown)]
        if missing or len(shown) != len(expected):
            failures.append(f"{what}: {password!r} → shown {shown!r}, missing {missing!r}")
        expect(page).to_have_url(re.compile(r"/premiere-connexion/mot-de-passe/$"))
        # A refused password is never echoed back into the page.
        expect(field(page, "Nouveau mot de passe")).to_have_value("")
        assert password not in page.content()
        if not javascript:
            break  # one refusal proves the server checks without the browser's help; the rest is the same code
    assert not failures, "\n".join(failures)

    set_new_password(page, "Kq7-Wz3-Xv9m")
    click(page, CREATE)
    expect(page).to_have_url(re.compile(r"/premiere-connexion/coordonnees/$"))
