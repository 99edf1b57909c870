"""Contact changes (issue 3, item 6): after re-authentication, a code to the NEW contact, then a notice to the old
one with a "Ce n'était pas moi" link, and a confirmation to the new one. The link (item 8) works signed out."""

import html
import re
import time

import pytest
from django.core import signing
from django.test import Client

from moncompte.accounts import security, services
from moncompte.accounts.models import Account, SecurityReport, SessionRecord
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.verification.models import OneTimeCode
from tests.factories import AccountFactory
from tests.helpers import NEW_EMAIL, change_email, errors, last_code, page_text, password_typed_long_ago

LOGIN = "/connexion/"
DASHBOARD = "/mon-espace/"
INFO = "/mon-espace/mes-informations/"
CHANGE = "/mon-espace/coordonnees/{}/"
CODE = "/mon-espace/coordonnees/code/"
REAUTH = "/mon-espace/confirmer-mot-de-passe/"
RESET = "/mot-de-passe-oublie/"
RESET_CODE = "/mot-de-passe-oublie/code/"


def login(client, account, password=None):
    response = client.post(LOGIN, {"identifier": account.person.nir, "password": password or account.raw_password})
    assert response.status_code == 302, response.content.decode()[:300]
    assert response["Location"] == DASHBOARD


def error_texts(response) -> list[str]:
    return [html.unescape(error) for error in errors(response)]


@pytest.fixture
def signed_in(client, migrated):
    login(client, migrated)
    return migrated


def not_me_link(to: str) -> str:
    body = OutboxMessage.objects.filter(to=to, template="accounts/notices/contact_changed_old").latest("id").body
    return re.search(r"http://localhost(/ce-n-etait-pas-moi/[^/\s]+/)", body).group(1)


# --- The change ------------------------------------------------------------------------------------------------------


def test_changing_the_email_sends_a_code_to_the_new_address_then_records_it(client, signed_in):
    old = signed_in.email
    response = client.get(CHANGE.format("email"))
    assert response.status_code == 200
    assert old in page_text(response)

    response = client.post(CHANGE.format("email"), {"value": "  Nouvelle.Adresse@Exemple.FR "})

    assert response["Location"] == CODE
    code_message = OutboxMessage.objects.filter(template="verification/contact").get()
    assert code_message.to == NEW_EMAIL
    page = client.get(CODE)
    assert "n•••@exemple.fr" in page_text(page)
    signed_in.refresh_from_db()
    assert signed_in.email == old  # nothing changes before the code

    response = client.post(CODE, {"code": last_code(to=NEW_EMAIL)})

    assert response["Location"] == INFO
    signed_in.refresh_from_db()
    assert signed_in.email == NEW_EMAIL and signed_in.email_verified_at is not None
    entry = Entry.objects.filter(kind="contact.validated").get()
    assert entry.before["email"] == old and entry.after["email"] == NEW_EMAIL
    assert "Votre adresse e-mail est modifiée." in page_text(client.get(INFO))


def test_the_old_address_gets_a_notice_with_a_not_me_link_and_the_new_one_a_confirmation(client, signed_in):
    old = signed_in.email
    change_email(client)

    warning = OutboxMessage.objects.get(template="accounts/notices/contact_changed_old")
    assert warning.to == old and warning.medium == "email"
    assert "L'adresse e-mail de votre espace Mon Compte a été remplacée" in warning.body
    assert "n•••@exemple.fr" in warning.body and NEW_EMAIL not in warning.body
    assert re.search(r"http://localhost/ce-n-etait-pas-moi/[^/\s]+/", warning.body)
    assert "&#x27;" not in warning.body and "&amp;" not in warning.body
    confirmation = OutboxMessage.objects.get(template="accounts/notices/contact_changed_new")
    assert confirmation.to == NEW_EMAIL and "désormais celle de votre espace" in confirmation.body


