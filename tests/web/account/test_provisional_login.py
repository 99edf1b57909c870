"""« J'ai un identifiant provisoire » (issue 11, item 6): the login of someone who has no NIR yet, with the same code
and protections as the NIR's login (axes, the per-address and per-identifier limits, the step-up, trusted devices,
remember-me, the first login with the case PIN, the migration gate, the journal). Once their NIR is linked, the
provisional identifier is retired: it fails as any wrong one does, and the NIR signs in."""

import re
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client

from moncompte.accounts.models import Account, SessionRecord, TrustedDevice
from moncompte.households.models import Role
from moncompte.identity import linking
from moncompte.identity.models import Person
from moncompte.identity.provisional import new_provisional_id, provisional_grouped
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.web.account import views
from tests.factories import AccountFactory, CaseFactory, MembershipFactory, PersonFactory, make_nir
from tests.helpers import errors, last_code, page_text, shown_errors

PAGE = "/identifiant-provisoire/"
LOGIN = "/connexion/"
LOGIN_CODE = "/connexion/code/"
LOGOUT = "/deconnexion/"
DASHBOARD = "/mon-espace/"
MIGRATION_PASSWORD = "/premiere-connexion/mot-de-passe/"
ONBOARDING = "/premiere-connexion/bienvenue/"
RESET = "/mot-de-passe-oublie/"
RESET_CODE = "/mot-de-passe-oublie/code/"
WRONG = "Pas-le-bon-1"
NEW_PASSWORD = "Cl4rinette-Jaune"
REMEMBER = settings.REMEMBER_ME_COOKIE_NAME
FAILED = (
    "Identifiant provisoire ou mot de passe incorrect. Si la Caf vous a fait savoir que votre numéro de Sécurité "
    "sociale est rattaché à votre compte, votre identifiant provisoire ne fonctionne plus : connectez-vous avec votre "
    "numéro de Sécurité sociale. Si vous ne vous êtes jamais connecté, saisissez le mot de passe à 8 chiffres de "
    "votre dossier."
)


def browser(ip: str = "192.0.2.10") -> Client:
    return Client(HTTP_HOST="localhost", REMOTE_ADDR=ip)


def login(client, identifier, password, *, remember=False, page=PAGE, **data):
    data = {"identifier": identifier, "password": password, **data}
    if remember:
        data["remember"] = "on"
    return client.post(page, data)


def provisional_account(**fields) -> Account:
    """A migrated account (password, validated e-mail, onboarding seen) that signs in with a provisional id."""
    person = PersonFactory(nir=None, provisional_id=new_provisional_id(), sex="M")
    return AccountFactory(person=person, login_id=person.provisional_id, **fields)


def link(account: Account) -> str:
    """The agency learns the person's NIR: linked (identity.linking), the provisional identifier retired."""
    nir = make_nir(year=account.person.birth_date.year, seq=account.person.pk + 50_000)
    linking.link_nir(account.person, nir, by=linking.BY_AGENT)
    return nir


@pytest.fixture
def holder(db):
    return provisional_account()


@pytest.fixture
def hashes(monkeypatch):
    """How many argon2 computations (hash or verify) the requests made."""
    counted = SimpleNamespace(count=0)
    # Every argon2 hasher of PASSWORD_HASHERS (ours, the case PIN's, Django's) inherits these two.
    encode, verify = Argon2PasswordHasher.encode, Argon2PasswordHasher.verify

    def counting(method):
        def wrapper(self, *args, **kwargs):
            counted.count += 1
            return method(self, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(Argon2PasswordHasher, "encode", counting(encode))
    monkeypatch.setattr(Argon2PasswordHasher, "verify", counting(verify))
    return counted


# --- The page ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_is_a_login_form_with_the_provisional_identifier(client):
    response = client.get(PAGE)

    assert response.status_code == 200
    content, text = response.content.decode(), page_text(response)
    assert "J'ai un identifiant provisoire" in text
    assert "La lettre P suivie de 12 chiffres, par exemple P 12345 67890 12" in text
    for field, label in (
        ("id_identifier", "Identifiant provisoire"),
        ("id_password", "Mot de passe"),
        ("id_remember", "Se souvenir de moi"),
    ):
        assert re.search(rf'<label class="fr-label" for="{field}">\s*{label}', content), field
    assert f'action="{PAGE}"' in content
    assert 'href="/mot-de-passe-oublie/"' in content and 'href="/connexion/"' in content
    assert "Un numéro commençant par 7 ou 8 (numéro d'attente) est un numéro de Sécurité sociale" in text
    assert "Bientôt disponible" not in text


@pytest.mark.django_db
def test_a_signed_in_person_is_sent_to_their_space(client, holder):
    login(client, holder.person.provisional_id, holder.raw_password)

    assert client.get(PAGE)["Location"] == DASHBOARD
    assert client.post(PAGE, {})["Location"] == DASHBOARD


# --- Signing in ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(lambda pid: pid, id="13 characters"),
        pytest.param(provisional_grouped, id="grouped as printed"),
        pytest.param(lambda pid: pid.lower().replace("p", "p."), id="lower-case p and a dot"),
        pytest.param(lambda pid: "-".join([pid[:6], pid[6:]]), id="a dash"),
    ],
)
def test_a_provisional_id_holder_signs_in_as_typed(client, holder, typed):
    response = login(client, typed(holder.person.provisional_id), holder.raw_password)

    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert client.get(DASHBOARD).status_code == 200
    entry = Entry.objects.filter(kind="login.succeeded").latest("id")
    assert entry.person_id == holder.person_id and entry.after["via"] == "password"
    assert SessionRecord.objects.filter(account=holder, ended_at__isnull=True).count() == 1
    assert TrustedDevice.objects.filter(account=holder).count() == 1  # this browser is trusted from now on


