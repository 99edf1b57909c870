"""The FranceConnect pages through HTTP, against the in-process FranceConnect: the button, the callback and what it
leads to (a signed-in linked account, a link after proof, a new account, nobody), refusals, logout at both ends."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from moncompte.accounts.models import Account
from moncompte.franceconnect.models import Link
from moncompte.households.models import Role
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from tests.factories import AccountFactory, CaseFactory, MembershipFactory, PersonFactory
from tests.franceconnect.fake_provider import ISSUER
from tests.helpers import LEA, last_code, lea_person, page_text, password_typed_long_ago, sign_in

pytestmark = pytest.mark.django_db

LOGIN, START, CALLBACK = "/connexion/", "/franceconnect/connexion/", "/franceconnect/retour/"
LINK, CREATE, LOGGED_OUT = "/franceconnect/relier/", "/franceconnect/nouveau-compte/", "/franceconnect/deconnexion/"
SUB = "f" * 64
HOLDER_NAME = "Titulaire"


def member(person, role=Role.CHILD):
    """The person joins a new case; its holder has an account (told when a member opens one)."""
    holder_account = AccountFactory(person=PersonFactory(birth_name=HOLDER_NAME, given_names="Paul"))
    holder = MembershipFactory(role=Role.HOLDER, case=CaseFactory(), person=holder_account.person)
    MembershipFactory(case=holder.case, person=person, role=role)
    return holder


def arrive(client, franceconnect, **answer):
    """Click the button, log in at FranceConnect (`answer` spoils its answer), come back: the callback's response."""
    response = client.post(START)
    assert response.status_code == 302 and response["Location"].startswith(f"{ISSUER}/authorize?")
    flow = client.session["franceconnect_flow"]
    code = franceconnect.authorize(nonce=flow["nonce"], **({"sub": SUB} | answer))
    return client.get(CALLBACK, {"code": code, "state": flow["state"]})


def opened_accounts():
    """Accounts other than the holders' made by `member()`."""
    return Account.objects.exclude(person__birth_name=HOLDER_NAME)


def signed_in(client) -> Account | None:
    account_id = client.session.get("_auth_user_id")
    return Account.objects.filter(pk=account_id).first() if account_id else None


def test_the_login_and_signup_pages_offer_franceconnect_above_our_form(client, franceconnect):
    for url in (LOGIN, "/creer-mon-compte/"):
        html = client.get(url).content.decode()
        assert 'class="fr-connect"' in html and 'href="https://franceconnect.gouv.fr/"' in html
        assert html.index("fr-connect-group") < html.index('class="fr-hr-or"') < html.index('name="identifier"')


def test_without_a_configured_provider_there_is_no_button_and_no_flow(client, settings):
    settings.FRANCECONNECT_ISSUER = ""
    assert "fr-connect" not in client.get(LOGIN).content.decode()
    assert client.post(START).status_code == 404
    assert client.get(CALLBACK, {"code": "x", "state": "y"}).status_code == 404


def test_the_button_posts_and_a_get_does_nothing(client, franceconnect):
    assert client.get(START).status_code == 405
    assert "franceconnect_flow" not in client.session


def test_a_linked_identity_signs_in_with_the_button_alone(client, franceconnect):
    account = AccountFactory(person=lea_person())
    Link.objects.create(account=account, sub=SUB)
    response = arrive(client, franceconnect)
    assert response.status_code == 302 and response["Location"] == "/mon-espace/"
    assert signed_in(client) == account
    login = Entry.objects.filter(kind="login.succeeded", person_id=account.person_id).get()
    assert login.after == {"via": "franceconnect"}
    assert Link.objects.get(account=account).last_login_at is not None


