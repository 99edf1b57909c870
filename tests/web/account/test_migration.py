"""First login with the case PIN (issue 2, item 6): password, contact validated by code, onboarding, dashboard; the
gate that allows nothing else on the way; who may use the PIN and until when; the password rules server-side
(item 7); the contact codes (item 9); the journal of each step (item 12)."""

import html
import re
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from moncompte.accounts.models import Account
from moncompte.households.models import Role
from moncompte.journal.models import Channel, Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.verification.models import OneTimeCode
from tests.factories import CaseFactory, MembershipFactory, PersonFactory
from tests.helpers import errors, last_code, page_text

LOGIN = "/connexion/"
LOGOUT = "/deconnexion/"
DASHBOARD = "/mon-espace/"
PASSWORD = "/premiere-connexion/mot-de-passe/"
CONTACT = "/premiere-connexion/coordonnees/"
CONTACT_CODE = "/premiere-connexion/coordonnees/code/"
ONBOARDING = "/premiere-connexion/bienvenue/"
NEW_PASSWORD = "Tr0mbone-Vert"
LOGIN_FAILED = (
    "Numéro de Sécurité sociale ou mot de passe incorrect. Si vous ne vous êtes jamais connecté avec votre numéro "
    "de Sécurité sociale, saisissez le mot de passe à 8 chiffres de votre dossier."
)


def shown_errors(response) -> list[str]:
    return [html.unescape(message) for message in errors(response)]


def login(client, person, secret, **extra):
    return client.post(LOGIN, {"identifier": person.nir, "password": secret}, **extra)


def create_password(client, password=NEW_PASSWORD, confirmation=None):
    return client.post(
        PASSWORD, {"password1": password, "password2": password if confirmation is None else confirmation}
    )


def send_contact_code(client, medium="email", email="", mobile=""):
    return client.post(CONTACT, {"medium": medium, "email": email, "mobile": mobile})


def shift_codes_back(seconds=61):
    """Make every code older, as if the person had waited (the resend delay is 60 s)."""
    OneTimeCode.objects.update(created_at=F("created_at") - timedelta(seconds=seconds))


def migrate(client, person, pin, email):
    assert login(client, person, pin).status_code == 302
    assert create_password(client).status_code == 302
    assert send_contact_code(client, email=email).status_code == 302
    assert client.post(CONTACT_CODE, {"code": last_code(email)}).status_code == 302
    assert client.post(ONBOARDING).status_code == 302


def account_of(person) -> Account:
    return Account.objects.get(person=person)


# --- The journey ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_holder_migrates_step_by_step_with_the_case_pin_and_an_email(client, household):
    holder = household.holder

    response = login(client, holder, household.case.pin)
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == PASSWORD

    page = client.get(PASSWORD)
    assert page.status_code == 200
    assert "Créer votre mot de passe personnel" in page_text(page)

    response = create_password(client)
    assert response["Location"] == CONTACT, shown_errors(response)
    account = account_of(holder)
    assert account.has_usable_password()
    assert account.check_password(NEW_PASSWORD)
    assert "Votre mot de passe est créé." in page_text(client.get(CONTACT))

    response = send_contact_code(client, email="Paul.Martin@Exemple.fr")
    assert response["Location"] == CONTACT_CODE
    message = OutboxMessage.objects.get(to="paul.martin@exemple.fr")
    assert message.medium == "email"
    page = client.get(CONTACT_CODE)
    assert "p•••@exemple.fr" in page_text(page)
    assert "paul.martin@exemple.fr" not in page_text(page)

    response = client.post(CONTACT_CODE, {"code": last_code("paul.martin@exemple.fr")})
    assert response["Location"] == ONBOARDING
    account.refresh_from_db()
    assert account.email == "paul.martin@exemple.fr"
    assert account.email_verified_at is not None

    for step in (1, 2, 3):
        page = client.get(f"{ONBOARDING}?etape={step}")
        assert page.status_code == 200
        assert f"Écran {step} sur 3" in page_text(page)
    assert "Votre nouvel identifiant" in page_text(client.get(ONBOARDING))

    response = client.post(ONBOARDING)
    assert response["Location"] == DASHBOARD
    account.refresh_from_db()
    assert account.onboarded_at is not None
    assert account.migration_done


