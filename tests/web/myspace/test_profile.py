""" "Mes informations" (issue 3, item 5): own identity, contacts and memberships; "Signaler une erreur"; "Télécharger
mes données" as JSON and as a readable document, with nothing of anyone else."""

import html
import json
import re

import pytest
from django.utils import timezone

from moncompte.households.models import Role
from moncompte.identity import services as identity_services
from moncompte.identity.models import CorrectionRequest
from moncompte.identity.nir import parse_nir
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from tests.agents import agent_client, agent_make
from tests.factories import AccountFactory, MembershipFactory, PersonFactory
from tests.helpers import errors, page_text, password_typed_long_ago, sign_in

LOGIN = "/connexion/"
INFO = "/mon-espace/mes-informations/"
CORRECTION = "/mon-espace/mes-informations/signaler-une-erreur/"
DOWNLOAD = "/mon-espace/mes-informations/telecharger/{}/"
REAUTH = "/mon-espace/confirmer-mot-de-passe/"


@pytest.fixture
def family(db):
    """A holder with an account (e-mail and mobile validated), a partner with an account, a child; and a stranger."""
    holder = AccountFactory(mobile="+33612345678", mobile_verified_at=timezone.now())
    holder.person.usage_name = "Dupont-Usage"
    holder.person.save()
    membership = MembershipFactory(person=holder.person, role=Role.HOLDER)
    partner = AccountFactory(person=PersonFactory(sex="F", mobile_on_file="+33698765432"))
    MembershipFactory(case=membership.case, person=partner.person, role=Role.PARTNER)
    child = MembershipFactory(case=membership.case, person=PersonFactory(child=True), role=Role.CHILD).person
    stranger = AccountFactory()
    MembershipFactory(person=stranger.person, role=Role.HOLDER)
    # Surnames no page can show by chance (a generated one can be the holder's own, or a word such as "Paris").
    for person, surname in ((partner.person, "Partenairezz"), (child, "Enfantzz"), (stranger.person, "Inconnuzz")):
        person.birth_name = surname
        person.save(update_fields=["birth_name"])

    class Family:
        pass

    family = Family()
    family.holder, family.partner, family.child, family.stranger, family.case = (
        holder,
        partner,
        child,
        stranger,
        membership.case,
    )
    return family


def others_data(family) -> list[str]:
    """What must never appear in the holder's pages and downloads: the other people's identities and contacts."""
    values = []
    for person in (family.partner.person, family.child, family.stranger.person):
        values += [person.nir, person.birth_name, person.email_on_file]
        values += [person.mobile_on_file]
    values += [family.partner.email, family.stranger.email]
    return [value for value in values if value]


# --- The page --------------------------------------------------------------------------------------------------------


def test_my_information_shows_my_identity_contacts_and_memberships_with_the_nir_masked(client, family):
    sign_in(client, family.holder)
    response = client.get(INFO)

    assert response.status_code == 200
    text = page_text(response)
    person = family.holder.person
    for value in (person.birth_name, "Dupont-Usage", person.given_names, "01/05/1984", "75056", "France"):
        assert value in text
    assert person.nir_masked in text
    assert person.nir not in response.content.decode()
    assert family.holder.email in text
    assert "+33 6 12 34 56 78" in text
    assert family.case.case_number in text
    assert "Allocataire (responsable de dossier)" in text
    for link in (
        CORRECTION,
        DOWNLOAD.format("json"),
        DOWNLOAD.format("document"),
        "/mon-espace/coordonnees/email/",
        "/mon-espace/coordonnees/mobile/",
    ):
        assert f'href="{link}"' in response.content.decode()


def test_my_information_shows_the_contacts_on_file_as_not_validated(client, family):
    sign_in(client, family.partner)
    text = page_text(client.get(INFO))

    assert "Coordonnées connues de la Caf" in text
    assert "+33 6 98 76 54 32" in text
    assert "Aucun numéro validé" in text
    assert "Conjoint" in text


def test_my_information_shows_nothing_of_the_other_members(client, family):
    sign_in(client, family.holder)
    body = client.get(INFO).content.decode()

    for value in others_data(family):
        assert value not in body, value


