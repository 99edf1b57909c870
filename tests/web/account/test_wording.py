"""Wording, accessibility and promises, tried as a new user would (issue 7, items 10 to 14): every text is true for
the person reading it, and nothing promises what the site does not do."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from moncompte.households.delegation import delegation_grant, delegation_grant_from_case_pin, delegation_revoke
from moncompte.households.models import Role
from moncompte.journal import kinds
from moncompte.journal.models import Entry
from tests.factories import AccountFactory, CaseFactory, MembershipFactory, PersonFactory
from tests.helpers import errors, page_text

LOGIN = "/connexion/"
RESET = "/mot-de-passe-oublie/"
START = "/creer-mon-compte/"
CONTACT = "/creer-mon-compte/coordonnees/"
ONBOARDING = "/premiere-connexion/bienvenue/"
HISTORY = "/mon-espace/securite/"
MONCOMPTE = Path(settings.BASE_DIR) / "moncompte"
#: Words of features the site does not have yet: the workshops. (Benefit requests, payments, letters and the Caf's
#: requests exist since issue 11: « Mes démarches », « Mes paiements », « Mes courriers », « Demandes de la Caf ».)
PROMISES = re.compile(r"atelier", re.IGNORECASE)
#: Words of what only the holder and a delegated partner see or do: a child is not told of them.
CASE_WORDS = re.compile(
    r"paiement|courriers?\b(?! indésirables)|démarche|prestation|demandes? de la caf", re.IGNORECASE
)


def signed_in_client(account) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(account, backend="moncompte.accounts.authentication.NirBackend")
    return client


# --- Item 10: onboarding speaks to each role ------------------------------------------------------------------------


def arrived(person, via: str, **account):
    """An account opened `via` the case PIN, the member signup, an invitation or a reset, onboarding not seen yet:
    what the journal holds of it is what the services record."""
    account = AccountFactory(person=person, onboarded_at=None, **account)
    Entry.objects.create(kind="account.created", person_id=person.pk, after={"account": account.pk, "via": via})
    return account


def onboarding_text(account) -> str:
    client = signed_in_client(account)
    pages = [client.get(ONBOARDING, {"etape": step}) for step in (1, 2, 3)]
    assert [page.status_code for page in pages] == [200, 200, 200]
    return " ".join(page_text(page) for page in pages)


@pytest.fixture
def case(db):
    """A case with a holder, a partner and a child of 16, nobody with an account yet."""
    case = CaseFactory()
    case.holder = MembershipFactory(case=case, role=Role.HOLDER).person
    case.partner = MembershipFactory(case=case, role=Role.PARTNER, person__sex="F").person
    case.child = MembershipFactory(case=case, role=Role.CHILD, person=PersonFactory(child=True)).person
    return case


HOLDER_ONLY = ("En tant que responsable du dossier", "vous pouvez donner à votre conjoint la délégation")
CASE_PIN_TEXTS = ("mot de passe à 8 chiffres", "mot de passe du dossier")


def test_a_child_who_signed_up_reads_nothing_meant_for_the_holder(case):
    text = onboarding_text(arrived(case.child, "signup"))

    for meant_for_others in (*HOLDER_ONLY, *CASE_PIN_TEXTS, "Votre conjoint"):
        assert meant_for_others not in text, meant_for_others
    assert "Celles des autres membres du foyer sont réservées à l'allocataire" in text
    assert "Adressez-vous à l'allocataire" in text
    assert "votre place dans le dossier" in text


def test_another_member_invited_by_the_holder_reads_nothing_meant_for_the_holder(case):
    other = MembershipFactory(case=case, role=Role.OTHER).person

    text = onboarding_text(arrived(other, "invitation"))

    for meant_for_others in (*HOLDER_ONLY, *CASE_PIN_TEXTS):
        assert meant_for_others not in text, meant_for_others
    assert "réservées à l'allocataire" in text


def test_the_holder_who_came_with_the_case_pin_reads_about_the_pin_the_delegation_and_the_phone(case):
    text = onboarding_text(arrived(case.holder, "case_pin"))

    assert "Le mot de passe à 8 chiffres du dossier ne vous permet plus d'accéder à votre espace en ligne" in text
    assert "En tant que responsable du dossier, vous pouvez donner à votre conjoint la délégation" in text
    assert "inviter à le faire depuis « Mon foyer »" in text
    assert "Par téléphone, continuez pour l'instant à utiliser votre numéro allocataire" in text


def test_a_holder_without_partner_is_not_told_about_delegation(db):
    holder = MembershipFactory(role=Role.HOLDER).person

    text = onboarding_text(arrived(holder, "case_pin"))

    assert "délégation" not in text.lower() and "séparation" not in text.lower()


def test_a_partner_who_came_with_the_case_pin_is_told_the_delegation_came_from_it(case):
    account = arrived(case.partner, "case_pin")
    delegation_grant_from_case_pin(case=case, partner=case.partner)

    text = onboarding_text(account)

    assert "Vous connaissiez le mot de passe du dossier" in text
    assert "L'allocataire en est informé et peut vous la retirer" in text
    for meant_for_the_holder in HOLDER_ONLY:
        assert meant_for_the_holder not in text
    assert "Le mot de passe à 8 chiffres du dossier ne vous permet plus" in text  # it was hers too


def test_a_partner_who_signed_up_without_the_pin_reads_what_she_sees_and_how_to_get_the_delegation(case):
    text = onboarding_text(arrived(case.partner, "signup"))

    for meant_for_others in (*HOLDER_ONLY, *CASE_PIN_TEXTS):
        assert meant_for_others not in text, meant_for_others
    assert "Vous voyez vos propres informations, mais pas celles des autres membres du foyer" in text
    assert "L'allocataire peut vous donner la délégation" in text


def test_a_partner_given_the_delegation_reads_that_she_sees_the_household(case):
    account = arrived(case.partner, "signup")
    holder = AccountFactory(person=case.holder)
    delegation_grant(case=case, holder=holder.person, partner=case.partner)

    text = onboarding_text(account)

    assert "L'allocataire vous a donné la délégation : vous voyez, comme lui, tous les membres du foyer" in text
    assert "« Mon foyer » : les membres de votre foyer et la déclaration de séparation" in text


@pytest.mark.parametrize(("role", "via"), [("holder", "case_pin"), ("partner", "signup"), ("child", "invitation")])
def test_onboarding_promises_nothing_the_site_does_not_do(case, role, via):
    text = onboarding_text(arrived(getattr(case, role), via))

    assert not PROMISES.search(text), PROMISES.search(text)


def test_the_holder_is_told_of_payments_letters_the_cafs_requests_and_benefit_requests(case):
    text = onboarding_text(arrived(case.holder, "case_pin"))

    assert "« Mes paiements » et « Mes courriers » : les paiements de la Caf des 24 derniers mois" in text
    assert "« Demandes de la Caf » : la Caf vous demande un document ou une précision ? Répondez-lui en ligne" in text
    assert "« Mes démarches » : vos demandes de prestation" in text and "reprendre plus tard" in text
    assert "votre conjoint verra alors, comme vous, tous les membres du foyer, les paiements et les courriers" in text


def test_a_delegated_partner_is_told_she_sees_the_payments_and_answers_the_caf(case):
    account = arrived(case.partner, "signup")
    delegation_grant(case=case, holder=AccountFactory(person=case.holder).person, partner=case.partner)

    text = onboarding_text(account)

    assert "« Mes paiements » et « Mes courriers »" in text and "« Demandes de la Caf »" in text
    assert "vous pouvez répondre aux demandes de la Caf et envoyer les demandes de prestation du foyer" in text


def test_a_partner_without_delegation_is_told_what_she_does_not_see_and_that_she_may_prepare_a_request(case):
    text = onboarding_text(arrived(case.partner, "signup"))

    assert "ni les paiements et les courriers du dossier" in text
    assert "« Mes paiements »" not in text and "« Demandes de la Caf »" not in text
    assert "vous pouvez préparer une demande de prestation pour le foyer" in text and "c'est lui qui l'envoie" in text


@pytest.mark.parametrize(("role", "via"), [("child", "signup"), ("child", "invitation"), ("other", "invitation")])
def test_a_child_or_another_member_is_told_of_nothing_they_cannot_see_or_do(case, role, via):
    person = case.child if role == "child" else MembershipFactory(case=case, role=Role.OTHER).person

    text = onboarding_text(arrived(person, via))

    assert not CASE_WORDS.search(text), CASE_WORDS.search(text)


# --- Item 11: no promise in the texts of the accounts and households apps --------------------------------------------


def _template_texts():
    for app in ("accounts", "households"):
        for path in sorted((MONCOMPTE / app / "templates").rglob("*")):
            if path.suffix in (".html", ".txt"):
                yield path
    yield from sorted((MONCOMPTE / "templates").rglob("*.html"))


@pytest.mark.parametrize("path", list(_template_texts()), ids=lambda path: str(path.relative_to(MONCOMPTE)))
def test_no_template_promises_a_feature_that_does_not_exist(path):
    found = PROMISES.search(path.read_text())

    assert found is None, f"{found.group(0)!r} in {path.name}"


GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}


def test_no_message_of_the_code_promises_a_feature_that_does_not_exist():
    found = []
    for path in sorted(MONCOMPTE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in GETTEXT:
                texts = [
                    arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                ]
                found += [f"{path.relative_to(MONCOMPTE)}:{node.lineno}" for text in texts if PROMISES.search(text)]

    assert found == []


# --- Item 12: the old case number typed in the NIR field -----------------------------------------------------------


CASE_NUMBER = "1234567"


def _says_it_is_the_case_number(response) -> None:
    shown = " ".join(errors(response))
    assert "ressemble à un numéro allocataire" in shown
    assert "carte Vitale" in shown and "13 caractères (ou 15 avec la clé)" in shown
    assert "vous en avez saisi 7" not in shown


@pytest.mark.django_db
def test_the_case_number_typed_on_the_login_page_is_recognised(client):
    response = client.post(LOGIN, {"identifier": CASE_NUMBER, "password": "12345678"})

    assert response.status_code == 400
    _says_it_is_the_case_number(response)


@pytest.mark.django_db
def test_the_case_number_typed_on_the_reset_page_is_recognised(client):
    response = client.post(RESET, {"identifier": "123 45 67", "medium": "sms"})

    _says_it_is_the_case_number(response)


@pytest.mark.django_db
def test_the_case_number_typed_on_the_signup_page_is_recognised(client):
    response = client.post(
        START, {"identifier": CASE_NUMBER, "birth_date": "2008-01-01", "given_name": "Léa", "medium": "sms"}
    )

    _says_it_is_the_case_number(response)


@pytest.mark.django_db
def test_another_short_number_still_gets_the_count(client):
    response = client.post(LOGIN, {"identifier": "123456", "password": "12345678"})

    assert "vous en avez saisi 6" in " ".join(errors(response))


def _nir_help(response) -> str:
    body = response.content.decode()
    found = re.search(r'<details[^>]*data-testid="nir-help">(.*?)</details>', body, re.S)
    assert found, "no help beside the NIR field"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


@pytest.mark.django_db
@pytest.mark.parametrize("page", [LOGIN, RESET, START])
def test_the_nir_field_says_where_to_find_the_number_without_javascript(client, page):
    """A native disclosure (<details>): it opens without JavaScript, with the keyboard, and is announced as such."""
    help_text = _nir_help(client.get(page))

    assert "Où trouver mon numéro de Sécurité sociale ?" in help_text
    assert "carte Vitale" in help_text and "attestation de droits" in help_text
    assert "numéro allocataire à 7 chiffres" in help_text


# --- Item 13: codes and contacts -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_after_an_sms_the_code_page_does_not_speak_of_spam(migrated):
    client = signed_in_client(migrated)
    assert client.post("/mon-espace/coordonnees/mobile/", {"value": "06 12 34 56 78"}).status_code == 302

    text = page_text(client.get("/mon-espace/coordonnees/code/"))

    assert "indésirables" not in text
    assert "Vérifiez que votre téléphone capte le réseau" in text


@pytest.mark.django_db
def test_after_an_email_the_code_page_speaks_of_spam(migrated):
    client = signed_in_client(migrated)
    assert client.post("/mon-espace/coordonnees/email/", {"value": "nouvelle@exemple.fr"}).status_code == 302

    text = page_text(client.get("/mon-espace/coordonnees/code/"))

    assert "Vérifiez vos courriers indésirables" in text


def _input(body: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', body).group(0)


def _label(body: str, field_id: str) -> str:
    found = re.search(rf'<label class="fr-label" for="{field_id}">(.*?)</label>', body, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


@pytest.mark.django_db
def test_the_contact_step_never_calls_the_chosen_field_optional(client, household):
    start = {"identifier": household.child.nir, "birth_date": household.child.birth_date.isoformat()}
    client.post(START, {**start, "given_name": household.child.first_name, "medium": "none"})

    page = client.get(CONTACT)
    body = page.content.decode()

    assert "facultatif" not in page_text(page)
    assert "Obligatoire si vous choisissez l'e-mail." in _label(body, "id_email")
    assert "Obligatoire si vous choisissez le SMS." in _label(body, "id_mobile")
    # The preselected medium's field is announced as required; the script moves the mark with the choice.
    assert 'aria-required="true"' in _input(body, "email") and "aria-required" not in _input(body, "mobile")
    assert "web/contact-fields.js" in body

    refused = client.post(CONTACT, {"medium": "sms", "email": "", "mobile": ""})
    body = refused.content.decode()
    assert 'aria-required="true"' in _input(body, "mobile") and "aria-required" not in _input(body, "email")
    assert "Saisissez un numéro de téléphone mobile." in errors(refused)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "with_contact", "title"),
    [
        ("/mon-espace/coordonnees/mobile/", False, "Ajouter un numéro de mobile"),
        ("/mon-espace/coordonnees/email/", True, "Modifier mon adresse e-mail"),
    ],
)
def test_the_contact_page_says_add_when_there_is_nothing_to_change(migrated, path, with_contact, title):
    response = signed_in_client(migrated).get(path)
    body = response.content.decode()

    assert re.search(r"<h1>(.*?)</h1>", body, re.S).group(1).strip() == title
    assert f"<title>{title} — " in body
    assert ("remplacée" in page_text(response)) is with_contact


@pytest.mark.django_db
def test_adding_an_email_when_there_is_none_says_add(db):
    account = AccountFactory(
        email="", email_verified_at=None, mobile="+33612345678", mobile_verified_at="2026-01-01T00:00:00Z"
    )

    body = signed_in_client(account).get("/mon-espace/coordonnees/email/").content.decode()

    assert "<h1>Ajouter une adresse e-mail</h1>" in body


# --- Item 14: the security history and the data document -----------------------------------------------------------


def recorded_kinds() -> set[str]:
    """Every action kind the code records: the first argument of each `record(...)` call (both branches of a
    conditional; the f-string of the undo is `<kind>.undone`, labelled from the kind)."""
    kinds = set()
    for path in MONCOMPTE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name != "record":
                continue
            first = node.args[0]
            choices = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            kinds |= {c.value for c in choices if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return kinds


def test_the_code_records_kinds_we_can_find():
    kinds = recorded_kinds()

    assert {"login.succeeded", "delegation.granted", "password.created", "signup.code_sent"} <= kinds


@pytest.mark.parametrize("kind", sorted(recorded_kinds()))
def test_every_recorded_kind_has_a_french_label(kind):
    assert kind in kinds.declared(), f"{kind!r} is not declared in any app's kinds.py"
    label = kinds.label(Entry(kind=kind))
    undone = kinds.label(Entry(kind=f"{kind}.undone"))
    assert label and "." not in label.rstrip("."), label
    assert undone == f"Annulation : {label}"


def _buttons(response) -> list[str]:
    """The accessible name of each "Ce n'était pas moi" button: its text, without what is hidden from screen
    readers."""
    body = response.content.decode()
    names = []
    for button in re.findall(r"<button[^>]*>(.*?)</button>", body, re.S):
        spoken = re.sub(r'<span aria-hidden="true">.*?</span>', " ", button, flags=re.S)
        name = " ".join(re.sub(r"<[^>]+>", " ", spoken).split())
        if name.startswith("Ce n'était pas moi") or "Ce n&#x27;était pas moi" in name:
            names.append(name)
    return names


@pytest.mark.django_db
def test_a_grant_and_a_revocation_of_the_delegation_read_differently(db):
    holder = AccountFactory()
    case = MembershipFactory(person=holder.person, role=Role.HOLDER).case
    partner = MembershipFactory(case=case, role=Role.PARTNER, person__sex="F").person
    client = signed_in_client(holder)
    from moncompte.journal import context as journal_context

    with journal_context.acting(actor_account_id=holder.pk):
        delegation_grant(case=case, holder=holder.person, partner=partner)
        delegation_revoke(case=case, holder=holder.person)

    response = client.get(HISTORY)
    text = page_text(response)

    assert "Délégation accordée au conjoint" in text and "Délégation retirée au conjoint" in text
    names = _buttons(response)
    assert any("Délégation accordée au conjoint" in name for name in names)
    assert any("Délégation retirée au conjoint" in name for name in names)


@pytest.mark.django_db
def test_each_not_me_button_has_its_own_name_for_screen_readers(db):
    account = AccountFactory()
    for kind in ("login.succeeded", "login.failed", "password.changed", "login.succeeded", "login.failed"):
        Entry.objects.create(kind=kind, person_id=account.person_id, actor_account_id=account.pk)
    client = signed_in_client(account)

    names = [name.replace("&#x27;", "'") for name in _buttons(client.get(HISTORY))]

    assert len(names) >= 5
    assert all(re.match(r"Ce n'était pas moi : .+, le \d{1,2} \w+ \d{4} à \d\d:\d\d", name) for name in names), names
    assert "Ce n'était pas moi : Connexion réussie, le " in " ".join(names)


@pytest.mark.django_db
def test_the_data_document_shows_no_raw_kind(db):
    account = AccountFactory()
    kinds = sorted(recorded_kinds())
    for kind in kinds:
        Entry.objects.create(kind=kind, person_id=account.person_id, after={"medium": "sms"})
    Entry.objects.create(kind="delegation.granted.undone", person_id=account.person_id)
    from moncompte.accounts.models import SecurityReport

    SecurityReport.objects.create(account=account, kind="signup.code_sent", source="history")

    document = page_text(signed_in_client(account).get("/mon-espace/mes-informations/telecharger/document/"))

    for kind in kinds:
        assert kind not in document, kind
    assert "Envoi d'un code pour créer votre compte" in document
    assert "Annulation : Délégation accordée au conjoint" in document