@pytest.mark.django_db
def test_the_dashboard_shows_name_case_number_role_and_household_members(client, household):
    migrate(client, household.holder, household.case.pin, "paul@exemple.fr")

    response = client.get(DASHBOARD)

    assert response.status_code == 200
    text = page_text(response)
    holder = household.holder
    assert f"Bonjour {holder.first_name} {holder.last_name}" in text
    assert f"Dossier n° {household.case.case_number}" in text
    assert "Votre rôle : Allocataire (responsable de dossier)" in text
    for member, role in (
        (household.holder, "Allocataire (responsable de dossier)"),
        (household.partner, "Conjoint"),
        (household.child, "Enfant"),
    ):
        assert re.search(
            rf"<td>{re.escape(member.full_name)}</td><td>{re.escape(role)}</td>",
            html.unescape(response.content.decode()),
        ), member.full_name


@pytest.mark.django_db
def test_partner_migrates_with_the_case_pin_and_a_reunion_mobile_by_sms(client, household):
    partner = household.partner
    login(client, partner, household.case.pin)
    create_password(client)

    response = send_contact_code(client, medium="sms", mobile="0692 12 34 56")

    assert response["Location"] == CONTACT_CODE
    message = OutboxMessage.objects.get(to="+262692123456")
    assert message.medium == "sms"
    assert "0692 •• •• 56" in page_text(client.get(CONTACT_CODE))
    response = client.post(CONTACT_CODE, {"code": last_code("+262692123456")})
    assert response["Location"] == ONBOARDING
    account = account_of(partner)
    assert account.mobile == "+262692123456"
    assert account.mobile_verified_at is not None
    assert account.email_verified_at is None
    client.post(ONBOARDING)
    text = page_text(client.get(DASHBOARD))
    assert "Votre rôle : Conjoint" in text
    assert f"Dossier n° {household.case.case_number}" in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("+33 7 81 23 45 67", "+33781234567"),
        ("0692 12 34 56", "+262692123456"),
        ("0690 12 34 56", "+590690123456"),
        ("0696 12 34 56", "+596696123456"),
        ("0694 12 34 56", "+594694123456"),
        ("0639 69 12 34", "+262639691234"),
    ],
)
def test_metropolitan_and_overseas_mobiles_are_stored_in_international_form(client, household, typed, e164):
    login(client, household.holder, household.case.pin)
    create_password(client)

    response = send_contact_code(client, medium="sms", mobile=typed)

    assert response.status_code == 302, shown_errors(response)
    assert OutboxMessage.objects.filter(to=e164, medium="sms").count() == 1


@pytest.mark.django_db
def test_the_contact_form_offers_the_mobile_on_file_by_default(client, household):
    login(client, household.holder, household.case.pin)
    create_password(client)

    content = html.unescape(client.get(CONTACT).content.decode())

    assert re.search(r'value="sms" checked', content)
    assert household.holder.email_on_file in content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("medium", "email", "mobile", "message"),
    [
        ("email", "", "", "Saisissez votre adresse e-mail."),
        ("email", "pas-une-adresse", "", "Saisissez une adresse e-mail valide, par exemple nom@domaine.fr."),
        ("sms", "", "", "Saisissez un numéro de téléphone mobile."),
        ("sms", "", "01 23 45 67 89", "Ce numéro n'est pas un numéro de mobile"),
        ("sms", "", "12345", "Ce numéro de mobile n'est pas valide."),
        ("", "a@exemple.fr", "", "Choisissez l'e-mail ou le SMS."),
        ("fax", "a@exemple.fr", "", "Choisissez l'e-mail ou le SMS."),
    ],
)
def test_a_wrong_contact_is_refused_with_a_french_message_and_no_code_leaves(
    client, household, medium, email, mobile, message
):
    login(client, household.holder, household.case.pin)
    create_password(client)
    sent = OutboxMessage.objects.count()

    response = send_contact_code(client, medium=medium, email=email, mobile=mobile)

    assert response.status_code == 400
    assert any(shown.startswith(message) for shown in shown_errors(response)), shown_errors(response)
    assert OutboxMessage.objects.count() == sent
    assert not OneTimeCode.objects.exists()


