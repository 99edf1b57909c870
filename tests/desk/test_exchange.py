"""Receiving a person at the desk or on the phone (issue 13, item 3): the search by case number or NIR, the exchange
opened with how the person was identified, what the agent may tell them (the access policy, for that person), their
help state, and the actions (a reset code to a validated contact, an invitation sent again, an error report). Every
look and action is journaled in the desk's channel with the agent as actor, and the person reads it in their
security history."""

import html
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import F
from django.template.defaultfilters import date as date_filter
from django.test import Client
from django.utils import timezone, translation

from moncompte.accounts.models import Account, SecurityReport
from moncompte.households import invitations
from moncompte.households.models import Invitation, SignupRequest
from moncompte.identity.models import CorrectionRequest
from moncompte.identity.nir import nir_grouped, nir_key
from moncompte.journal.models import Entry, Read
from moncompte.messaging.models import OutboxMessage
from moncompte.verification.models import OneTimeCode
from tests.agents import DESK_LOGIN, agent_client, agent_make
from tests.factories import AccountFactory, family, make_nir
from tests.helpers import last_code, page_text, shown_errors, sign_in

HOME = "/guichet/"
OPEN = "/guichet/echange/ouvrir/"
EXCHANGE = "/guichet/echange/"
RESET_CODE = "/guichet/echange/code/"
INVITATION = "/guichet/echange/invitation/"
ERROR_REPORT = "/guichet/echange/signalement/"
END = "/guichet/echange/fin/"
HISTORY = "/mon-espace/securite/"
REPORT = "/mon-espace/securite/signaler/"
NOT_FOUND = "Aucune personne ne correspond à ce numéro."
TELL = "Vous pouvez lui communiquer les informations du dossier."
PARTNER_LIMIT = (
    "Conjoint sans délégation : ne communiquez que ses propres informations, pas celles du dossier (paiements, "
    "courriers, autres membres)."
)
MEMBER_LIMIT = (
    "Membre du foyer (enfant ou autre personne) : ne communiquez que ses propres informations, pas celles du dossier "
    "(paiements, courriers, autres membres)."
)
NO_CONTACT = "Cette personne n'a pas de coordonnée validée de ce type : aucun code n'est parti."
SEARCH_AGAIN = "Cherchez de nouveau la personne."


def search(desk: Client, query: str):
    return desk.post(HOME, {"query": query})


def receive(desk: Client, person, *, query: str | None = None, identified_by: str = "desk_id"):
    """Search the person (by their NIR unless `query`), open the exchange with them: the exchange's page."""
    found = search(desk, query or person.nir)
    assert found.status_code == 200 and f'name="person" value="{person.pk}"' in found.content.decode()
    response = desk.post(OPEN, {"person": person.pk, "identified_by": identified_by})
    assert response.status_code == 302 and response["Location"] == EXCHANGE
    page = desk.get(EXCHANGE)
    assert page.status_code == 200
    return page


def full_names(*people) -> list[str]:
    return [f"{p.first_name} {p.last_name}" for p in people]


def case_text(response, case) -> str:
    """What the page says about one case (« Ce que vous pouvez lui dire »)."""
    match = re.search(rf'<section[^>]*id="case-{case.case_number}".*?</section>', response.content.decode(), re.S)
    assert match, page_text(response)[:800]
    return text_of(match.group(0))


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def help_state(response) -> list[str]:
    block = re.search(r'<ul id="help-state">(.*?)</ul>', response.content.decode(), re.S).group(1)
    return [text_of(item) for item in re.findall(r"<li>(.*?)</li>", block, re.S)]


def alerts(response) -> list[str]:
    """The messages of the page (« Code envoyé… », a refusal)."""
    return [
        text_of(text)
        for text in re.findall(r'<div class="fr-alert fr-alert--(?:error|success|warning|info) fr-alert--sm fr-mb-3w"'
                               r'[^>]*>\s*<p>(.*?)</p>', response.content.decode(), re.S)
    ]  # fmt: skip


def desk_entries():
    """The journal entries the desk wrote (the agent's account was opened by an operator)."""
    return Entry.objects.exclude(kind="agent.created").order_by("id")