def test_a_validated_mobile_is_warned_too_by_sms_when_the_email_changes(client, db):
    account = AccountFactory(mobile="+33612345678", mobile_verified_at="2026-01-01T00:00:00Z")
    login(client, account)

    change_email(client)

    sms = OutboxMessage.objects.get(template="accounts/notices/contact_changed_old", medium="sms")
    assert sms.to == "+33612345678"
    assert "http" not in sms.body and "« Ce n'était pas moi »" in sms.body


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("+33 7 81 23 45 67", "+33781234567"),
        ("0692 12 34 56", "+262692123456"),  # Réunion
        ("+262 692 12 34 56", "+262692123456"),
        ("0690 12 34 56", "+590690123456"),  # Guadeloupe
        ("0696 12 34 56", "+596696123456"),  # Martinique
        ("0694 20 12 34", "+594694201234"),  # Guyane
        ("0639 01 23 45", "+262639012345"),  # Mayotte: +262 since 2007
        ("+269 321 23 45", "+2693212345"),  # +269, kept by many households of Mayotte (issue 3), with its prefix
    ],
)
def test_french_and_overseas_mobiles_are_accepted_in_e164(client, signed_in, typed, e164):
    response = client.post(CHANGE.format("mobile"), {"value": typed})

    assert response["Location"] == CODE, error_texts(response)
    assert OutboxMessage.objects.get(template="verification/contact").to == e164
    client.post(CODE, {"code": last_code(to=e164)})
    signed_in.refresh_from_db()
    assert signed_in.mobile == e164 and signed_in.mobile_verified_at is not None


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("01 23 45 67 89", "Ce numéro n'est pas un numéro de mobile"),
        ("abc", "Ce numéro de mobile n'est pas valide."),
        ("06 12 34", "Ce numéro de mobile n'est pas valide."),
        ("+44 7700 900123", "Ce numéro de mobile n'est pas valide."),
        ("", "Saisissez votre nouveau numéro de mobile."),
        ("0" * 31, "Ce numéro de téléphone est trop long."),
    ],
)
def test_an_invalid_mobile_is_refused_with_a_french_message_and_sends_nothing(client, signed_in, typed, message):
    response = client.post(CHANGE.format("mobile"), {"value": typed})

    assert response.status_code == 400
    assert any(message in error for error in error_texts(response)), error_texts(response)
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("typed", ["pas-une-adresse", "", "a@" + "b" * 260 + ".fr"])
def test_an_invalid_email_is_refused_and_sends_nothing(client, signed_in, typed):
    response = client.post(CHANGE.format("email"), {"value": typed})

    assert response.status_code == 400
    assert error_texts(response)
    assert not OutboxMessage.objects.exists()


def test_the_same_email_as_now_is_refused(client, signed_in):
    response = client.post(CHANGE.format("email"), {"value": signed_in.email.upper()})

    assert response.status_code == 400
    assert "C'est déjà votre adresse e-mail actuelle : saisissez la nouvelle." in error_texts(response)
    assert not OutboxMessage.objects.exists()


def test_the_same_mobile_as_now_is_refused_however_it_is_typed(client, db):
    account = AccountFactory(mobile="+33612345678", mobile_verified_at="2026-01-01T00:00:00Z")
    login(client, account)

    response = client.post(CHANGE.format("mobile"), {"value": "06.12.34.56.78"})

    assert response.status_code == 400
    assert "C'est déjà votre numéro de mobile actuel : saisissez le nouveau." in error_texts(response)


@pytest.mark.parametrize("medium", ["fax", "sms", "EMAIL", "telephone", "0"])
def test_an_unknown_medium_is_a_404(client, signed_in, medium):
    assert client.get(CHANGE.format(medium)).status_code == 404
    assert client.post(CHANGE.format(medium), {"value": NEW_EMAIL}).status_code == 404
    assert not OutboxMessage.objects.exists()


def test_a_change_needs_a_recent_password_entry(client, signed_in):
    password_typed_long_ago(client)

    response = client.post(CHANGE.format("email"), {"value": NEW_EMAIL})

    assert response.status_code == 302
    assert response["Location"] == f"{REAUTH}?next=%2Fmon-espace%2Fcoordonnees%2Femail%2F"
    assert not OutboxMessage.objects.exists()
    back = client.post(REAUTH, {"password": signed_in.raw_password, "next": CHANGE.format("email")})
    assert back["Location"] == CHANGE.format("email")
    assert client.get(CHANGE.format("email")).status_code == 200


def test_the_pages_need_a_signed_in_person(client, db):
    for url in (CHANGE.format("email"), CODE):
        assert client.get(url)["Location"].startswith(LOGIN)


def test_a_wrong_code_changes_nothing_and_counts_a_try(client, signed_in):
    old = signed_in.email
    client.post(CHANGE.format("email"), {"value": NEW_EMAIL})
    code = last_code(to=NEW_EMAIL)
    wrong = "000000" if code != "000000" else "111111"

    response = client.post(CODE, {"code": wrong})

    assert response.status_code == 400
    assert "Code incorrect. Il vous reste 4 essais." in error_texts(response)
    signed_in.refresh_from_db()
    assert signed_in.email == old
    assert not OutboxMessage.objects.filter(template__startswith="accounts/notices/contact_changed").exists()