# --- The gate: no way around ---------------------------------------------------------------------------------------

OTHER_PAGES = [
    "/",
    DASHBOARD,
    LOGIN,
    "/identifiant-provisoire/",
    "/mot-de-passe-oublie/",
    "/mot-de-passe-oublie/code/",
    "/admin/",
]


def redirects(client, urls) -> dict[str, str]:
    return {url: client.get(url).get("Location", "(no redirect)") for url in urls}


@pytest.mark.django_db
def test_after_the_pin_every_other_page_leads_to_the_password_creation(client, household):
    login(client, household.holder, household.case.pin)
    urls = [*OTHER_PAGES, CONTACT, CONTACT_CODE, ONBOARDING, f"{ONBOARDING}?etape=3"]

    assert redirects(client, urls) == dict.fromkeys(urls, PASSWORD)
    assert client.get(PASSWORD).status_code == 200


@pytest.mark.django_db
def test_posting_to_later_steps_before_the_password_changes_nothing(client, household):
    login(client, household.holder, household.case.pin)

    assert client.post(ONBOARDING)["Location"] == PASSWORD
    assert send_contact_code(client, email="paul@exemple.fr")["Location"] == PASSWORD
    assert client.post(CONTACT_CODE, {"code": "123456"})["Location"] == PASSWORD

    account = account_of(household.holder)
    assert account.onboarded_at is None
    assert account.needs_password
    assert not OneTimeCode.objects.exists()


@pytest.mark.django_db
def test_after_the_password_every_other_page_leads_to_the_contact_validation(client, household):
    login(client, household.holder, household.case.pin)
    create_password(client)
    urls = [*OTHER_PAGES, PASSWORD, ONBOARDING]

    assert redirects(client, urls) == dict.fromkeys(urls, CONTACT)
    assert client.get(CONTACT).status_code == 200


@pytest.mark.django_db
def test_the_code_page_without_a_pending_code_leads_back_to_the_contact_form(client, household):
    login(client, household.holder, household.case.pin)
    create_password(client)

    assert client.get(CONTACT_CODE)["Location"] == CONTACT


@pytest.mark.django_db
def test_after_the_contact_every_other_page_leads_to_the_onboarding(client, household):
    login(client, household.holder, household.case.pin)
    create_password(client)
    send_contact_code(client, email="paul@exemple.fr")
    client.post(CONTACT_CODE, {"code": last_code()})
    urls = [*OTHER_PAGES, PASSWORD, CONTACT, CONTACT_CODE]

    assert redirects(client, urls) == dict.fromkeys(urls, ONBOARDING)
    assert client.get(ONBOARDING).status_code == 200


@pytest.mark.django_db
def test_logout_stays_possible_during_the_migration(client, household):
    login(client, household.holder, household.case.pin)

    response = client.post(LOGOUT)

    assert response["Location"] == LOGIN
    assert client.get(DASHBOARD)["Location"] == f"{LOGIN}?next={DASHBOARD}"


@pytest.mark.django_db
def test_the_password_page_of_a_migrated_person_leads_to_the_dashboard(client, migrated):
    login(client, migrated.person, migrated.raw_password)

    assert client.get(PASSWORD)["Location"] == DASHBOARD