def shift_codes_back(seconds: int = 61) -> None:
    """As if the codes had been sent `seconds` earlier (past the resend delay)."""
    OneTimeCode.objects.update(created_at=F("created_at") - timedelta(seconds=seconds))


def invite(f, person):
    """The holder invited `person` by e-mail, at the address the Caf has on file for them."""
    return invitations.invitation_send(
        case=f.case,
        person=person,
        created_by=f.holder,
        medium="email",
        destination=person.email_on_file,
        link=lambda token: f"http://localhost/invitation/{token}/",
    )


# --- The search ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_search_by_case_number_lists_the_case_s_members_to_choose_who_is_asking(desk, desk_agent):
    f = family(children=1)

    response = search(desk, f.case.case_number)

    assert response.status_code == 200
    text = page_text(response)
    assert "Qui vous parle ?" in text
    for name in full_names(f.holder, f.partner, *f.children):
        assert name in text, name
    assert f"Allocataire (responsable de dossier) du dossier {f.case.case_number}" in text
    assert f"Conjoint du dossier {f.case.case_number}" in text
    assert f.holder.nir not in response.content.decode()  # the NIR never travels back
    assert not desk_entries().exists()  # a search is not yet an exchange
    looked = set(Read.objects.values_list("viewer_account_id", "channel", "person_id"))
    assert looked == {(desk_agent.pk, "desk", p.pk) for p in (f.holder, f.partner, *f.children)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed",
    [
        lambda nir: nir_grouped(nir),
        lambda nir: f"  {nir[:5]} {nir[5:10]}  {nir[10:]} ",
        lambda nir: nir_grouped(nir + f"{nir_key(nir):02d}"),
    ],
    ids=["as-on-the-card", "odd-spaces", "with-key"],
)
def test_a_search_by_nir_with_spaces_finds_that_person_alone(desk, typed):
    f = family(children=1)

    response = search(desk, typed(f.partner.nir))

    assert response.status_code == 200
    text = page_text(response)
    assert full_names(f.partner)[0] in text
    assert f'name="person" value="{f.partner.pk}"' in response.content.decode()
    for other in full_names(f.holder, *f.children):
        assert other not in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "abcdefg",
            "Saisissez un numéro allocataire (7 chiffres) ou un numéro de Sécurité sociale (13 ou 15 caractères).",
        ),
        ("1" * 50, "Assurez-vous que cette valeur comporte au plus 40 caractères (actuellement 50)."),
        ("", "Saisissez un numéro allocataire ou un numéro de Sécurité sociale."),
        ("   ", "Saisissez un numéro allocataire ou un numéro de Sécurité sociale."),
        (
            "12345",
            "Saisissez un numéro allocataire (7 chiffres) ou un numéro de Sécurité sociale (13 ou 15 caractères).",
        ),
    ],
    ids=["letters", "50-digits", "empty", "spaces", "5-digits"],
)
def test_bad_input_is_refused_with_a_french_message_and_changes_nothing(desk, query, message):
    family()

    response = search(desk, query)

    assert response.status_code == 400
    assert any(error.startswith(message) for error in shown_errors(response)), shown_errors(response)
    assert "Qui vous parle ?" not in page_text(response)
    assert not desk_entries().exists()
    assert not Read.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["9999999", nir_grouped(make_nir(seq=919_191))], ids=["case-number", "nir"])
def test_an_unknown_number_says_nobody_matches_and_changes_nothing(desk, query):
    family()

    response = search(desk, query)

    assert response.status_code == 200
    assert NOT_FOUND in page_text(response)
    assert "Qui vous parle ?" not in page_text(response)
    assert not desk_entries().exists()
    assert not Read.objects.exists()


@pytest.mark.django_db
def test_the_search_needs_the_desk_role():
    team = agent_client(agent_make("equipe-securite", roles=("security",)))
    f = family()

    response = search(team, f.holder.nir)

    assert response.status_code == 403
    assert f.holder.first_name not in page_text(response)
    assert not Read.objects.exists()