def test_an_account_is_linked_once_its_password_is_typed_then_the_button_is_enough(client, franceconnect):
    account = AccountFactory(person=lea_person())
    member(account.person)
    response = arrive(client, franceconnect)
    assert response["Location"] == LINK
    page = client.get(LINK)
    assert "Vous avez déjà un compte personnel" in page_text(page) and signed_in(client) is None

    response = client.post(LINK, {"action": "password", "password": "Mauvais-Mot-De-Passe"})
    assert response.status_code == 400 and "Mot de passe incorrect." in page_text(response)
    assert not Link.objects.exists() and signed_in(client) is None
    assert Entry.objects.filter(kind="franceconnect.link_failed", person_id=account.person_id).count() == 1

    response = client.post(LINK, {"action": "password", "password": account.raw_password})
    assert response["Location"] == "/mon-espace/" and signed_in(client) == account
    assert Link.objects.get(account=account).sub == SUB
    assert Entry.objects.filter(kind="franceconnect.linked", person_id=account.person_id).count() == 1
    notice = OutboxMessage.objects.get(template="franceconnect/notices/linked")
    assert notice.to == account.email and "FranceConnect" in notice.body

    client.post("/deconnexion/")
    client.cookies.clear()
    assert arrive(client, franceconnect)["Location"] == "/mon-espace/"
    assert signed_in(client) == account


def test_five_wrong_passwords_and_the_link_starts_over_from_franceconnect(client, franceconnect):
    account = AccountFactory(person=lea_person())
    arrive(client, franceconnect)
    for _ in range(5):
        response = client.post(LINK, {"action": "password", "password": "Mauvais-Mot-De-Passe"})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert client.post(LINK, {"action": "password", "password": account.raw_password})["Location"] == LOGIN
    assert not Link.objects.exists() and signed_in(client) is None


def test_an_account_can_be_proven_by_a_code_to_its_validated_contact(client, franceconnect):
    account = AccountFactory(person=lea_person())
    arrive(client, franceconnect)
    assert client.post(LINK, {"action": "send_code"}).status_code == 302
    code = last_code(to=account.email)
    response = client.post(LINK, {"action": "code", "code": code})
    assert response["Location"] == "/mon-espace/" and signed_in(client) == account
    assert Link.objects.filter(account=account, sub=SUB).exists()


def test_a_contact_on_file_is_never_offered_for_the_code(client, franceconnect):
    """A holder who signed in once with the case PIN and stopped: no password, no validated contact."""
    person = lea_person()
    Account.objects.create(person=person, login_id=person.nir, password="!")
    arrive(client, franceconnect)
    text = page_text(client.get(LINK))
    assert "Votre première connexion n'est pas terminée" in text
    assert client.post(LINK, {"action": "send_code"}).status_code == 302
    assert not OutboxMessage.objects.exists()


def test_a_member_of_fifteen_or_more_without_an_account_gets_one(client, franceconnect):
    person = lea_person()
    holder = member(person)
    response = arrive(client, franceconnect)
    assert response["Location"] == CREATE
    assert "Léa Martin" in page_text(client.get(CREATE)) and not Account.objects.filter(person=person).exists()
    response = client.post(CREATE)
    account = Account.objects.get(person=person)
    assert signed_in(client) == account and Link.objects.get(account=account).sub == SUB
    assert Entry.objects.get(kind="account.created", person_id=person.pk).after["via"] == "franceconnect"
    # The first-login steps follow: a password, a contact, the presentation.
    assert client.get("/mon-espace/")["Location"] == "/premiere-connexion/mot-de-passe/"
    text = page_text(client.get("/premiere-connexion/mot-de-passe/"))
    assert "Votre compte est créé et relié à FranceConnect" in text and "8 chiffres" not in text
    told = OutboxMessage.objects.get(template="accounts/notices/member_account_created", medium="email")
    assert told.to == holder.person.account.email and "avec FranceConnect" in told.body