# --- Who may use the case PIN, and until when ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.CHILD, Role.OTHER])
def test_children_and_other_members_cannot_sign_in_with_the_case_pin(client, household, role):
    member = household.child
    if role == Role.OTHER:
        member = MembershipFactory(case=household.case, role=Role.OTHER, person=PersonFactory()).person
    wrong_pin = login(client, household.holder, f"{(int(household.case.pin) + 1) % 10**8:08d}")

    response = login(client, member, household.case.pin)

    assert response.status_code == wrong_pin.status_code == 400
    assert shown_errors(response) == shown_errors(wrong_pin) == [LOGIN_FAILED]
    assert not Account.objects.filter(person=member).exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_person_in_no_case_cannot_use_any_pin(client, household):
    stranger = PersonFactory()

    response = login(client, stranger, household.case.pin)

    assert response.status_code == 400
    assert shown_errors(response) == [LOGIN_FAILED]
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_the_pin_of_another_case_does_not_open_an_account(client, household):
    other_case = CaseFactory()

    response = login(client, household.holder, other_case.pin)

    assert response.status_code == 400
    assert shown_errors(response) == [LOGIN_FAILED]
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_once_migrated_the_pin_no_longer_opens_the_web_account_but_the_password_does(client, household):
    migrate(client, household.holder, household.case.pin, "paul@exemple.fr")
    client.post(LOGOUT)

    with_pin = login(client, household.holder, household.case.pin)
    assert with_pin.status_code == 400
    assert shown_errors(with_pin) == [LOGIN_FAILED]

    with_password = login(client, household.holder, NEW_PASSWORD)
    assert with_password.status_code == 302
    assert with_password["Location"] == DASHBOARD


@pytest.mark.django_db
def test_once_a_personal_password_was_withdrawn_the_pin_does_not_reopen_the_account(client, household):
    """After "Ce n'était pas moi" or an undone password change, the password is unusable: the case PIN, known to the
    whole household, must not reopen the account; only the forgotten-password code does."""
    migrate(client, household.holder, household.case.pin, "paul@exemple.fr")
    client.post(LOGOUT)
    account = account_of(household.holder)
    account.set_unusable_password()
    account.save(update_fields=["password"])

    response = login(client, household.holder, household.case.pin)

    assert response.status_code == 400
    assert shown_errors(response) == [LOGIN_FAILED]
    assert not account_of(household.holder).has_usable_password()


@pytest.mark.django_db
def test_a_partner_who_never_migrated_still_uses_the_pin_after_the_holder_migrated(client, household):
    migrate(client, household.holder, household.case.pin, "paul@exemple.fr")
    client.post(LOGOUT)

    response = login(client, household.partner, household.case.pin)

    assert response.status_code == 302
    assert client.get(DASHBOARD)["Location"] == PASSWORD
    assert account_of(household.partner).needs_password


@pytest.mark.django_db
def test_someone_who_stopped_before_creating_a_password_comes_back_with_the_pin(client, household):
    login(client, household.holder, household.case.pin)
    client.post(LOGOUT)

    response = login(client, household.holder, household.case.pin)

    assert response.status_code == 302
    assert client.get(DASHBOARD)["Location"] == PASSWORD
    assert Account.objects.filter(person=household.holder).count() == 1


@pytest.mark.django_db
def test_someone_who_stopped_before_validating_a_contact_comes_back_with_the_new_password(client, household):
    login(client, household.holder, household.case.pin)
    create_password(client)
    client.post(LOGOUT)

    assert login(client, household.holder, household.case.pin).status_code == 400
    assert login(client, household.holder, NEW_PASSWORD).status_code == 302
    assert client.get(DASHBOARD)["Location"] == CONTACT


# --- Password rules, server-side without JavaScript ----------------------------------------------------------------