def test_the_code_page_without_a_change_started_in_this_session_leads_back(client, signed_in, db):
    # A contact code issued elsewhere (another session) does not open this page.
    services.contact_send_code(account=signed_in, medium="email", value=NEW_EMAIL)

    response = client.post(CODE, {"code": last_code(to=NEW_EMAIL)})

    assert response["Location"] == INFO
    signed_in.refresh_from_db()
    assert signed_in.email != NEW_EMAIL


def test_asking_a_new_code_too_soon_says_when(client, signed_in):
    client.post(CHANGE.format("email"), {"value": NEW_EMAIL})

    response = client.post(CODE, {"resend": "1"}, follow=True)

    assert "Vous pourrez en demander un nouveau dans" in page_text(response)
    assert OutboxMessage.objects.filter(template="verification/contact").count() == 1


def test_the_change_pages_reject_other_methods(client, signed_in):
    assert client.put(CHANGE.format("email")).status_code == 405
    assert client.delete(CODE).status_code == 405


# --- "Ce n'était pas moi" from the notice ----------------------------------------------------------------------------


@pytest.fixture
def changed(client, signed_in):
    """The e-mail was changed in a signed-in session; the link sent to the old address."""
    old = signed_in.email
    change_email(client)
    signed_in.old_email = old
    signed_in.link = not_me_link(old)
    return signed_in


def test_the_link_first_asks_for_confirmation_and_changes_nothing(changed):
    visitor = Client(HTTP_HOST="localhost")

    response = visitor.get(changed.link, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [("/ce-n-etait-pas-moi/confirmer/", 302)]  # the token leaves the address bar
    text = page_text(response)
    assert "Vous signalez l'évènement suivant de votre compte : Changement de l'adresse e-mail" in text
    assert changed.person.nir not in response.content.decode() and NEW_EMAIL not in text
    changed.refresh_from_db()
    assert changed.email == NEW_EMAIL and changed.check_password(changed.raw_password)
    assert not SecurityReport.objects.exists()


def test_not_me_ends_every_session_restores_the_old_address_and_disables_the_password(client, changed):
    visitor = Client(HTTP_HOST="localhost")
    assert client.get(DASHBOARD).status_code == 200

    response = visitor.post(changed.link)

    assert response.status_code == 200
    text = page_text(response)
    assert "Votre signalement est enregistré" in text
    assert "Votre ancienne coordonnée a été rétablie à la place de la nouvelle." in text
    account = Account.objects.get(pk=changed.pk)
    assert account.email == changed.old_email and account.email_verified_at is not None
    assert not account.check_password(changed.raw_password)
    assert account.has_usable_password()  # random: the case PIN must not reopen the account
    assert not SessionRecord.objects.filter(account=account, ended_at__isnull=True).exists()
    assert client.get(DASHBOARD)["Location"].startswith(LOGIN)  # the session that changed the address is out
    report = SecurityReport.objects.get()
    assert (report.account_id, report.kind, report.source) == (account.pk, "contact.validated", "notice")
    entry = Entry.objects.get(kind="security.reported")
    assert entry.after["contact_restored"] is True and entry.after["entry"] == report.entry_id
    assert Entry.objects.get(kind="contact.validated", undone_at__isnull=False)
    notice = OutboxMessage.objects.get(template="accounts/notices/security_report_received")
    assert notice.to == changed.old_email
    assert "http://localhost/mot-de-passe-oublie/" in notice.body
    assert not OutboxMessage.objects.filter(template="accounts/notices/security_report_received", to=NEW_EMAIL)


def test_after_not_me_the_reset_code_goes_to_the_old_address_and_the_old_password_fails(client, changed):
    Client(HTTP_HOST="localhost").post(changed.link)

    failed = client.post(LOGIN, {"identifier": changed.person.nir, "password": changed.raw_password})
    assert failed.status_code == 400
    client.post(RESET, {"identifier": changed.person.nir, "medium": "email"})
    reset_code = OutboxMessage.objects.filter(template="verification/reset").get()
    assert reset_code.to == changed.old_email
    response = client.post(
        RESET_CODE,
        {"code": last_code(to=changed.old_email), "password1": "Cl4rinette-Jaune", "password2": "Cl4rinette-Jaune"},
    )
    assert response["Location"] == DASHBOARD


def test_a_code_in_flight_to_the_disowned_address_dies_with_the_report(client, changed):
    # Whoever changed the address asks a reset code there, before the person reacts.
    thief = Client(HTTP_HOST="localhost")
    OneTimeCode.objects.all().delete()  # no resend delay in the way
    thief.post(RESET, {"identifier": changed.person.nir, "medium": "email"})
    thief_code = last_code(to=NEW_EMAIL)

    Client(HTTP_HOST="localhost").post(changed.link)

    response = thief.post(RESET_CODE, {"code": thief_code, "password1": "Vol3ur-Malin!", "password2": "Vol3ur-Malin!"})
    assert response.status_code == 400
    account = Account.objects.get(pk=changed.pk)
    assert account.email == changed.old_email and not account.check_password("Vol3ur-Malin!")


def test_the_link_works_once(changed):
    visitor = Client(HTTP_HOST="localhost")
    visitor.post(changed.link)
    account = Account.objects.get(pk=changed.pk)
    account.set_password("Cl4rinette-Jaune")
    account.save()

    again = visitor.post(changed.link)

    assert again.status_code == 200
    assert "Ce signalement a déjà été pris en compte" in page_text(again)
    assert Account.objects.get(pk=changed.pk).check_password("Cl4rinette-Jaune")
    assert SecurityReport.objects.count() == 1
    assert Entry.objects.filter(kind="security.reported").count() == 1


def test_a_signed_in_visitor_of_the_link_is_signed_out_when_it_is_their_account(client, changed):
    response = client.post(changed.link)

    assert response.status_code == 200
    assert client.get(DASHBOARD)["Location"].startswith(LOGIN)


def tampered(link: str) -> list[str]:
    token = link.split("/")[-2]
    payload, timestamp, signature = token.rsplit(":", 2)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return [
        f"/ce-n-etait-pas-moi/{payload}:{timestamp}:{flipped}/",
        f"/ce-n-etait-pas-moi/{payload}/",
        "/ce-n-etait-pas-moi/n-importe-quoi/",
        "/ce-n-etait-pas-moi/%00%ff/",
        f"/ce-n-etait-pas-moi/{signing.dumps({'a': 1, 'e': 1}, salt='une-autre-utilisation')}/",
    ]


def test_a_tampered_or_garbage_link_shows_a_french_page_and_changes_nothing(changed):
    visitor = Client(HTTP_HOST="localhost")
    for link in tampered(changed.link):
        for method in (visitor.get, visitor.post):
            response = method(link)
            assert response.status_code == 400, link
            assert "Lien non valide" in page_text(response)
            assert "Rien n'a été modifié sur votre compte." in page_text(response)
    account = Account.objects.get(pk=changed.pk)
    assert account.email == NEW_EMAIL and account.check_password(changed.raw_password)
    assert not SecurityReport.objects.exists()


def test_an_expired_link_says_so_and_changes_nothing(changed, monkeypatch):
    entry = Entry.objects.get(kind="contact.validated")
    long_ago = int(time.time()) - 31 * 24 * 3600
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(long_ago))
    token = security.not_me_token(account=changed, entry=entry)
    monkeypatch.undo()

    response = Client(HTTP_HOST="localhost").post(f"/ce-n-etait-pas-moi/{token}/")

    assert response.status_code == 400
    assert "Ce lien a expiré" in page_text(response)
    assert Account.objects.get(pk=changed.pk).check_password(changed.raw_password)
    assert not SecurityReport.objects.exists()


