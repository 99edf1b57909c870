"""« J'ai reçu un code d'un conseiller » (issue 13, item 3): an agent sent a reset code to the person's validated
contact; the person types their NIR, that code and a new password, from any browser, and is signed in. The code
works once; its tries are counted; an unknown NIR, or a NIR without a code, gets the answer of a wrong code; the code
of a reset the person asked for themselves is not one of these."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db.models import F
from django.test import Client

from moncompte.accounts.models import Account
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.verification.models import OneTimeCode
from moncompte.web.account import views
from tests.agents import agent_client, agent_make
from tests.factories import AccountFactory, family
from tests.helpers import (
    NEW_PASSWORD,
    last_code,
    other_code,
    page_text,
    rewind_code_ceilings,
    shown_errors,
    unknown_nir,
)

DESK_RESET = "/mot-de-passe-oublie/code-conseiller/"
RESET = "/mot-de-passe-oublie/"
RESET_CODE = "/mot-de-passe-oublie/code/"
DASHBOARD = "/mon-espace/"
LOGIN = "/connexion/"
WRONG_FIRST = "Code incorrect. Il vous reste 4 essais."


@pytest.fixture
def send_code(db):
    """`send_code(person, medium)`: an agent receives the person on the phone and sends them a reset code; the code,
    as the person reads it in the message."""
    desk = agent_client(agent_make("accueil-lyon", roles=("desk",)))

    def send(person, medium: str = "email") -> str:
        desk.post("/guichet/", {"query": person.nir})
        desk.post("/guichet/echange/ouvrir/", {"person": person.pk, "identified_by": "phone_questions"})
        assert desk.post("/guichet/echange/code/", {"medium": medium})["Location"] == "/guichet/echange/"
        message = OutboxMessage.objects.filter(template="verification/desk_reset").latest("id")
        return last_code(to=message.to)

    return send


def complete(client: Client, nir: str, code: str, password: str = NEW_PASSWORD):
    return client.post(DESK_RESET, {"identifier": nir, "code": code, "password1": password, "password2": password})


def signs_in(account: Account, password: str) -> bool:
    response = Client(HTTP_HOST="localhost").post(LOGIN, {"identifier": account.person.nir, "password": password})
    return response.status_code == 302 and response["Location"] == DASHBOARD


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- The page ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_forgotten_password_page_leads_to_the_page_of_the_code_from_an_agent(client):
    reset = client.get(RESET)
    page = client.get(DESK_RESET)

    assert f'href="{DESK_RESET}"' in reset.content.decode()
    assert "Un conseiller de la Caf vous a envoyé un code ? Saisissez-le ici" in page_text(reset)
    assert page.status_code == 200
    text = page_text(page)
    assert "J'ai reçu un code d'un conseiller" in text
    assert "Ne communiquez ce code à personne, pas même au conseiller" in text


# --- Completing it -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("medium", ["email", "sms"])
def test_the_person_types_the_agent_s_code_and_a_new_password_and_is_signed_in(client, send_code, medium):
    f = family()
    account = f.holder_account
    if medium == "sms":
        Account.objects.filter(pk=account.pk).update(
            mobile="+33612345678", mobile_verified_at=account.email_verified_at
        )
    code = send_code(f.holder, medium)

    response = complete(client, f.holder.nir, code)

    assert response.status_code == 302 and response["Location"] == DASHBOARD
    dashboard = client.get(DASHBOARD)
    assert dashboard.status_code == 200
    assert "Votre nouveau mot de passe est enregistré. Vous êtes connecté." in page_text(dashboard)
    assert signs_in(account, NEW_PASSWORD)
    assert not signs_in(account, account.raw_password)
    reset = Entry.objects.get(kind="password.reset")
    assert (reset.person_id, reset.actor_account_id, reset.channel) == (f.holder.pk, account.pk, "web")
    assert reset.after == {"medium": medium}


@pytest.mark.django_db
def test_the_code_works_once(client, new_client, send_code):
    f = family()
    code = send_code(f.holder)
    assert complete(client, f.holder.nir, code)["Location"] == DASHBOARD

    again = new_client()
    response = complete(again, f.holder.nir, code, password="Basson-Rouge-42")

    assert response.status_code == 400
    assert shown_errors(response)[0] == WRONG_FIRST
    assert not signed_in(again)
    assert signs_in(f.holder_account, NEW_PASSWORD)
    assert not signs_in(f.holder_account, "Basson-Rouge-42")


@pytest.mark.django_db
def test_an_unknown_nir_and_a_nir_without_a_code_get_the_answer_of_a_wrong_code(client, send_code):
    f = family(children=1)
    code = send_code(f.holder)
    without_code = AccountFactory()
    answers = {}

    # One browser: each NIR has its own count of tries.
    for name, nir, typed in [
        ("wrong code", f.holder.nir, other_code(code)),
        ("unknown NIR", unknown_nir(), code),
        ("NIR without a code", without_code.person.nir, code),
        ("child, who cannot reset", f.children[0].nir, code),
    ]:
        response = complete(client, nir, typed)
        answers[name] = (response.status_code, shown_errors(response))

    expected = answers["wrong code"]
    assert expected[0] == 400 and expected[1][0] == WRONG_FIRST, answers
    assert all(answer == expected for answer in answers.values()), answers
    assert not signed_in(client)
    assert signs_in(f.holder_account, f.holder_account.raw_password)


@pytest.mark.django_db
def test_tries_are_counted_and_the_right_code_is_refused_once_they_are_spent(client, new_client, send_code):
    f = family()
    code = send_code(f.holder)
    wrong = other_code(code)
    said = [shown_errors(complete(client, f.holder.nir, wrong))[0] for _ in range(5)]

    assert said == [
        "Code incorrect. Il vous reste 4 essais.",
        "Code incorrect. Il vous reste 3 essais.",
        "Code incorrect. Il vous reste 2 essais.",
        "Code incorrect. Il vous reste 1 essai.",
        "Code incorrect. Vous avez épuisé vos essais : demandez un nouveau code.",
    ]
    spent = complete(client, f.holder.nir, code)
    assert spent.status_code == 400
    assert shown_errors(spent)[0] == "Trop d'essais avec ce code. Demandez un nouveau code."
    # Another browser does not start the count again: the code itself has no try left.
    elsewhere = new_client()
    assert complete(elsewhere, f.holder.nir, code).status_code == 400
    assert not signed_in(client) and not signed_in(elsewhere)
    assert signs_in(f.holder_account, f.holder_account.raw_password)


@pytest.mark.django_db
def test_a_password_built_from_the_person_s_name_is_refused_and_leaves_the_code_usable(client, send_code):
    f = family()
    code = send_code(f.holder)

    refused = complete(client, f.holder.nir, code, password=f"{f.holder.first_name}-{f.holder.last_name}-1984")

    assert refused.status_code == 400
    assert not signed_in(client)
    assert complete(client, f.holder.nir, code)["Location"] == DASHBOARD


# --- The two resets' codes do not mix -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_code_of_a_reset_the_person_asked_for_is_not_accepted_as_an_agent_s(client, new_client, send_code):
    f = family()
    client.post(RESET, {"identifier": f.holder.nir, "medium": "email"})
    own = last_code(to=f.holder_account.email)
    assert OutboxMessage.objects.get().template == "verification/reset"

    here = complete(client, f.holder.nir, own)  # the session that asked for it
    elsewhere = new_client()
    there = complete(elsewhere, f.holder.nir, own)
    send_code(f.holder)  # an agent's code is now on its way too: still not that one
    pending = complete(new_client(), f.holder.nir, own)

    for response in (here, there, pending):
        assert response.status_code == 400
        assert shown_errors(response)[0].startswith("Code incorrect."), shown_errors(response)
    assert not signed_in(client) and not signed_in(elsewhere)
    assert signs_in(f.holder_account, f.holder_account.raw_password)
    # The person's own code still works where it belongs.
    done = client.post(RESET_CODE, {"code": own, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done["Location"] == DASHBOARD


@pytest.mark.django_db
def test_an_agent_s_code_is_not_accepted_on_the_page_of_a_reset_the_person_asked_for(client, send_code):
    f = family()
    client.post(RESET, {"identifier": f.holder.nir, "medium": "email"})
    desk_code = send_code(f.holder)

    response = client.post(RESET_CODE, {"code": desk_code, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 400
    assert shown_errors(response)[0].startswith("Code incorrect."), shown_errors(response)
    assert not signed_in(client)
    assert complete(client, f.holder.nir, desk_code)["Location"] == DASHBOARD


# --- A new code from an agent, in the browser that tried the old one ------------------------------------------------


def as_if_earlier(client: Client, seconds: float) -> None:
    """As if this browser's first try, the codes sent and the NIR's last try were `seconds` older."""
    OneTimeCode.objects.update(created_at=F("created_at") - timedelta(seconds=seconds))
    session = client.session
    state = session[views.DESK_RESET_SESSION_KEY]
    state["started"] -= seconds
    rewind_code_ceilings(state, seconds)
    session[views.DESK_RESET_SESSION_KEY] = state
    session.save()


@pytest.mark.django_db
def test_a_new_code_from_an_agent_works_in_the_browser_whose_old_code_expired(client, send_code):
    """The session's count does not follow the agent's codes (that would tell whether a NIR has one): « J'ai reçu un
    nouveau code » starts it again."""
    f = family()
    old = send_code(f.holder)
    complete(client, f.holder.nir, other_code(old))
    as_if_earlier(client, settings.OTP_LIFETIME + 60)  # the old code expired meanwhile
    new = send_code(f.holder)  # the person calls again: the agent sends another
    assert "Ce code a expiré" in " ".join(shown_errors(complete(client, f.holder.nir, new)))

    assert client.post(DESK_RESET, {"restart": "1"})["Location"] == DESK_RESET
    response = complete(client, f.holder.nir, new)

    assert response.status_code == 302 and response["Location"] == DASHBOARD, shown_errors(response)


@pytest.mark.django_db
def test_a_new_code_from_an_agent_works_in_the_browser_that_spent_the_old_one_s_tries(client, send_code):
    f = family()
    old = send_code(f.holder)
    for _ in range(5):
        complete(client, f.holder.nir, other_code(old))
    as_if_earlier(client, 120)  # past the resend delay and the NIR's back-off, well within the codes' lifetime
    new = send_code(f.holder)
    client.post(DESK_RESET, {"restart": "1"})  # « J'ai reçu un nouveau code »

    response = complete(client, f.holder.nir, new)

    assert response.status_code == 302 and response["Location"] == DASHBOARD, shown_errors(response)


# --- Nobody else can burn the code, nor read from the answers whether a NIR has one ----------------------------------


@pytest.mark.django_db
def test_wrong_tries_from_other_browsers_do_not_burn_the_code_the_person_is_typing(send_code):
    f = family()
    code = send_code(f.holder)
    for _ in range(settings.OTP_MAX_ATTEMPTS):  # as many as a code allows, each from a fresh browser
        attacker = Client(HTTP_HOST="localhost")
        complete(attacker, f.holder.nir, other_code(code))
    # The NIR's ceilings now slow every further try down a little (decision 010): as if that wait had passed.
    rewind_code_ceilings(attacker.session[views.DESK_RESET_SESSION_KEY], 3600)

    response = complete(Client(HTTP_HOST="localhost"), f.holder.nir, code)

    assert response.status_code == 302 and response["Location"] == DASHBOARD, shown_errors(response)


@pytest.mark.django_db
def test_the_tries_left_are_the_same_for_a_nir_with_a_code_tried_elsewhere_and_for_an_unknown_nir(send_code):
    f = family()
    code = send_code(f.holder)
    for _ in range(2):
        complete(Client(HTTP_HOST="localhost"), f.holder.nir, other_code(code))

    known = complete(Client(HTTP_HOST="localhost"), f.holder.nir, other_code(code))
    unknown = complete(Client(HTTP_HOST="localhost"), unknown_nir(), other_code(code))

    assert known.status_code == unknown.status_code == 400
    assert WRONG_FIRST in shown_errors(known) and WRONG_FIRST in shown_errors(unknown)