@pytest.fixture
def at_password_step(client, household):
    """The holder, signed in with the PIN, with known names and birth date for the personal-data rule."""
    holder = household.holder
    holder.birth_name, holder.usage_name, holder.given_names = "Dupont", "Lefèvre", "Camille Marie"
    holder.save()
    login(client, holder, household.case.pin)
    return holder


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1!xyz", "Le mot de passe doit comporter au moins 8 caractères."),
        ("Abcdef1!" * 3 + "x", "Le mot de passe doit comporter au plus 24 caractères."),
        ("BFK3MQZ7W!", "Le mot de passe doit contenir au moins une lettre minuscule."),
        ("bfk3mqz7w!", "Le mot de passe doit contenir au moins une lettre majuscule."),
        ("Bfkr-mQzwu!", "Le mot de passe doit contenir au moins un chiffre."),
        ("Bfk3mQz7", "Ce mot de passe est trop facile à deviner : ajoutez un caractère spécial"),
        ("Azerty123!", "Ce mot de passe est trop courant."),
        ("Soleil2024!", "Ce mot de passe est trop courant."),
        ("Dupont-2024x", "Le mot de passe ne doit pas contenir votre nom"),
        ("xLEFEVRE-99", "Le mot de passe ne doit pas contenir votre nom"),
        ("Camille!2024", "Le mot de passe ne doit pas contenir votre nom"),
        ("Qx!01051984", "Le mot de passe ne doit pas contenir votre nom"),
        ("Qx!01/05/1984", "Le mot de passe ne doit pas contenir votre nom"),
    ],
)
def test_each_password_rule_is_refused_with_its_french_message_and_nothing_changes(
    client, at_password_step, password, message
):
    entries = Entry.objects.count()

    response = create_password(client, password)

    assert response.status_code == 400
    shown = shown_errors(response)
    assert any(error.startswith(message) for error in shown), shown
    assert "Le formulaire contient des erreurs : corrigez les champs signalés." in shown
    assert password not in response.content.decode()
    account = account_of(at_password_step)
    assert account.needs_password
    assert account.password_changed_at is None
    assert Entry.objects.count() == entries
    assert client.get(DASHBOARD)["Location"] == PASSWORD


@pytest.mark.django_db
def test_a_password_containing_the_nir_is_refused(client, at_password_step):
    password = f"Qx!{at_password_step.nir}"

    response = create_password(client, password)

    assert response.status_code == 400
    assert any(error.startswith("Le mot de passe ne doit pas contenir votre nom") for error in shown_errors(response))
    assert account_of(at_password_step).needs_password


@pytest.mark.django_db
def test_several_broken_rules_are_all_reported(client, at_password_step):
    response = create_password(client, "abc")

    shown = shown_errors(response)
    assert "Le mot de passe doit comporter au moins 8 caractères." in shown
    assert "Le mot de passe doit contenir au moins une lettre majuscule." in shown
    assert "Le mot de passe doit contenir au moins un chiffre." in shown


@pytest.mark.django_db
def test_a_different_confirmation_is_refused_and_nothing_changes(client, at_password_step):
    response = create_password(client, NEW_PASSWORD, confirmation="Tr0mbone-Bleu")

    assert response.status_code == 400
    assert "Les deux mots de passe ne sont pas identiques." in shown_errors(response)
    assert account_of(at_password_step).needs_password


@pytest.mark.django_db
def test_empty_password_fields_are_refused_with_french_messages(client, at_password_step):
    response = client.post(PASSWORD, {"password1": "", "password2": ""})

    assert response.status_code == 400
    assert "Choisissez un mot de passe." in shown_errors(response)
    assert "Saisissez une deuxième fois votre mot de passe." in shown_errors(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    [
        pytest.param("Bfk3mQ7!", id="8 characters with a special one"),
        pytest.param("Bfk3mQz7w", id="9 characters, three classes"),
        pytest.param("Ab3!" * 6, id="24 characters"),
        pytest.param("Été-Bfk3mQz", id="accented letters"),
    ],
)
def test_a_password_that_follows_every_rule_is_accepted(client, at_password_step, password):
    response = create_password(client, password)

    assert response.status_code == 302, shown_errors(response)
    assert account_of(at_password_step).check_password(password)


@pytest.mark.django_db
def test_the_password_page_lists_the_rules_for_people_without_javascript(client, at_password_step):
    text = page_text(client.get(PASSWORD))

    for rule in (
        "de 8 à 24 caractères",
        "au moins une lettre minuscule",
        "au moins une lettre majuscule",
        "au moins un chiffre",
        "s'il ne fait que 8 caractères, un caractère spécial",
        "Il ne doit pas être trop courant ni contenir votre nom",
    ):
        assert rule in text