# --- Opening the exchange ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Indiquez comment la personne a été identifiée."),
        ({"identified_by": ""}, "Indiquez comment la personne a été identifiée."),
        ({"identified_by": "telepathie"}, "Sélectionnez un choix valide."),
    ],
    ids=["missing", "empty", "unknown"],
)
def test_opening_an_exchange_needs_an_identification_method(desk, data, message):
    f = family()
    search(desk, f.holder.nir)

    response = desk.post(OPEN, {"person": f.holder.pk, **data}, follow=True)

    assert response.redirect_chain[0] == (HOME, 302)
    assert any(alert.startswith(message) for alert in alerts(response)), alerts(response)
    assert not Entry.objects.filter(kind="desk.consulted").exists()
    assert desk.get(EXCHANGE)["Location"] == HOME


@pytest.mark.django_db
def test_a_person_who_was_not_among_the_last_search_s_candidates_is_refused(desk):
    first, second = family(), family()
    search(desk, first.holder.nir)
    search(desk, second.holder.nir)  # the agent's last search

    forged = desk.post(OPEN, {"person": first.holder.pk, "identified_by": "desk_id"}, follow=True)
    never = desk.post(OPEN, {"person": second.partner.pk, "identified_by": "desk_id"}, follow=True)
    garbage = desk.post(OPEN, {"person": "1 OR 1=1", "identified_by": "desk_id"}, follow=True)

    for response in (forged, never, garbage):
        assert response.redirect_chain[0] == (HOME, 302)
        assert SEARCH_AGAIN in alerts(response)
    assert not Entry.objects.filter(kind="desk.consulted").exists()
    assert desk.get(EXCHANGE)["Location"] == HOME


@pytest.mark.django_db
def test_another_agent_cannot_open_an_exchange_from_someone_else_s_search(desk):
    f = family()
    search(desk, f.holder.nir)
    other = agent_client(agent_make("accueil-dijon", roles=("desk",)))

    response = other.post(OPEN, {"person": f.holder.pk, "identified_by": "desk_id"})

    assert response["Location"] == HOME
    assert not Entry.objects.filter(kind="desk.consulted").exists()


@pytest.mark.django_db
def test_opening_the_exchange_is_journaled_about_the_person_with_the_agent_as_actor(desk, desk_agent):
    f = family()

    page = receive(desk, f.holder, identified_by="phone_questions")

    entry = Entry.objects.get(kind="desk.consulted")
    assert (entry.person_id, entry.actor_account_id, entry.channel) == (f.holder.pk, desk_agent.pk, "desk")
    assert entry.case_number == f.case.case_number
    assert entry.after == {"identified_by": "phone_questions", "cases": [f.case.case_number]}
    assert "Identification : au téléphone, par des questions sur le dossier" in page_text(page)
    # The agent checks the NIR with the person, who reads it from their card: the page shows it partly masked.
    assert f.holder.nir_masked in page_text(page)
    assert f.holder.nir not in page.content.decode() and nir_grouped(f.holder.nir) not in page_text(page)


@pytest.mark.django_db
def test_ending_the_exchange_forgets_the_person(desk):
    f = family()
    receive(desk, f.holder)

    response = desk.post(END, follow=True)

    assert "Échange terminé." in alerts(response)
    assert desk.get(EXCHANGE)["Location"] == HOME
    assert desk.post(RESET_CODE, {"medium": "email"})["Location"] == HOME
    assert not OutboxMessage.objects.exists()