def test_a_link_naming_someone_else_s_entry_is_refused(changed, db):
    other = AccountFactory()
    foreign_entry = Entry.objects.create(kind="contact.validated", person_id=other.person_id)
    token = security.not_me_token(account=changed, entry=foreign_entry)
    token_of_deleted_account = security.not_me_token(
        account=Account(pk=999_999), entry=Entry.objects.get(kind="contact.validated", person_id=changed.person_id)
    )

    for bad in (token, token_of_deleted_account):
        response = Client(HTTP_HOST="localhost").post(f"/ce-n-etait-pas-moi/{bad}/")
        assert response.status_code == 400
    assert not SecurityReport.objects.exists()
    assert Account.objects.get(pk=changed.pk).check_password(changed.raw_password)


def test_the_link_refuses_other_methods(changed):
    assert Client(HTTP_HOST="localhost").put(changed.link).status_code == 405
    assert not SecurityReport.objects.exists()


def test_not_me_keeps_the_newer_address_when_it_changed_again_since(client, changed):
    first_link = changed.link
    account = Account.objects.get(pk=changed.pk)
    services.contact_validated(account=account, medium="email", value="troisieme@exemple.fr")

    response = Client(HTTP_HOST="localhost").post(first_link)

    assert response.status_code == 200
    assert "Votre ancienne coordonnée a été rétablie" not in page_text(response)
    assert Account.objects.get(pk=changed.pk).email == "troisieme@exemple.fr"
    assert SecurityReport.objects.count() == 1