def test_my_information_needs_a_signed_in_person(client, db):
    assert client.get(INFO)["Location"] == f"{LOGIN}?next={INFO}"
    agent = agent_make("agent", superuser=True)
    agent_client(agent, client)
    assert client.get(INFO)["Location"] == "/admin/"


def test_my_information_is_private_and_not_stored(client, family):
    sign_in(client, family.holder)
    for url in (INFO, CORRECTION):
        cache_control = {part.strip() for part in client.get(url)["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= cache_control


# --- Signaler une erreur ---------------------------------------------------------------------------------------------


def test_reporting_an_error_files_a_request_for_an_agent_and_journals_it_without_the_message(client, family):
    sign_in(client, family.holder)
    message = "Mon prénom s'écrit Frédéric avec un accent, et mon NIR est 1 84 05 75 123 456."

    response = client.post(CORRECTION, {"topic": "name", "message": message})

    assert response.status_code == 302 and response["Location"] == INFO
    request = CorrectionRequest.objects.get(person=family.holder.person)
    assert (request.topic, request.message, request.status) == ("name", message, "open")
    entry = Entry.objects.get(kind="correction.requested")
    assert entry.person_id == family.holder.person_id
    assert entry.after == {"request": request.pk, "topic": "name"}
    assert "Frédéric" not in json.dumps(entry.after) and "123" not in json.dumps(entry.after)
    page = client.get(INFO)
    assert "Votre signalement est enregistré." in page_text(page)
    assert "Nom ou prénoms : À traiter" in page_text(page)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"topic": "name", "message": ""}, "Décrivez l'erreur à corriger."),
        ({"topic": "name", "message": "   "}, "Décrivez l'erreur à corriger."),
        ({"message": "Mon nom est faux"}, "Choisissez l'information concernée."),
        ({"topic": "salary", "message": "Mon nom est faux"}, "Choisissez l'information concernée."),
        ({"topic": "name", "message": "x" * 2001}, "Votre description est trop longue : 2000 caractères au plus"),
    ],
)
def test_a_bad_error_report_is_refused_with_a_french_message_and_files_nothing(client, family, data, message):
    sign_in(client, family.holder)

    response = client.post(CORRECTION, data)

    assert response.status_code == 400
    assert any(message in html.unescape(error) for error in errors(response)), errors(response)
    assert not CorrectionRequest.objects.exists()


def test_agents_see_the_error_reports_in_the_admin_and_mark_them_handled(client, family):
    identity_services.correction_request_file(person=family.holder.person, topic="birth", message="Né le 2 mai")
    agent = agent_make("agent", superuser=True)
    agent_client(agent, client)

    listing = client.get("/admin/identity/correctionrequest/?status__exact=open")
    assert listing.status_code == 200
    assert "Date ou lieu de naissance" in page_text(listing)
    request = CorrectionRequest.objects.get()
    detail = client.get(f"/admin/identity/correctionrequest/{request.pk}/change/")
    assert detail.status_code == 200 and "Né le 2 mai" in page_text(detail)
    assert family.holder.person.nir not in detail.content.decode()

    response = client.post(
        "/admin/identity/correctionrequest/", {"action": "mark_done", "_selected_action": [request.pk]}
    )

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "done" and request.handled_at is not None
    handled = Entry.objects.get(kind="correction.handled")
    assert handled.actor_account_id == agent.pk and handled.person_id == family.holder.person_id
    assert client.get("/admin/identity/correctionrequest/add/").status_code == 403


def test_undoing_an_error_report_removes_it_while_nobody_has_handled_it(family):
    identity_services.correction_request_file(person=family.holder.person, topic="other", message="Autre chose")

    journal.undo(Entry.objects.get(kind="correction.requested"))

    assert not CorrectionRequest.objects.exists()


# --- Télécharger mes données -----------------------------------------------------------------------------------------


@pytest.fixture
def holder_with_history(client, family):
    """The holder signed in, with an error report, and journal entries about other people around theirs."""
    sign_in(client, family.holder)
    identity_services.correction_request_file(person=family.holder.person, topic="name", message="Prénom mal écrit")
    with_other = Entry.objects.create(
        kind="login.succeeded",
        person_id=family.partner.person_id,
        actor_account_id=family.partner.pk,
        ip_address="198.51.100.77",
        user_agent="PartnerBrowser/1.0",
    )
    about_me_by_partner = Entry.objects.create(
        kind="delegation.revoked",
        person_id=family.holder.person_id,
        actor_account_id=family.partner.pk,
        ip_address="198.51.100.78",
        user_agent="PartnerPhone/2.0",
        after={"partner": family.partner.person_id},
    )
    return with_other, about_me_by_partner


