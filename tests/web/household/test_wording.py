""" "Mon foyer" and the household's messages, tried as a new user would (issue 7, items 11 and 17): each member's state
is shown, separation has its own section, the texts promise only what the site does, and no SMS carries a link."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client

from moncompte.accounts.models import Account
from moncompte.households import invitations
from moncompte.households.models import Invitation, SignupRequest
from moncompte.journal.models import Entry
from moncompte.messaging.models import Medium, OutboxMessage
from moncompte.web.signup import views as signup_views
from tests.factories import AccountFactory, family
from tests.helpers import errors, last_code, page_text

pytestmark = pytest.mark.django_db
NIR_BACKEND = "moncompte.accounts.authentication.NirBackend"
HOME = "/mon-foyer/"
CODE_PAGE = "/invitation/saisir-le-code/"
CONFIRM = "/invitation/confirmer/"
NEW_PASSWORD = "Cl4rinette-Jaune"
MOBILE = "+33612345678"
INVITATION_CODE = re.compile(r"\b([A-Z2-9]{5}-[A-Z2-9]{5})\b")
#: Benefit requests, payments and letters exist since issue 11 (« Mes démarches », « Mes paiements », « Mes
#: courriers »); workshops do not.
PROMISES = re.compile(r"france ?connect|atelier", re.IGNORECASE)


def signed_in(account) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(account, backend=NIR_BACKEND)
    return client


def row_of(response, person) -> str:
    body = response.content.decode()
    rows = re.findall(r'<tr data-testid="member">(.*?)</tr>', body, flags=re.S)
    row = next(row for row in rows if person.full_name in row)
    return " ".join(re.sub(r"<[^>]+>", " ", row).replace("&#x27;", "'").split())


def request_from(home, person, *, medium=Medium.SMS, destination=MOBILE) -> SignupRequest:
    """A member with no contact on file proved `destination` and asked to open an account."""
    return invitations.signup_request_create(
        case=home.case, person=person, medium=medium, destination=destination, decide_link=lambda item: "/x/"
    )


# --- Item 17: the state of each member's account -----------------------------------------------------------------


def test_a_member_whose_request_waits_shows_it_and_how_to_decide():
    home = family()
    waiting = request_from(home, home.children[0])

    response = signed_in(home.holder_account).get(HOME)
    row = row_of(response, home.children[0])

    assert "Demande de création de compte en attente de votre décision" in row
    assert f"Examiner la demande de {home.children[0].first_name}" in row
    assert f"/demandes/{waiting.pk}/" in response.content.decode()


def test_after_approving_a_request_the_member_shows_the_invitation_sent_and_until_when():
    home = family()
    waiting = request_from(home, home.children[0])
    holder = signed_in(home.holder_account)

    approved = holder.post(f"/mon-foyer/{home.case.case_number}/demandes/{waiting.pk}/", {"decision": "approve"})
    assert approved.status_code == 302

    row = row_of(holder.get(HOME), home.children[0])
    invitation = Invitation.objects.get(person=home.children[0])
    assert "pas encore de compte" in row
    assert f"Invitation envoyée le {invitation.created_at:%d/%m/%Y}" in row
    assert "valable jusqu'au" in row
    assert f"Envoyer une nouvelle invitation à {home.children[0].first_name}" in row
    assert "Inviter " not in row and "en attente de votre décision" not in row


def test_a_member_invited_by_the_holder_shows_the_invitation_and_one_with_an_account_shows_it():
    home = family(children=2)
    AccountFactory(person=home.children[1])
    holder = signed_in(home.holder_account)
    holder.post(
        f"/mon-foyer/{home.case.case_number}/inviter/{home.children[0].pk}/",
        {"medium": "email", "email": "enfant@exemple.fr", "mobile": ""},
    )

    response = holder.get(HOME)

    assert "Invitation envoyée le" in row_of(response, home.children[0])
    assert "a un compte" in row_of(response, home.children[1])
    assert "Invitation" not in row_of(response, home.children[1])


# --- Item 17: separation under its own heading ---------------------------------------------------------------------


def _headings(body: str) -> list[str]:
    return [" ".join(re.sub(r"<[^>]+>", " ", h).split()) for h in re.findall(r"<h3[^>]*>(.*?)</h3>", body, re.S)]


@pytest.mark.parametrize("who", ["holder", "partner"])
def test_declaring_a_separation_has_its_own_section_not_the_delegation_s(who):
    home = family(delegated=who == "partner")
    body = signed_in(getattr(home, f"{who}_account")).get(HOME).content.decode()

    assert "Séparation" in _headings(body)
    separation_at = body.index('data-testid="separation-heading"')
    assert body.index("Déclarer une séparation") > separation_at
    if "Délégation" in _headings(body):
        assert body.index("<h3>Délégation</h3>") < separation_at
        delegation_section = body[body.index("<h3>Délégation</h3>") : separation_at]
        assert "Déclarer une séparation" not in delegation_section


def test_a_partner_without_delegation_finds_the_separation_section_too():
    home = family()
    body = signed_in(home.partner_account).get(HOME).content.decode()

    assert "Séparation" in _headings(body) and "Déclarer une séparation" in body


# --- Items 11 and 17: "la Caf", and no promise, whoever reads --------------------------------------------------------


def _readers():
    """(name, account, pages) for each role: Mon foyer, and the delegation page."""
    home = family(children=1)
    delegated = family(delegated=True)
    child = AccountFactory(person=home.children[0])
    case, other_case = home.case.case_number, delegated.case.case_number
    return [
        ("holder", home.holder_account, [HOME, f"{HOME}{case}/delegation/"]),
        ("partner without delegation", home.partner_account, [HOME, f"{HOME}{case}/delegation/"]),
        ("partner with delegation", delegated.partner_account, [HOME, f"{HOME}{other_case}/delegation/"]),
        ("child", child, [HOME, f"{HOME}{case}/delegation/"]),
    ]


def test_the_household_pages_say_la_caf_and_promise_nothing_the_site_does_not_do():
    for name, account, pages in _readers():
        client = signed_in(account)
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, (name, path)
            text = page_text(response)
            assert "caisse" not in text.replace("Caisse d'allocations familiales", ""), (name, path)
            assert not PROMISES.search(text), (name, path, PROMISES.search(text))


def test_delegation_says_what_it_allows_on_this_site():
    home = family()
    text = page_text(signed_in(home.holder_account).get(f"{HOME}{home.case.case_number}/delegation/"))

    assert "votre conjoint voit dans son espace, comme vous, tous les membres du foyer" in text


def test_the_limits_name_the_caf_and_promise_nothing():
    from moncompte.households import policy

    home = family()
    child = AccountFactory(person=home.children[0])
    for person in (home.partner, child.person):
        for limit in policy.limits(person, home.case):
            assert "caisse" not in limit and not PROMISES.search(limit), limit


def test_the_delegation_notices_promise_nothing():
    from moncompte.households.delegation import delegation_grant, delegation_revoke

    home = family()
    # The holder and the partner have validated e-mails: both get every notice.
    delegation_grant(case=home.case, holder=home.holder, partner=home.partner)
    delegation_revoke(case=home.case, holder=home.holder)

    notices = OutboxMessage.objects.filter(template__startswith="households/notices/delegation_")
    assert notices.count() >= 4
    for notice in notices:
        assert not PROMISES.search(notice.body), (notice.template, PROMISES.search(notice.body))


# --- Item 17: SMS carry no link --------------------------------------------------------------------------------------


MONCOMPTE = Path(settings.BASE_DIR) / "moncompte"
SMS_TEMPLATES = sorted(
    str(path.relative_to(next(parent for parent in path.parents if parent.name == "templates")))
    for path in MONCOMPTE.rglob("*.sms.txt")
)


class Url(str):
    pass


class FalsyUrl(str):
    """A link that `{% if %}` reads as false: the template's other branches render too."""

    def __bool__(self):
        return False