# --- Contact codes -------------------------------------------------------------------------------------------------


@pytest.fixture
def at_code_step(client, household):
    login(client, household.holder, household.case.pin)
    create_password(client)
    send_contact_code(client, email="paul@exemple.fr")
    return household.holder


@pytest.mark.django_db
def test_the_code_is_six_digits_valid_ten_minutes_and_stored_only_as_an_hmac(client, at_code_step):
    code = last_code("paul@exemple.fr")
    otp = OneTimeCode.objects.get()

    assert re.fullmatch(r"\d{6}", code)
    assert code not in otp.code_hmac
    assert len(otp.code_hmac) == 64
    assert timedelta(minutes=9) < otp.expires_at - otp.created_at <= timedelta(minutes=10)
    assert "valable 10 minutes" in page_text(client.get(CONTACT_CODE))


@pytest.mark.django_db
def test_a_wrong_code_tells_how_many_tries_are_left(client, at_code_step):
    code = last_code("paul@exemple.fr")
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    response = client.post(CONTACT_CODE, {"code": wrong})

    assert response.status_code == 400
    assert shown_errors(response) == [
        "Code incorrect. Il vous reste 4 essais.",
        "Le formulaire contient des erreurs : corrigez les champs signalés.",
    ]
    assert account_of(at_code_step).email_verified_at is None


@pytest.mark.django_db
def test_a_code_typed_with_spaces_is_accepted(client, at_code_step):
    code = last_code("paul@exemple.fr")

    response = client.post(CONTACT_CODE, {"code": f" {code[:3]} {code[3:]} "})

    assert response["Location"] == ONBOARDING


@pytest.mark.django_db
def test_after_five_wrong_codes_even_the_right_one_is_refused(client, at_code_step):
    code = last_code("paul@exemple.fr")
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    shown = [shown_errors(client.post(CONTACT_CODE, {"code": wrong}))[0] for _ in range(5)]
    assert shown == [
        "Code incorrect. Il vous reste 4 essais.",
        "Code incorrect. Il vous reste 3 essais.",
        "Code incorrect. Il vous reste 2 essais.",
        "Code incorrect. Il vous reste 1 essai.",
        "Code incorrect. Vous avez épuisé vos essais : demandez un nouveau code.",
    ]

    response = client.post(CONTACT_CODE, {"code": code})

    assert response.status_code == 400
    assert shown_errors(response)[0] == "Trop d'essais avec ce code. Demandez un nouveau code."
    assert account_of(at_code_step).email_verified_at is None


@pytest.mark.django_db
def test_an_expired_code_is_refused(client, at_code_step):
    code = last_code("paul@exemple.fr")
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.post(CONTACT_CODE, {"code": code})

    assert response.status_code == 400
    assert shown_errors(response)[0] == "Ce code a expiré. Demandez un nouveau code."
    assert account_of(at_code_step).email_verified_at is None


@pytest.mark.django_db
def test_a_code_still_works_just_before_ten_minutes(client, at_code_step, monkeypatch):
    code = last_code("paul@exemple.fr")
    later = timezone.now() + timedelta(minutes=9, seconds=50)
    monkeypatch.setattr(timezone, "now", lambda: later)

    response = client.post(CONTACT_CODE, {"code": code})

    assert response["Location"] == ONBOARDING