@pytest.mark.django_db
def test_the_session_key_changes_at_login(client, holder):
    client.get(PAGE)
    before = client.session.session_key

    login(client, holder.person.provisional_id, holder.raw_password)

    assert client.session.session_key != before


@pytest.mark.django_db
def test_the_login_returns_to_the_page_asked_for_and_never_leaves_the_site(client, holder):
    inside = client.post(
        f"{PAGE}?next=/mon-espace/securite/",
        {"identifier": holder.person.provisional_id, "password": holder.raw_password},
    )
    client.post(LOGOUT)
    outside = login(browser(), holder.person.provisional_id, holder.raw_password, next="https://exemple.org/")

    assert inside["Location"] == "/mon-espace/securite/"
    assert outside["Location"] == DASHBOARD


# --- Same answer, same work ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_unknown_id_wrong_password_and_retired_id_get_the_same_answer_and_the_same_work(holder, hashes):
    retired = provisional_account()
    retired_id = retired.person.provisional_id
    link(retired)
    answers = {}
    for label, identifier, password in (
        ("wrong password", holder.person.provisional_id, WRONG),
        ("unknown identifier", new_provisional_id(), WRONG),
        ("retired identifier, right password", retired_id, retired.raw_password),
    ):
        hashes.count = 0
        response = login(browser(), identifier, password)
        answers[label] = (response.status_code, tuple(shown_errors(response)), hashes.count)

    assert set(answers.values()) == {(400, (FAILED,), 1)}, answers


@pytest.mark.django_db
def test_failures_are_journaled_for_the_person_when_the_identifier_is_theirs(holder):
    login(browser(), holder.person.provisional_id, WRONG)
    login(browser(), new_provisional_id(), WRONG)

    failures = list(Entry.objects.filter(kind="login.failed").order_by("id").values_list("person_id", flat=True))
    assert failures == [holder.person_id, None]


@pytest.mark.django_db
def test_an_inactive_account_gets_the_same_answer(holder):
    Account.objects.filter(pk=holder.pk).update(is_active=False)

    response = login(browser(), holder.person.provisional_id, holder.raw_password)

    assert (response.status_code, shown_errors(response)) == (400, [FAILED])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        pytest.param(
            "P123456789096",
            "Cet identifiant provisoire n'est pas valide : vérifiez-le sur le courrier ou le récépissé de la Caf.",
            id="wrong key",
        ),
        pytest.param("", "Saisissez votre identifiant provisoire.", id="empty"),
        pytest.param(
            make_nir(sex="8", seq=31),
            "Ce numéro est un numéro de Sécurité sociale, pas un identifiant provisoire : connectez-vous avec lui "
            "depuis la page de connexion.",
            id="a NIA",
        ),
    ],
)
def test_what_is_not_a_provisional_id_is_said_before_any_secret_is_checked(db, hashes, typed, message):
    response = login(browser(), typed, WRONG)

    assert response.status_code == 400
    assert message in shown_errors(response)
    assert hashes.count == 0
    assert not AccessAttempt.objects.exists() and not Entry.objects.filter(kind="login.failed").exists()


@pytest.mark.django_db
def test_a_provisional_id_typed_on_the_nir_page_is_sent_to_its_own_page(holder):
    response = login(browser(), holder.person.provisional_id, holder.raw_password, page=LOGIN)

    assert response.status_code == 400
    assert shown_errors(response)[0] == (
        "Ceci est un identifiant provisoire, pas un numéro de Sécurité sociale : connectez-vous avec lui depuis "
        "« J'ai un identifiant provisoire »."
    )