# --- What the agent may tell ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["holder", "delegated_partner"])
def test_the_holder_and_a_delegated_partner_may_be_told_the_case_with_its_members(desk, who):
    f = family(delegated=True, children=1)
    person = f.holder if who == "holder" else f.partner

    page = receive(desk, person)

    text = case_text(page, f.case)
    assert TELL in text
    assert "Membres du foyer" in text
    for name in full_names(f.holder, f.partner, *f.children):
        assert name in text, name
    assert "Les paiements ne sont pas disponibles pour le moment" in text  # no case system in the tests
    assert PARTNER_LIMIT not in text and MEMBER_LIMIT not in text
    assert f.case.pin not in page.content.decode()  # never a PIN, a password or a code


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "limit"), [("partner", PARTNER_LIMIT), ("child", MEMBER_LIMIT)])
def test_a_partner_without_delegation_and_a_child_are_told_only_their_own_data_and_why(desk, who, limit):
    f = family(children=2)
    person = f.partner if who == "partner" else f.children[0]
    others = [p for p in (f.holder, f.partner, *f.children) if p != person]

    page = receive(desk, person)

    text = case_text(page, f.case)
    assert limit in text
    assert "Raison à donner :" in text
    assert TELL not in text and "Membres du foyer" not in text and "paiements ne sont pas" not in text
    body = page_text(page)
    for name in full_names(*others):
        assert name not in body, name
    for other in others:
        assert other.given_names not in body and other.birth_name not in body
    assert full_names(person)[0] in body
    # Nothing of the case was shown: no look at it recorded, only at the person.
    assert not Read.objects.exclude(case_number="").exists()


@pytest.mark.django_db
def test_a_person_in_no_case_is_told_only_their_own_data(desk):
    account = AccountFactory()

    page = receive(desk, account.person)

    assert "Cette personne n'appartient à aucun dossier : ne communiquez que ses propres informations." in page_text(
        page
    )


# --- The help state ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_help_state_says_a_member_without_account_has_not_opened_one_yet(desk):
    f = family(children=1, partner_account=False)

    child = help_state(receive(desk, f.children[0]))
    partner = help_state(receive(desk, f.partner))

    assert child[0].startswith("Compte personnel : pas encore ouvert.")
    assert "Créer mon compte" in child[0] and "mot de passe du dossier" not in child[0]  # a child has no case PIN
    assert "Coordonnées validées : aucune." in child
    assert partner[0].startswith("Compte personnel : pas encore ouvert.")
    assert "mot de passe du dossier à 8 chiffres" in partner[0]


@pytest.mark.django_db
def test_the_help_state_shows_a_pending_signup_request(desk):
    f = family(children=1)
    child = f.children[0]
    request = SignupRequest.objects.create(case=f.case, person=child, medium="email", destination="enfant@exemple.fr")
    SignupRequest.objects.create(
        case=f.case, person=child, medium="email", destination="x@exemple.fr", status="refused"
    )

    state = help_state(receive(desk, child))

    pending = [line for line in state if line.startswith("Demande de création de compte")]
    with translation.override("fr"):
        since = date_filter(timezone.localtime(request.created_at), "j F Y")
    assert pending == [
        f"Demande de création de compte en attente de l'allocataire du dossier {f.case.case_number}, depuis le "
        f"{since}."
    ], state
    assert "enfant@exemple.fr" not in " ".join(state)


@pytest.mark.django_db
def test_the_help_state_of_a_migrated_holder_shows_the_validated_contacts_masked(desk):
    f = family()
    account = f.holder_account

    state = help_state(receive(desk, f.holder))

    assert state[0] == "Compte personnel : ouvert, passage au nouveau compte terminé."
    assert any(line.startswith("Coordonnées validées : e-mail ") and "•" in line for line in state), state
    assert account.email not in " ".join(state)