@pytest.mark.parametrize(
    ("situation", "explanation"),
    [
        ("nobody", "ne correspond à aucune personne connue de la Caf"),
        ("twins", "correspond à plusieurs personnes connues de la Caf"),
        ("child", "à partir de 15 ans"),
    ],
)
def test_nobody_two_candidates_or_a_child_is_refused_with_the_explanation(
    client, franceconnect, situation, explanation
):
    if situation == "twins":
        member(lea_person(given_names="Léa Anne"))
        member(lea_person(given_names="Léa Claire", nir="2090575112002"))
    if situation == "child":
        member(lea_person(birth_date=datetime.date(2014, 5, 4), nir="2140575112001"))
        response = arrive(client, franceconnect, identity={**LEA, "birthdate": "2014-05-04"})
    else:
        response = arrive(client, franceconnect)
    assert response.status_code == 200
    text = page_text(response)
    assert explanation in text
    assert "Se connecter avec mon numéro de Sécurité sociale" in text and "Créer mon compte" in text
    assert "09 69 32 52 52" in text
    assert signed_in(client) is None and not Link.objects.exists() and not opened_accounts().exists()


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"sign": "forged"}, "bad_signature"),
        ({"sign": "none"}, "alg_not_allowed"),
        ({"sign": "HS256"}, "alg_not_allowed"),
        ({"id_token": {"aud": "another-service"}}, "claim_aud"),
        ({"id_token": {"iss": "https://fc.example/api/v2"}}, "claim_iss"),
        ({"id_token": {"nonce": "m" * 43}}, "claim_nonce"),
        ({"id_token": {"exp": 1_000_000_000, "iat": 999_999_000}}, "expired"),
        ({"id_token": {"acr": "eidas0"}}, "claim_acr"),
        ({"userinfo": {"sub": "0" * 64}}, "userinfo_sub_mismatch"),
    ],
)
def test_a_spoiled_answer_is_refused_journaled_and_opens_nothing(client, franceconnect, answer, reason):
    person = lea_person()
    member(person)
    response = arrive(client, franceconnect, **answer)
    assert response.status_code == 400
    assert "La connexion avec FranceConnect n'a pas pu être vérifiée" in page_text(response)
    assert Entry.objects.get(kind="franceconnect.refused").after == {"reason": reason}
    assert (
        signed_in(client) is None and not opened_accounts().exists() and "franceconnect_pending" not in client.session
    )


def test_a_callback_without_a_session_or_replayed_is_refused(client, franceconnect):
    response = client.get(CALLBACK, {"code": "x", "state": "y" * 43})
    assert response.status_code == 400
    client.post(START)
    flow = client.session["franceconnect_flow"]
    code = franceconnect.authorize(nonce=flow["nonce"], sub=SUB)
    assert client.get(CALLBACK, {"code": code, "state": "z" * 43}).status_code == 400  # another state
    assert client.get(CALLBACK, {"code": code, "state": flow["state"]}).status_code == 400  # state used already
    reasons = list(Entry.objects.filter(kind="franceconnect.refused").values_list("after__reason", flat=True))
    assert sorted(reasons) == ["no_flow", "no_flow", "state_mismatch"]


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        ("access_denied", 200, "Vous avez annulé la connexion avec FranceConnect"),
        ("server_error", 502, "FranceConnect n'a pas pu vous identifier. Réessayez dans quelques minutes."),
        ("temporarily_unavailable", 502, "FranceConnect ne peut pas vous identifier pour le moment."),
        ("invalid_scope", 502, "FranceConnect n'a pas pu vous identifier : vous n'êtes pas connecté."),
    ],
)
def test_the_providers_errors_are_told_in_french_with_the_other_ways_in(client, franceconnect, error, status, message):
    client.post(START)
    response = client.get(CALLBACK, {"error": error, "state": client.session["franceconnect_flow"]["state"]})
    assert response.status_code == status
    text = page_text(response)
    assert message in text and "Créer mon compte" in text


def test_a_provider_that_does_not_answer_is_told_without_an_error_page(client, franceconnect):
    franceconnect.down = True
    response = client.post(START)
    assert response.status_code == 503 and "FranceConnect ne répond pas" in page_text(response)


def test_signing_out_of_a_franceconnect_session_signs_out_at_franceconnect_too(client, franceconnect):
    account = AccountFactory(person=lea_person())
    Link.objects.create(account=account, sub=SUB)
    arrive(client, franceconnect)
    id_token = client.session["franceconnect_id_token"]
    response = client.post("/deconnexion/")
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/session/end"
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert query["id_token_hint"] == id_token
    assert query["post_logout_redirect_uri"] == "http://localhost/franceconnect/deconnexion/"
    assert signed_in(client) is None
    page = client.get(LOGGED_OUT, {"state": query["state"]})
    assert "Vous êtes déconnecté de Mon Compte et de FranceConnect." in page_text(page)