# --- The same limits -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_axes_cools_the_identifier_off_from_that_address_after_five_failures(holder):
    client = browser("192.0.2.20")
    identifier = holder.person.provisional_id

    statuses = [login(client, identifier, WRONG).status_code for _ in range(5)]
    locked = login(client, provisional_grouped(identifier), holder.raw_password)  # however it is typed
    elsewhere = login(browser("192.0.2.21"), identifier, holder.raw_password)

    assert statuses == [400, 400, 400, 400, 429]
    assert locked.status_code == 429
    assert "Trop de mots de passe incorrects ont été saisis pour ce numéro" in page_text(locked)
    assert AccessAttempt.objects.get().username == identifier
    assert elsewhere.status_code == 302  # axes counts the identifier AND the address


@pytest.mark.django_db
def test_an_address_that_failed_too_often_across_identifiers_is_refused(holder, settings):
    settings.LOGIN_LIMIT_PER_IP = 3
    client = browser("192.0.2.30")
    for _ in range(3):
        login(client, new_provisional_id(), WRONG)

    response = login(client, holder.person.provisional_id, holder.raw_password)

    assert response.status_code == 429
    assert "Trop de tentatives de connexion ont échoué depuis votre connexion internet" in page_text(response)


def attack(identifier: str) -> None:
    """Wrong passwords from 5 addresses, 5 each: past LOGIN_LIMIT_PER_IDENTIFIER (20), the identifier steps up."""
    for n in range(5):
        client = browser(f"192.0.2.{100 + n}")
        for _ in range(5):
            login(client, identifier, WRONG)


@pytest.mark.django_db
def test_under_attack_a_new_device_needs_a_code_sent_to_the_person_and_returns_to_this_page_for_the_cookie(holder):
    attack(holder.person.provisional_id)
    device = browser("192.0.2.40")

    response = login(device, holder.person.provisional_id, holder.raw_password, remember=True)

    assert response["Location"] == LOGIN_CODE
    assert "_auth_user_id" not in device.session
    assert device.session[views.STEP_UP_SESSION_KEY]["login_page"] == "accounts:provisional_id"
    signed_in = device.post(LOGIN_CODE, {"code": last_code(to=holder.email)})
    assert signed_in["Location"] == DASHBOARD
    assert signed_in.cookies[REMEMBER]["path"] == PAGE


@pytest.mark.django_db
def test_under_attack_a_wrong_password_also_leads_to_the_code_page_and_nothing_is_sent(holder):
    attack(holder.person.provisional_id)
    attacker = browser("192.0.2.41")

    assert login(attacker, holder.person.provisional_id, WRONG)["Location"] == LOGIN_CODE
    assert not OutboxMessage.objects.filter(to=holder.email).exists()


@pytest.mark.django_db
def test_an_expired_step_up_starts_again_on_the_page_it_began_on(holder):
    attack(holder.person.provisional_id)
    device = browser("192.0.2.42")
    login(device, holder.person.provisional_id, holder.raw_password)
    session = device.session
    session[views.STEP_UP_SESSION_KEY]["proven_at"] -= views.STEP_UP_MAX_AGE + 1
    session.save()

    assert device.get(LOGIN_CODE)["Location"] == PAGE


@pytest.mark.django_db
def test_the_person_s_trusted_device_is_outside_the_attack(holder):
    own = browser("192.0.2.50")
    assert login(own, holder.person.provisional_id, holder.raw_password)["Location"] == DASHBOARD
    own.post(LOGOUT)
    attack(holder.person.provisional_id)
    for _ in range(5):  # and the attacker locked the owner's own address out for that identifier too
        login(browser("192.0.2.50"), holder.person.provisional_id, WRONG)

    assert login(own, holder.person.provisional_id, holder.raw_password)["Location"] == DASHBOARD


# --- Remember me ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_remember_me_prefills_this_page_only_with_the_grouped_identifier(client, holder):
    response = login(client, holder.person.provisional_id, holder.raw_password, remember=True)
    cookie = response.cookies[REMEMBER]
    client.post(LOGOUT)

    assert cookie["path"] == PAGE and cookie["httponly"]
    assert holder.person.provisional_id not in cookie.value
    content = client.get(PAGE).content.decode()
    assert f'value="{provisional_grouped(holder.person.provisional_id)}"' in content
    assert re.search(r'<input type="checkbox" name="remember"[^>]* checked', content)
    assert holder.person.provisional_id not in client.get(LOGIN).content.decode()


@pytest.mark.django_db
def test_once_linked_the_remembered_account_is_pointed_to_the_nir_login(client, holder):
    login(client, holder.person.provisional_id, holder.raw_password, remember=True)
    client.post(LOGOUT)
    link(holder)

    text = page_text(client.get(PAGE))

    assert "Le numéro de Sécurité sociale du compte mémorisé sur cet appareil est maintenant rattaché" in text
    assert holder.person.retired_provisional_id not in text