def test_the_json_download_holds_everything_about_me(client, family, holder_with_history):
    response = client.get(DOWNLOAD.format("json"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    assert re.fullmatch(
        r'attachment; filename="mes-donnees-mon-compte-\d{4}-\d\d-\d\d\.json"', response["Content-Disposition"]
    )
    data = json.loads(response.content)
    person = family.holder.person
    nir = parse_nir(person.nir)
    assert data["identity"]["nir"] == {
        "value": person.nir,
        "key": nir.key,
        "formatted": data["identity"]["nir"]["formatted"],
    }
    assert data["identity"]["nir"]["formatted"].replace(" ", "") == nir.with_key
    assert data["identity"]["birth_name"] == person.birth_name and data["identity"]["birth_date"] == "1984-05-01"
    assert data["contacts"]["validated"]["email"] == family.holder.email
    assert data["contacts"]["validated"]["mobile"] == "+33612345678"
    assert data["contacts"]["on_file"]["email"] == person.email_on_file
    assert data["memberships"] == [
        {
            "case_number": family.case.case_number,
            "role": "holder",
            "role_label": "Allocataire (responsable de dossier)",
        }
    ]
    assert [c["message"] for c in data["correction_requests"]] == ["Prénom mal écrit"]
    assert len(data["sessions"]) == 1 and data["sessions"][0]["via"] == "password"
    kinds = {entry["kind"] for entry in data["journal"]}
    assert {"login.succeeded", "correction.requested", "delegation.revoked"} <= kinds


def test_the_download_holds_no_other_person_s_data_and_no_secret(client, family, holder_with_history):
    for fmt in ("json", "document"):
        body = client.get(DOWNLOAD.format(fmt)).content.decode()

        for value in others_data(family):
            assert value not in body, (fmt, value)
        # Another member's device and address, even on an entry about me, and the ids an entry keeps for undoing.
        for value in ("198.51.100.77", "198.51.100.78", "PartnerBrowser", "PartnerPhone", '"partner"'):
            assert value not in body, (fmt, value)
        for secret in ("argon2", "pbkdf2", family.holder.password, "session_ref", "code_hmac"):
            assert secret not in body, (fmt, secret)
        assert family.holder.raw_password not in body


def test_the_readable_document_is_a_self_contained_french_html_attachment(client, family, holder_with_history):
    response = client.get(DOWNLOAD.format("document"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Disposition"].endswith('.html"')
    body = response.content.decode()
    assert '<html lang="fr">' in body
    assert not re.search(r"<(script|link|img|iframe)\b", body)
    assert not re.search(r"""(src|href)=["']""", body)
    text = page_text(response)
    person = family.holder.person
    assert f"Mes données — {person.given_names} {person.birth_name}" in text
    assert parse_nir(person.nir).with_key in text.replace(" ", "")
    assert "Allocataire (responsable de dossier)" in text
    assert "Prénom mal écrit" in text
    assert "01/05/1984" in text
    assert "Historique des actions vous concernant" in text


def test_the_download_asks_for_the_password_again_after_a_while(client, family):
    sign_in(client, family.holder)
    password_typed_long_ago(client)

    response = client.get(DOWNLOAD.format("json"))

    assert response.status_code == 302
    assert response["Location"] == f"{REAUTH}?next=%2Fmon-espace%2Fmes-informations%2Ftelecharger%2Fjson%2F"
    back = client.post(REAUTH, {"password": family.holder.raw_password, "next": DOWNLOAD.format("json")})
    assert client.get(back["Location"]).status_code == 200


@pytest.mark.parametrize("fmt", ["pdf", "JSON", "csv", "..", "document.html"])
def test_an_unknown_download_format_is_a_404(client, family, fmt):
    sign_in(client, family.holder)

    assert client.get(DOWNLOAD.format(fmt)).status_code == 404


def test_the_download_is_not_for_anonymous_visitors(client, family):
    response = client.get(DOWNLOAD.format("json"))

    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