# --- Action: a reset code ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reset_code_goes_to_the_validated_contact_only_and_the_agent_never_sees_it(desk, desk_agent):
    f = family()
    # The validated e-mail is not the one on file; the mobile on file was never validated.
    Account.objects.filter(pk=f.holder_account.pk).update(email="valide@exemple.fr")
    account = Account.objects.get(pk=f.holder_account.pk)
    assert f.holder.email_on_file != account.email and f.holder.mobile_on_file and not account.mobile_verified_at
    receive(desk, f.holder)

    response = desk.post(RESET_CODE, {"medium": "email"}, follow=True)

    assert response.redirect_chain[0] == (EXCHANGE, 302)
    sent = OutboxMessage.objects.get()
    assert (sent.medium, sent.to, sent.template) == ("email", "valide@exemple.fr", "verification/desk_reset")
    code = last_code(to=account.email)
    assert re.fullmatch(r"\d{8}", code)
    said = [alert for alert in alerts(response) if alert.startswith("Code envoyé à ")]
    assert len(said) == 1 and "•" in said[0] and account.email not in said[0]
    assert "J'ai reçu un code d'un conseiller" in said[0]
    assert code not in response.content.decode()
    assert code not in desk.get(EXCHANGE).content.decode()
    entry = Entry.objects.get(kind="desk.reset_code_sent")
    assert (entry.person_id, entry.actor_account_id, entry.channel) == (f.holder.pk, desk_agent.pk, "desk")
    assert entry.after["medium"] == "email" and account.email not in str(entry.after)
    assert code not in str(list(Entry.objects.values_list("after", flat=True)))
    assert OneTimeCode.objects.get().lane == "desk"


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["mobile-not-validated", "no-validated-contact", "no-account", "bad-medium"])
def test_a_reset_code_is_refused_without_a_validated_contact_of_that_medium(desk, case):
    f = family(partner_account=False)
    person, medium = f.holder, "sms"
    if case == "no-validated-contact":
        Account.objects.filter(pk=f.holder_account.pk).update(email_verified_at=None)
        medium = "email"
    elif case == "no-account":
        person, medium = f.partner, "email"
    elif case == "bad-medium":
        medium = "pigeon"
    page = receive(desk, person)
    if case in ("no-validated-contact", "no-account"):
        assert "Pas d'envoi possible" in page_text(page) and 'id="reset-code"' not in page.content.decode()

    response = desk.post(RESET_CODE, {"medium": medium}, follow=True)

    expected = "Choisissez où envoyer le code." if case == "bad-medium" else NO_CONTACT
    assert expected in alerts(response), alerts(response)
    assert not OutboxMessage.objects.exists()
    assert not OneTimeCode.objects.exists()
    assert not Entry.objects.filter(kind="desk.reset_code_sent").exists()


@pytest.mark.django_db
def test_a_second_reset_code_within_a_minute_is_refused_in_french(desk):
    f = family()
    receive(desk, f.holder)
    desk.post(RESET_CODE, {"medium": "email"})

    response = desk.post(RESET_CODE, {"medium": "email"}, follow=True)

    refused = [alert for alert in alerts(response) if alert.startswith("Aucun code n'est parti : ")]
    assert refused and "Vous pourrez en demander un nouveau dans" in refused[0], alerts(response)
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_reset_codes_past_the_hourly_quota_are_refused_in_french(desk):
    f = family()
    receive(desk, f.holder)
    for _ in range(5):
        desk.post(RESET_CODE, {"medium": "email"})
        shift_codes_back()
    assert OutboxMessage.objects.count() == 5

    response = desk.post(RESET_CODE, {"medium": "email"}, follow=True)

    quota = "Aucun code n'est parti : Trop de codes ont été envoyés en une heure. Vous pourrez en demander un nouveau"
    assert any(alert.startswith(quota) for alert in alerts(response)), alerts(response)
    assert OutboxMessage.objects.count() == 5
    assert Entry.objects.filter(kind="desk.reset_code_sent").count() == 5


# --- Action: the invitation sent again ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_invitation_sent_again_revokes_the_old_one_and_goes_to_the_same_destination(desk, desk_agent):
    f = family(children=1)
    child = f.children[0]
    old = invite(f, child)
    page = receive(desk, child)
    assert any(line.startswith("Invitation par e-mail envoyée le ") for line in help_state(page)), help_state(page)
    before = Entry.objects.latest("id").pk

    response = desk.post(INVITATION, follow=True)

    assert "Invitation renvoyée (par e-mail) ; l'ancienne ne sert plus." in alerts(response)
    old.refresh_from_db()
    assert invitations.invitation_state(old) == invitations.InvitationState.REVOKED
    new = Invitation.objects.exclude(pk=old.pk).get()
    assert (new.person_id, new.case_id, new.medium, new.destination) == (child.pk, f.case.pk, "email", old.destination)
    assert invitations.invitation_state(new) == invitations.InvitationState.VALID
    assert list(OutboxMessage.objects.order_by("id").values_list("to", flat=True)) == [old.destination] * 2
    entry = Entry.objects.get(kind="desk.invitation_resent")
    assert (entry.person_id, entry.actor_account_id, entry.channel) == (child.pk, desk_agent.pk, "desk")
    assert entry.after == {"invitation": new.pk, "medium": "email"}
    written = Entry.objects.filter(pk__gt=before)
    assert {"invitation.sent", "desk.invitation_resent"} <= set(written.values_list("kind", flat=True))
    assert set(written.values_list("actor_account_id", "channel")) == {(desk_agent.pk, "desk")}