# --- First login with the case PIN, and the gate ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.HOLDER, Role.PARTNER])
def test_a_holder_or_partner_with_a_provisional_id_opens_the_account_with_the_case_pin(client, role):
    case = CaseFactory()
    if role == Role.PARTNER:
        MembershipFactory(case=case, role=Role.HOLDER)
    person = PersonFactory(nir=None, provisional_id=new_provisional_id())
    MembershipFactory(case=case, role=role, person=person)

    response = login(client, provisional_grouped(person.provisional_id), case.pin)

    assert response.status_code == 302
    account = Account.objects.get(person=person)
    assert account.login_id == person.provisional_id and account.needs_password
    assert client.get(DASHBOARD)["Location"] == MIGRATION_PASSWORD
    assert client.get(PAGE)["Location"] == MIGRATION_PASSWORD  # the gate, as after the NIR's first login
    assert Entry.objects.filter(kind="login.succeeded", person_id=person.pk, after__via="case_pin").exists()


@pytest.mark.django_db
def test_a_child_with_a_provisional_id_cannot_use_the_case_pin(client):
    case = CaseFactory()
    MembershipFactory(case=case, role=Role.HOLDER)
    child = MembershipFactory(
        case=case, role=Role.CHILD, person=PersonFactory(nir=None, provisional_id=new_provisional_id(), child=True)
    ).person

    response = login(client, child.provisional_id, case.pin)

    assert (response.status_code, shown_errors(response)) == (400, [FAILED])
    assert not Account.objects.filter(person=child).exists()


@pytest.mark.django_db
def test_the_onboarding_tells_a_provisional_id_holder_how_they_sign_in(client):
    account = provisional_account(onboarded_at=None)
    login(client, account.person.provisional_id, account.raw_password)

    text = page_text(client.get(ONBOARDING))

    assert "vous vous connectez avec votre identifiant provisoire" in text
    assert provisional_grouped(account.person.provisional_id) in text


# --- Linked: the NIR signs in, the provisional identifier no longer does ---------------------------------------------


@pytest.mark.django_db
def test_once_linked_the_nir_signs_in_with_the_same_password_and_the_provisional_id_no_longer_does(holder):
    own = browser("192.0.2.60")
    login(own, holder.person.provisional_id, holder.raw_password)
    own.post(LOGOUT)
    retired = holder.person.provisional_id

    nir = link(holder)

    assert Account.objects.get(pk=holder.pk).login_id == nir
    assert (login(own, retired, holder.raw_password).status_code, shown_errors(login(own, retired, WRONG))) == (
        400,
        [FAILED],
    )
    assert login(own, nir, holder.raw_password, page=LOGIN)["Location"] == DASHBOARD
    # The trusted device stays trusted: it belongs to the account, not to the identifier.
    assert TrustedDevice.objects.filter(account=holder).count() == 1


@pytest.mark.django_db
def test_the_undo_of_the_link_brings_the_provisional_id_back(holder):
    from moncompte.journal.services import undo

    retired = holder.person.provisional_id
    nir = link(holder)

    undo(Entry.objects.get(kind="person.nir_linked"))

    assert login(browser(), retired, holder.raw_password)["Location"] == DASHBOARD
    assert login(browser(), nir, holder.raw_password, page=LOGIN).status_code == 400
    assert Person.objects.get(pk=holder.person_id).provisional_id == retired


# --- A forgotten password ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_provisional_id_holder_resets_a_forgotten_password(client, holder):
    response = client.post(RESET, {"identifier": provisional_grouped(holder.person.provisional_id), "medium": "email"})
    assert response["Location"] == RESET_CODE

    response = client.post(
        RESET_CODE, {"code": last_code(to=holder.email), "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert response["Location"] == DASHBOARD
    client.post(LOGOUT)
    assert login(browser(), holder.person.provisional_id, NEW_PASSWORD)["Location"] == DASHBOARD


@pytest.mark.django_db
def test_a_retired_provisional_id_on_the_reset_page_is_an_unknown_identifier(holder):
    retired = holder.person.provisional_id
    link(holder)
    OutboxMessage.objects.all().delete()

    retired_answer = browser().post(RESET, {"identifier": retired, "medium": "email"})
    unknown_answer = browser().post(RESET, {"identifier": new_provisional_id(), "medium": "email"})

    assert retired_answer.status_code == unknown_answer.status_code == 302
    assert not OutboxMessage.objects.exists()
    assert errors(retired_answer) == errors(unknown_answer) == []


@pytest.mark.django_db
def test_the_code_page_after_a_provisional_reset_is_the_same_as_for_an_unknown_one(holder):
    known = browser()
    known.post(RESET, {"identifier": holder.person.provisional_id, "medium": "email"})
    unknown = browser()
    unknown.post(RESET, {"identifier": new_provisional_id(), "medium": "email"})

    texts = [page_text(client.get(RESET_CODE)) for client in (known, unknown)]

    assert texts[0] == texts[1]
