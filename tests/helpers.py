"""What the tests share besides fixtures (those stay in the conftest.py files): reading a page, the outbox and the
code ceilings, signing in, and the steps of the flows several folders go through (member signup, contact change).
Helpers only the page tests share are in `tests/web/helpers.py`, the browser tests' in `tests/browser/helpers.py`."""

import datetime
import html
import re
import socket
import time
from types import SimpleNamespace

from django.conf import settings

from moncompte.households.models import Role
from moncompte.messaging.models import OutboxMessage
from tests.factories import AccountFactory, CaseFactory, MembershipFactory, PersonFactory, make_nir

LOGIN = "/connexion/"
SIGNUP_START = "/creer-mon-compte/"
SIGNUP_CONTACT = "/creer-mon-compte/coordonnees/"
SIGNUP_CODE = "/creer-mon-compte/code/"
MY_INFORMATION = "/mon-espace/mes-informations/"
CONTACT_CHANGE = "/mon-espace/coordonnees/{}/"
CONTACT_CODE = "/mon-espace/coordonnees/code/"
#: The password of every account made by AccountFactory.
HOLDER_PASSWORD = "Tr0mbone-Vert"
#: A password the rules accept, for the accounts the tests open or the passwords they change.
NEW_PASSWORD = "Cl4rinette-Jaune"
NEW_EMAIL = "nouvelle.adresse@exemple.fr"


# --- Pages, the outbox, the code ceilings ---------------------------------------------------------------------------


def rewind_code_ceilings(state: dict, seconds: float) -> None:
    """As if `seconds` had passed since the last code try of the flow state's NIR (verification.ceilings' back-off)."""
    from django.core.cache import cache

    from moncompte.verification import ceilings

    guard = ceilings.Guard.from_state(state.get("guard"))
    if guard is not None and (last := cache.get(ceilings.last_try_key(guard.subject))):
        cache.set(ceilings.last_try_key(guard.subject), last - seconds, timeout=ceilings.DAY)


def last_code(to: str | None = None) -> str:
    """The code (6 or 8 digits) of the last message in the outbox (optionally to one destination)."""
    messages = OutboxMessage.objects.order_by("-id")
    if to:
        messages = messages.filter(to=to)
    return re.search(r"\b(\d{8}|\d{6})\b", messages.first().body).group(1)


def errors(response) -> list[str]:
    """Every error message a page shows (field messages and the form's alert)."""
    html = response.content.decode()
    return re.findall(r'fr-message--error">([^<]*)<', html) + [
        " ".join(p.split()) for p in re.findall(r'id="form-errors">\s*<p>([^<]*)</p>', html)
    ]


def shown_errors(response) -> list[str]:
    """The error messages of a page as a person reads them (entities decoded)."""
    return [html.unescape(message) for message in errors(response)]


def page_text(response) -> str:
    """What a person reads: the page without its tags and scripts, entities decoded, spaces collapsed."""
    content = re.sub(r"<script.*?</script>", " ", response.content.decode(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())


def free_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1, for a real server started by a test."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- Signing in -----------------------------------------------------------------------------------------------------


def sign_in(client, account, password: str | None = None, **extra):
    """Sign a migrated account in through the login page (as a person does) and return the redirect."""
    response = client.post(
        LOGIN, {"identifier": account.person.nir, "password": password or account.raw_password}, **extra
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def sign_in_as(client, account, password=HOLDER_PASSWORD):
    """Sign `account` in through the login page with `password` (AccountFactory's by default) and return the
    client, signed in."""
    response = client.post(LOGIN, {"identifier": account.person.nir, "password": password})
    assert response.status_code == 302, errors(response)
    return client


def password_typed_long_ago(client, seconds: float | None = None) -> None:
    """Make the session's last password entry older than REAUTH_MAX_AGE (or `seconds` ago): the next security
    change asks for the password again."""
    from moncompte.accounts.sessions import SESSION_AUTH_AT

    session = client.session
    session[SESSION_AUTH_AT] = time.time() - (settings.REAUTH_MAX_AGE + 1 if seconds is None else seconds)
    session.save()


# --- A household and its member signup ("Créer mon compte") ---------------------------------------------------------


def make_home() -> SimpleNamespace:
    """A migrated holder (validated e-mail), a partner without account, a child of 16 with contacts on file."""
    case = CaseFactory()
    holder_account = AccountFactory()
    MembershipFactory(case=case, person=holder_account.person, role=Role.HOLDER)
    partner = MembershipFactory(case=case, role=Role.PARTNER, person__sex="F").person
    child = MembershipFactory(case=case, role=Role.CHILD, person=PersonFactory(child=True)).person
    return SimpleNamespace(
        case=case, holder=holder_account.person, holder_account=holder_account, partner=partner, child=child
    )


def start(client, person=None, *, nir=None, birth_date=None, given_name=None, medium="email"):
    """The first step of the member signup: the NIR, the birth date, the given name and where to send the code."""
    birth_date = birth_date if birth_date is not None else person.birth_date
    return client.post(
        SIGNUP_START,
        {
            "identifier": nir if nir is not None else person.nir,
            "birth_date": birth_date if isinstance(birth_date, str) else birth_date.isoformat(),
            "given_name": given_name if given_name is not None else person.first_name,
            "medium": medium,
        },
    )


def complete(client, code, password=NEW_PASSWORD, confirmation=None):
    """The last step of the member signup: the code and the new password."""
    return client.post(
        SIGNUP_CODE,
        {"code": code, "password1": password, "password2": password if confirmation is None else confirmation},
    )


def request_with_typed_contact(client, person=None, *, email="lea.perso@exemple.fr", **typed):
    """The member signup of someone the agency has no contact for: an e-mail address they type, then its code."""
    start(client, person, medium="none", **typed)
    response = client.post(SIGNUP_CONTACT, {"medium": "email", "email": email})
    assert response.status_code == 302, shown_errors(response)
    assert response["Location"] == SIGNUP_CODE
    return response


def other_code(code: str) -> str:
    """A wrong code of the same length."""
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def unknown_nir(seq=515_151) -> str:
    return make_nir(seq=seq)


# --- Contact change ("Mes informations") ----------------------------------------------------------------------------


def change_email(client, value=NEW_EMAIL):
    """Change the signed-in person's e-mail address to `value`, code included."""
    response = client.post(CONTACT_CHANGE.format("email"), {"value": value})
    assert response.status_code == 302 and response["Location"] == CONTACT_CODE, shown_errors(response)
    response = client.post(CONTACT_CODE, {"code": last_code(to=value.lower())})
    assert response.status_code == 302 and response["Location"] == MY_INFORMATION, shown_errors(response)


# --- FranceConnect ---------------------------------------------------------------------------------------------

#: The pivot identity FranceConnect gives for Léa Martin (the in-process fake, the browser tests' provider).
LEA = {
    "given_name": "Léa Marie",
    "family_name": "MARTIN",
    "birthdate": "2009-05-04",
    "gender": "female",
    "birthplace": "75112",
    "birthcountry": "99100",
    "email": "lea.martin@exemple.fr",
    "preferred_username": "",
}


def lea_person(**fields):
    """Léa Martin as the registry knows her: she agrees with LEA, FranceConnect's identity, and with her NIR."""
    values = {
        "birth_name": "Martin",
        "given_names": "Léa",
        "birth_date": datetime.date(2009, 5, 4),
        "sex": "F",
        "birthplace": "75112",
        "nir": "2090575112001",
    }
    return PersonFactory(**(values | fields))