@pytest.mark.django_db
def test_an_expired_invitation_can_be_sent_again(desk):
    f = family(children=1)
    child = f.children[0]
    old = invite(f, child)
    Invitation.objects.filter(pk=old.pk).update(expires_at=old.created_at - timedelta(minutes=1))
    receive(desk, child)

    desk.post(INVITATION)

    assert Invitation.objects.count() == 2
    assert invitations.invitation_state(Invitation.objects.latest("id")) == invitations.InvitationState.VALID


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("child", "Aucune invitation à renvoyer pour cette personne."),
        ("holder", "Cette personne a déjà ouvert son compte : il n'y a pas d'invitation à renvoyer."),
    ],
)
def test_an_invitation_cannot_be_sent_again_when_there_is_none_or_the_account_is_open(desk, who, message):
    f = family(children=1)
    receive(desk, f.children[0] if who == "child" else f.holder)

    response = desk.post(INVITATION, follow=True)

    assert message in alerts(response)
    assert not Invitation.objects.exists()
    assert not OutboxMessage.objects.exists()


# --- Action: an error report -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_error_report_files_a_correction_request_for_the_person(desk, desk_agent):
    f = family()
    receive(desk, f.partner)

    response = desk.post(ERROR_REPORT, {"topic": "name", "message": "Le prénom d'usage est Lou."}, follow=True)

    assert "Signalement enregistré : il sera traité par un agent habilité à corriger les données." in alerts(response)
    request = CorrectionRequest.objects.get()
    assert (request.person_id, request.topic, request.message, request.status) == (
        f.partner.pk,
        "name",
        "Le prénom d'usage est Lou.",
        "open",
    )
    entry = Entry.objects.get(kind="correction.requested")
    assert (entry.person_id, entry.actor_account_id, entry.channel) == (f.partner.pk, desk_agent.pk, "desk")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"topic": "", "message": "x"}, "Choisissez le sujet de l'erreur."),
        ({"topic": "salaire", "message": "x"}, "Choisissez le sujet."),
        ({"topic": "name", "message": ""}, "Décrivez l'erreur signalée par la personne."),
    ],
)
def test_an_error_report_without_a_topic_or_a_message_files_nothing(desk, data, message):
    f = family()
    receive(desk, f.holder)

    response = desk.post(ERROR_REPORT, data, follow=True)

    assert message in alerts(response), alerts(response)
    assert not CorrectionRequest.objects.exists()


# --- The journal and the looks -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_look_and_action_of_the_exchange_is_journaled_in_the_desk_channel_with_the_agent_as_actor(
    desk, desk_agent
):
    f = family()
    receive(desk, f.holder)
    desk.post(RESET_CODE, {"medium": "email"})
    desk.post(ERROR_REPORT, {"topic": "birth", "message": "Né à Lyon, pas à Paris."})

    entries = list(desk_entries())

    kinds = [e.kind for e in entries]
    assert kinds[0] == "desk.consulted"
    assert {"code.sent", "desk.reset_code_sent", "correction.requested"} <= set(kinds)
    assert {(e.actor_account_id, e.channel, e.person_id) for e in entries} == {(desk_agent.pk, "desk", f.holder.pk)}
    assert len({e.session_ref for e in entries}) == 1 and entries[0].session_ref


@pytest.mark.django_db
def test_the_looks_are_recorded_with_the_desk_channel_and_the_agent_as_viewer(desk, desk_agent):
    f = family(children=1)
    receive(desk, f.holder, query=f.case.case_number)

    looks = set(Read.objects.values_list("viewer_account_id", "channel", "person_id", "case_number"))

    assert (desk_agent.pk, "desk", f.holder.pk, "") in looks
    assert (desk_agent.pk, "desk", None, f.case.case_number) in looks  # the holder was told the case
    assert {(viewer, channel) for viewer, channel, _, _ in looks} == {(desk_agent.pk, "desk")}
    # Shown again within the hour, the same looks write nothing more.
    count = Read.objects.count()
    desk.get(EXCHANGE)
    assert Read.objects.count() == count