class SampleContext(dict):
    """Any name a template asks for has a value: a link for whatever looks like one, plain words otherwise."""

    def __init__(self, falsy: bool):
        super().__init__()
        self.falsy = falsy

    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        if key in ("True", "False", "None"):
            raise KeyError(key)
        if re.search(r"url|link|href", key):
            return (FalsyUrl if self.falsy else Url)(f"http://localhost/{key}/jeton-secret/")
        return "" if self.falsy else "Texte"

    def get(self, key, default=None):
        return self[key]


def test_every_sms_template_is_found():
    assert len(SMS_TEMPLATES) >= 20
    assert "households/notices/invitation_holder.sms.txt" in SMS_TEMPLATES


@pytest.mark.parametrize("template", SMS_TEMPLATES)
@pytest.mark.parametrize("falsy", [False, True], ids=["if-branches", "else-branches"])
def test_no_sms_template_writes_a_link(template, falsy):
    body = render_to_string(template, SampleContext(falsy), using="text")

    assert "http" not in body and "://" not in body and "www." not in body, body


def _invite_by_sms(home, person):
    response = signed_in(home.holder_account).post(
        f"/mon-foyer/{home.case.case_number}/inviter/{person.pk}/",
        {"medium": "sms", "email": "", "mobile": "06 12 34 56 78"},
    )
    assert response.status_code == 302, errors(response)
    sms = OutboxMessage.objects.filter(template="households/notices/invitation_holder").latest("id")
    return sms