@pytest.mark.django_db
def test_a_code_is_refused_after_ten_minutes(client, at_code_step, monkeypatch):
    code = last_code("paul@exemple.fr")
    later = timezone.now() + timedelta(minutes=10, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    response = client.post(CONTACT_CODE, {"code": code})

    assert shown_errors(response)[0] == "Ce code a expiré. Demandez un nouveau code."


@pytest.mark.django_db
def test_a_resend_before_sixty_seconds_is_refused_with_a_message(client, at_code_step):
    response = client.post(CONTACT_CODE, {"resend": "1"})

    assert response["Location"] == CONTACT_CODE
    assert re.search(
        r"Un code vient d'être envoyé\. Vous pourrez en demander un nouveau dans \d+ secondes\.",
        page_text(client.get(CONTACT_CODE)),
    )
    assert OneTimeCode.objects.count() == 1
    assert OneTimeCode.objects.get().voided_at is None


@pytest.mark.django_db
def test_a_new_code_voids_the_previous_one(client, at_code_step):
    first = last_code("paul@exemple.fr")
    shift_codes_back()

    response = client.post(CONTACT_CODE, {"resend": "1"})
    assert response["Location"] == CONTACT_CODE
    assert "Un nouveau code vient de vous être envoyé. L'ancien code ne fonctionne plus." in page_text(
        client.get(CONTACT_CODE)
    )
    second = last_code("paul@exemple.fr")
    assert OneTimeCode.objects.filter(voided_at__isnull=False).count() == 1

    if first != second:
        refused = client.post(CONTACT_CODE, {"code": first})
        assert refused.status_code == 400
        assert account_of(at_code_step).email_verified_at is None
    assert client.post(CONTACT_CODE, {"code": second})["Location"] == ONBOARDING


@pytest.mark.django_db
def test_a_code_works_only_once(client, at_code_step):
    code = last_code("paul@exemple.fr")
    client.post(CONTACT_CODE, {"code": code})
    otp = OneTimeCode.objects.get()
    assert otp.used_at is not None

    # A second use of the same code (say, the form posted twice) validates nothing more.
    Account.objects.filter(person=at_code_step).update(email_verified_at=None, email="")
    response = client.post(CONTACT_CODE, {"code": code})

    assert response.status_code == 400
    assert shown_errors(response)[0] == "Aucun code en cours de validité. Demandez un nouveau code."
    assert account_of(at_code_step).email_verified_at is None


@pytest.mark.django_db
def test_no_more_than_five_codes_an_hour_to_one_address_whoever_asks(client, household):
    shared = "foyer@exemple.fr"
    login(client, household.holder, household.case.pin)
    create_password(client)
    for _ in range(3):
        assert send_contact_code(client, email=shared).status_code == 302
        shift_codes_back()
    client.post(LOGOUT)
    login(client, household.partner, household.case.pin)
    create_password(client, "Tr0mbone-Rouge")
    for _ in range(2):
        assert send_contact_code(client, email=shared).status_code == 302
        shift_codes_back()

    response = send_contact_code(client, email=shared)

    assert response.status_code == 400
    (message,) = shown_errors(response)
    assert re.fullmatch(
        r"Trop de codes ont été envoyés en une heure\. Vous pourrez en demander un nouveau dans \d+ minutes\.", message
    )
    assert OutboxMessage.objects.filter(to=shared).count() == 5
    # Another address of the partner is still possible: the limit was the address's.
    assert send_contact_code(client, email="claire@exemple.fr").status_code == 302


@pytest.mark.django_db
def test_no_more_than_five_codes_an_hour_for_one_person_whatever_the_address(client, household):
    login(client, household.holder, household.case.pin)
    create_password(client)
    for n in range(5):
        assert send_contact_code(client, email=f"adresse{n}@exemple.fr").status_code == 302
        shift_codes_back()

    response = send_contact_code(client, email="adresse5@exemple.fr")

    assert response.status_code == 400
    assert shown_errors(response)[0].startswith("Trop de codes ont été envoyés en une heure.")
    assert not OutboxMessage.objects.filter(to="adresse5@exemple.fr").exists()


@pytest.mark.django_db
def test_the_hourly_limit_lifts_after_an_hour(client, household):
    login(client, household.holder, household.case.pin)
    create_password(client)
    for n in range(5):
        send_contact_code(client, email=f"adresse{n}@exemple.fr")
        shift_codes_back()
    assert send_contact_code(client, email="adresse5@exemple.fr").status_code == 400

    shift_codes_back(seconds=3600)

    assert send_contact_code(client, email="adresse5@exemple.fr").status_code == 302


# --- Journal -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_migration_step_is_journaled_with_actor_person_channel_and_ip(client, household):
    holder = household.holder
    ip = {"REMOTE_ADDR": "198.51.100.20"}
    login(client, holder, household.case.pin, **ip)
    client.post(PASSWORD, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, **ip)
    client.post(CONTACT, {"medium": "email", "email": "paul@exemple.fr"}, **ip)
    client.post(CONTACT_CODE, {"code": last_code()}, **ip)
    client.post(ONBOARDING, **ip)
    account = account_of(holder)

    kinds = list(Entry.objects.filter(person_id=holder.pk).order_by("id").values_list("kind", flat=True))
    assert kinds == [
        "account.created",
        "login.succeeded",
        "password.created",
        "code.sent",
        "code.verified",
        "contact.validated",
        "account.onboarded",
    ]
    for entry in Entry.objects.filter(person_id=holder.pk):
        assert entry.actor_account_id == account.pk, entry.kind
        assert entry.channel == Channel.WEB, entry.kind
        assert entry.ip_address == "198.51.100.20", entry.kind
    # From the login on, every entry carries the session it was made in (the account opens just before it).
    assert not Entry.objects.filter(person_id=holder.pk).exclude(kind="account.created").filter(session_ref="")

    created = Entry.objects.get(kind="account.created")
    assert created.case_number == household.case.case_number
    assert created.after == {"account": account.pk, "via": "case_pin"}
    assert Entry.objects.get(kind="login.succeeded").after == {"via": "case_pin"}
    assert Entry.objects.get(kind="password.created").after == {"reason": "migration"}
    sent = Entry.objects.get(kind="code.sent")
    assert sent.after == {"purpose": "contact", "medium": "email", "destination": "p•••@exemple.fr"}
    validated = Entry.objects.get(kind="contact.validated")
    assert validated.before == {"email": "", "email_verified_at": None}
    assert validated.after["email"] == "paul@exemple.fr"
    assert validated.after["medium"] == "email"


@pytest.mark.django_db
def test_no_journal_entry_holds_the_pin_the_password_or_the_code(client, household):
    migrate(client, household.holder, household.case.pin, "paul@exemple.fr")
    code = last_code("paul@exemple.fr")

    for entry in Entry.objects.all():
        dumped = repr((entry.before, entry.after))
        for secret in (household.case.pin, NEW_PASSWORD, code, household.holder.nir):
            assert secret not in dumped, entry.kind


@pytest.mark.django_db
def test_a_child_refused_with_the_pin_is_journaled_as_a_failed_login(client, household):
    login(client, household.child, household.case.pin, REMOTE_ADDR="198.51.100.21")

    entry = Entry.objects.get(kind="login.failed")
    assert entry.person_id == household.child.pk
    assert entry.ip_address == "198.51.100.21"
    assert not Entry.objects.filter(kind="account.created").exists()


@pytest.mark.django_db
def test_a_migrated_person_cannot_replace_the_validated_contact_through_the_first_login_pages(client, migrated):
    """Regression: a signed-in session could swap the validated e-mail (the reset channel) with no re-authentication
    and no notice to the old address."""
    login(client, migrated.person, migrated.raw_password)

    assert client.get(CONTACT)["Location"] == DASHBOARD
    assert send_contact_code(client, email="pirate@exemple.org")["Location"] == DASHBOARD
    assert client.post(CONTACT_CODE, {"code": "123456"})["Location"] == DASHBOARD
    assert client.post(CONTACT_CODE, {"resend": "1"})["Location"] == DASHBOARD

    assert not OutboxMessage.objects.filter(to="pirate@exemple.org").exists()
    assert account_of(migrated.person).email == migrated.email


@pytest.mark.django_db
def test_the_contact_step_says_plainly_why_sms_is_the_weaker_channel(client, household):
    """Issue 8, item 6 (ASVS 6.6.1)."""
    login(client, household.holder, household.case.pin)
    create_password(client)

    text = page_text(client.get(CONTACT))

    assert "l'e-mail protège mieux votre compte que le SMS" in text
    assert "carte SIM dupliquée" in text