# --- The person's security history ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_person_reads_that_an_agent_consulted_the_case_and_cannot_disown_it(desk, client):
    f = family()
    receive(desk, f.holder)
    consulted = Entry.objects.get(kind="desk.consulted")
    sign_in(client, f.holder_account)

    response = client.get(HISTORY)

    assert response.status_code == 200
    body = response.content.decode()
    rows = [text_of(row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    line = next(row for row in rows if "Un agent de la Caf a consulté votre dossier" in row)
    assert timezone.localtime(consulted.created_at).strftime("%d/%m/%Y %H:%M") in line
    assert "Un agent de la Caf, à l'accueil ou au téléphone" in line
    assert "Ce n'était pas moi" not in line
    assert f'name="entry" value="{consulted.pk}"' not in body
    # Sent anyway, the report is refused and changes nothing.
    refused = client.post(REPORT, {"entry": consulted.pk}, follow=True)
    assert "Cet évènement ne peut pas être signalé." in page_text(refused)
    assert not SecurityReport.objects.exists()
    assert client.get("/mon-espace/").status_code == 200


# --- While the service is closed -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_desk_answers_503_while_the_service_is_closed_but_its_login_stays_open(desk, client):
    f = family()
    receive(desk, f.holder)
    call_command("incident", "close", "--reason", "Accès croisés aux dossiers")
    before = Entry.objects.count()

    for method, path, data in [
        ("get", HOME, {}),
        ("post", HOME, {"query": f.holder.nir}),
        ("get", EXCHANGE, {}),
        ("post", OPEN, {"person": f.holder.pk, "identified_by": "desk_id"}),
        ("post", RESET_CODE, {"medium": "email"}),
        ("post", INVITATION, {}),
        ("post", ERROR_REPORT, {"topic": "name", "message": "x"}),
        ("get", "/guichet/equipe/", {}),
    ]:
        response = getattr(desk, method)(path, data)
        assert response.status_code == 503, (method, path)
        assert "Mon Compte est momentanément fermé" in page_text(response)

    assert Entry.objects.count() == before
    assert not OutboxMessage.objects.exists() and not CorrectionRequest.objects.exists()
    login = client.get(DESK_LOGIN)
    assert login.status_code == 200 and "Connexion des agents" in page_text(login)


# --- Limits on what one agent's session can go through -------------------------------------------------------------


@pytest.mark.django_db
def test_an_agent_s_searches_are_limited_per_hour_and_the_one_past_the_limit_is_an_alert(desk, settings):
    settings.DESK_SEARCHES_PER_HOUR = 3
    f = family()
    for _ in range(3):
        assert search(desk, f.case.case_number).status_code == 200

    refused = search(desk, f.case.case_number)

    assert refused.status_code == 400
    assert "Trop de recherches en une heure depuis votre compte" in " ".join(shown_errors(refused))
    assert f.holder.first_name not in page_text(refused)
    alert = Entry.objects.get(kind="desk.search_ceiling")
    assert (alert.actor_account_id, alert.channel) == (desk.agent.pk, "desk")
    search(desk, f.case.case_number)
    assert Entry.objects.filter(kind="desk.search_ceiling").count() == 1  # one alert, not one per refusal


@pytest.mark.django_db
def test_an_exchange_ends_by_itself_after_its_time(desk, settings):
    f = family()
    receive(desk, f.holder)
    session = desk.session
    session["desk_exchange"]["opened_at"] -= settings.DESK_EXCHANGE_MINUTES * 60 + 1
    session.save()

    response = desk.get(EXCHANGE)

    assert response["Location"] == HOME
    assert "desk_exchange" not in desk.session
    assert desk.post(RESET_CODE, {"medium": "email"})["Location"] == HOME
    assert not OutboxMessage.objects.filter(template="verification/desk_reset").exists()