def test_a_password_session_signs_out_here_only(client, franceconnect, migrated):
    sign_in(client, migrated)
    assert client.post("/deconnexion/")["Location"] == LOGIN


def test_mes_informations_shows_the_link_and_removes_it(client, franceconnect):
    account = AccountFactory(person=lea_person())
    Link.objects.create(account=account, sub=SUB)
    sign_in(client, account)
    text = page_text(client.get("/mon-espace/mes-informations/"))
    assert "Relié à FranceConnect" in text
    password_typed_long_ago(client)
    assert client.get("/franceconnect/detacher/")["Location"].startswith("/mon-espace/confirmer-mot-de-passe/")
    client.post("/mon-espace/confirmer-mot-de-passe/", {"password": account.raw_password, "next": "/"})
    response = client.post("/franceconnect/detacher/")
    assert response["Location"] == "/mon-espace/mes-informations/"
    assert not Link.objects.exists()
    assert Entry.objects.filter(kind="franceconnect.unlinked", person_id=account.person_id).count() == 1
    assert OutboxMessage.objects.filter(template="franceconnect/notices/unlinked", to=account.email).exists()
    history = page_text(client.get("/mon-espace/securite/"))
    assert "Compte détaché de FranceConnect" in history


def test_past_ten_wrong_passwords_a_day_only_a_code_links_the_account(client, franceconnect):
    """Each flow allows 5 wrong passwords in a row; over every flow of a day, 10 for one account."""
    account = AccountFactory(person=lea_person())
    for _ in range(2):
        arrive(client, franceconnect)
        for _ in range(5):
            client.post(LINK, {"action": "password", "password": "Mauvais-Mot-De-Passe"})
    arrive(client, franceconnect)
    response = client.post(LINK, {"action": "password", "password": account.raw_password})
    assert response["Location"] == LINK and not Link.objects.exists()
    page = page_text(client.get(LINK))
    assert "Trop de mots de passe incorrects aujourd'hui" in page and "Recevoir un code" in page
    client.post(LINK, {"action": "send_code"})
    assert client.post(LINK, {"action": "code", "code": last_code(to=account.email)})["Location"] == "/mon-espace/"
    assert Link.objects.filter(account=account).exists()


def test_the_answer_of_another_provider_is_refused(client, franceconnect):
    """RFC 9207: the provider names itself in `iss`; another one's answer (a mix-up attack) is refused."""
    client.post(START)
    flow = client.session["franceconnect_flow"]
    code = franceconnect.authorize(nonce=flow["nonce"], sub=SUB)
    response = client.get(CALLBACK, {"code": code, "state": flow["state"], "iss": "https://evil.example"})
    assert response.status_code == 400
    assert Entry.objects.get(kind="franceconnect.refused").after == {"reason": "iss_mismatch"}


def test_refusals_from_one_address_stop_being_journaled_past_a_ceiling(client, franceconnect):
    """Anyone may call the callback without a flow: the journal takes 20 an hour from one address, not more."""
    for _ in range(25):
        assert client.get(CALLBACK, {"code": "x", "state": "y"}).status_code == 400
    assert Entry.objects.filter(kind="franceconnect.refused").count() == 20


def test_the_data_download_gives_the_link(client, franceconnect):
    account = AccountFactory(person=lea_person())
    sign_in(client, account)
    assert client.get("/mon-espace/mes-informations/telecharger/json/").json()["franceconnect"] is None
    Link.objects.create(account=account, sub=SUB)
    data = client.get("/mon-espace/mes-informations/telecharger/json/").json()["franceconnect"]
    assert data["sub"] == SUB and data["linked_at"]
    document = page_text(client.get("/mon-espace/mes-informations/telecharger/document/"))
    assert "Identifiant transmis par FranceConnect (sub)" in document and SUB in document