def test_an_invitation_by_sms_carries_a_code_to_type_on_the_site_and_no_link():
    home = family()
    child = home.children[0]

    sms = _invite_by_sms(home, child)

    assert sms.medium == "sms" and "http" not in sms.body
    assert "« Créer mon compte », puis « J'ai reçu un code d'invitation »" in sms.body
    code = INVITATION_CODE.search(sms.body).group(1)
    invitee = Client(HTTP_HOST="localhost")
    start_page = invitee.get("/creer-mon-compte/")
    assert f'href="{CODE_PAGE}"' in start_page.content.decode()
    assert "J'ai reçu un code d'invitation" in page_text(start_page)
    assert invitee.get(CODE_PAGE).status_code == 200

    typed = invitee.post(CODE_PAGE, {"code": f" {code.lower().replace('-', ' ')} "})

    assert typed.status_code == 302 and typed["Location"] == CONFIRM
    page = invitee.get(CONFIRM)
    assert page.status_code == 200 and "code d'invitation" in page_text(page)
    accepted = invitee.post(
        CONFIRM, {"birth_date": child.birth_date.isoformat(), "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    # Issue 8, item 2: the holder typed this mobile, so a code goes there (an SMS without a link, too), the account
    # opens with it and the mobile is not validated: the person validates a contact of their own next.
    assert accepted.status_code == 302 and accepted["Location"] == CONFIRM
    code_sms = OutboxMessage.objects.filter(template="verification/invitation").latest("id")
    assert code_sms.to == MOBILE and "http" not in code_sms.body
    opened = invitee.post(CONFIRM, {"code": last_code(MOBILE)})
    assert opened.status_code == 302 and opened["Location"] == "/premiere-connexion/coordonnees/"
    account = Account.objects.get(person=child)
    assert account.mobile_verified_at is None and account.mobile != MOBILE


def test_a_wrong_invitation_code_is_refused_and_wrong_codes_are_counted(monkeypatch):
    monkeypatch.setattr(signup_views, "INVITATION_CODE_MAX_FAILURES", 3)
    home = family()
    code = INVITATION_CODE.search(_invite_by_sms(home, home.children[0]).body).group(1)
    visitor = Client(HTTP_HOST="localhost")

    wrong = [visitor.post(CODE_PAGE, {"code": "ABCDE-FGHJK"}) for _ in range(3)]
    right = visitor.post(CODE_PAGE, {"code": code})

    assert [answer.status_code for answer in wrong] == [400, 400, 400]
    assert "Ce code d'invitation n'est pas valable." in " ".join(errors(wrong[0])).replace("&#x27;", "'")
    assert right.status_code == 400
    assert "Trop de codes d'invitation incorrects" in page_text(right)
    assert Client(HTTP_HOST="localhost", REMOTE_ADDR="203.0.113.8").post(CODE_PAGE, {"code": code}).status_code == 302


def test_a_link_of_an_email_invitation_is_not_a_code():
    home = family()
    signed_in(home.holder_account).post(
        f"/mon-foyer/{home.case.case_number}/inviter/{home.children[0].pk}/",
        {"medium": "email", "email": "enfant@exemple.fr", "mobile": ""},
    )
    email = OutboxMessage.objects.get(template="households/notices/invitation_holder")
    token = re.search(r"/invitation/([\w-]+)/", email.body).group(1)

    assert Client(HTTP_HOST="localhost").post(CODE_PAGE, {"code": token}).status_code == 400


def test_no_sms_of_the_household_flows_carries_a_link():
    """A request with a typed mobile, the holder told by SMS, the approval, a contact change, a report."""
    home = family()
    holder = home.holder_account
    Account.objects.filter(pk=holder.pk).update(mobile="+33698765432", mobile_verified_at="2026-01-01T00:00:00Z")
    holder.refresh_from_db()
    waiting = request_from(home, home.children[0])
    client = signed_in(holder)
    approved = client.post(f"/mon-foyer/{home.case.case_number}/demandes/{waiting.pk}/", {"decision": "approve"})
    assert approved.status_code == 302
    _invite_by_sms(home, home.children[0])
    assert client.post("/mon-espace/coordonnees/email/", {"value": "nouvelle@exemple.fr"}).status_code == 302
    assert client.post("/mon-espace/coordonnees/code/", {"code": last_code("nouvelle@exemple.fr")}).status_code == 302
    entry = Entry.objects.create(kind="login.succeeded", person_id=holder.person_id, actor_account_id=holder.pk)
    client.post("/mon-espace/securite/signaler/", {"entry": entry.pk})

    sms = OutboxMessage.objects.filter(medium="sms")
    templates = set(sms.values_list("template", flat=True))
    assert {
        "households/notices/invitation_request_holder",
        "households/notices/invitation_approved",
        "households/notices/invitation_holder",
        "accounts/notices/contact_changed_old",
        "accounts/notices/security_report_received",
    } <= templates, templates
    for message in sms:
        assert "http" not in message.body, (message.template, message.body)
    assert all(
        INVITATION_CODE.search(m.body) for m in sms.filter(template__startswith="households/notices/invitation_a")
    )
