"""The menu of an identified caller, through the signed webhooks: payments, letters and requests read from the case
system (the partner simulator), an agent, a delegation withdrawn during the call, and the looks it records."""

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone

from moncompte.agency.models import AgencyAnswer
from moncompte.households.delegation import delegation_revoke
from moncompte.journal import context
from moncompte.journal.models import Entry, Read
from moncompte.phone.models import Call
from moncompte.phone.simulator import transcript
from tests.agency.helpers import FAMILY, HOUSING, REQUEST_SUBJECTS, case_records, ids
from tests.factories import family
from tests.phone.conftest import STRANGER
from tests.phone.helpers import heard, identify, spoken_day

pytestmark = pytest.mark.django_db

MENU = "Pour vos derniers paiements, tapez 1."
UNAVAILABLE = "Ces informations ne sont pas disponibles pour le moment. Veuillez réessayer plus tard."
TRANSCRIPT = Path("/tmp/phone-transcript.txt")


def records(partners, household, **options) -> dict:
    """The case records of `case_records` pushed to the simulator; returned, to know what the Caf says."""
    pushed = case_records(household.case.case_number, **options)
    partners.push(pushed)
    return pushed["cases"][household.case.case_number]


def payment_lines(record: dict) -> list[str]:
    """What the caller should hear of each payment of the last 24 months, newest first (the old one is not said)."""
    cutoff = timezone.localdate() - datetime.timedelta(days=731)  # case_records' old payment is 40 days before
    lines = []
    for payment in sorted(record["paiements"], key=lambda p: p["date"], reverse=True):
        paid_on = datetime.date.fromisoformat(payment["date"])
        if paid_on < cutoff:
            continue
        euros, cents = payment["montant"].split(".")
        lines.append(f"Le {spoken_day(paid_on)}, {euros} euros et {int(cents)} centimes, {payment['prestation']}.")
    return lines


def test_the_holder_hears_the_payments_with_amounts_and_dates_as_spoken(phone, household, partners):
    record = records(partners, household)
    call = phone()
    assert MENU in identify(call, household).text

    turn = call.press("1")

    assert turn.said[0] == "Vos derniers paiements :"
    assert turn.said[1:4] == payment_lines(record)
    assert "245 euros et 30 centimes" in turn.said[1] and "1151 euros et 23 centimes" in turn.said[2]
    assert "199 euros" not in turn.text  # older than 24 months: never said
    assert MENU in turn.text and turn.gather_action  # the menu again, for another choice


def test_the_holder_hears_the_letters_and_where_to_read_them(phone, household, partners):
    record = records(partners, household)
    call = phone()
    identify(call, household)

    turn = call.press("2")

    letter = record["courriers"][0]
    day = spoken_day(datetime.date.fromisoformat(letter["date"]))
    assert turn.said[:3] == [
        "Vos derniers courriers :",
        f"Le {day} : Attestation de paiement.",
        "Vous pouvez les lire dans votre espace sur localhost, rubrique Mes courriers.",
    ]


def test_the_holder_hears_the_requests_awaiting_an_answer_with_their_due_dates(phone, household, partners):
    records(partners, household)
    call = phone()
    identify(call, household)

    turn = call.press("3")

    today = timezone.localdate()
    assert turn.said[:5] == [
        "3 demandes de la Caf attendent votre réponse :",
        f"{REQUEST_SUBJECTS['document']}, à envoyer avant le {spoken_day(today + datetime.timedelta(days=27))}.",
        f"{REQUEST_SUBJECTS['texte']}.",
        f"{REQUEST_SUBJECTS['les_deux']}, à envoyer avant le {spoken_day(today + datetime.timedelta(days=22))}.",
        "Vous pouvez y répondre dans votre espace sur localhost.",
    ]


def test_a_request_answered_on_the_site_is_no_longer_read_out(phone, household, partners):
    records(partners, household)
    key = ids(household.case.case_number)
    for request_id, subject in ((key.document, "document"), (key.both, "les_deux")):
        AgencyAnswer.objects.create(
            case=household.case,
            request_id=request_id,
            request_subject=REQUEST_SUBJECTS[subject],
            request_asked_on=timezone.localdate(),
            author=household.holder,
            text="Envoyé.",
            answered_at=timezone.now(),
        )
    call = phone()
    identify(call, household)

    turn = call.press("3")

    assert turn.said[:2] == ["Une demande de la Caf attend votre réponse :", f"{REQUEST_SUBJECTS['texte']}."]
    assert REQUEST_SUBJECTS["document"] not in turn.text and REQUEST_SUBJECTS["les_deux"] not in turn.text


def test_only_the_last_three_payments_are_read_out(phone, household, partners):
    record = case_records(household.case.case_number)
    case = record["cases"][household.case.case_number]
    case["paiements"].insert(0, {**case["paiements"][0], "prestation": FAMILY, "montant": "12.00"})
    partners.push(record)
    call = phone()
    identify(call, household)

    turn = call.press("1")

    amounts = [line for line in turn.said if line.startswith("Le ")]
    assert len(amounts) == 3
    assert "12 euros, Allocations familiales." in turn.text  # no « et 0 centimes »
    assert "239 euros" not in turn.text  # the fourth newest


def test_an_empty_case_is_told_so_for_each_choice(phone, household, partners):
    partners.push({"cases": {household.case.case_number: {"paiements": [], "courriers": [], "demandes": []}}})
    call = phone()
    identify(call, household)

    assert "Aucun paiement n'a été fait sur votre dossier ces 24 derniers mois." in call.press("1").text
    assert "La Caf ne vous a envoyé aucun courrier." in call.press("2").text
    assert "Aucune demande de la Caf n'attend votre réponse." in call.press("3").text


def test_a_delegated_partner_hears_the_case_as_the_holder_does(phone, delegated_household, partners):
    household = delegated_household
    record = records(partners, household)
    call = phone()
    turn = identify(call, household, who="partner")
    assert f"Merci, {household.partner.first_name}." in turn.text and MENU in turn.text

    payments, letters, requests = call.press("1"), call.press("2"), call.press("3")

    assert payments.said[1:4] == payment_lines(record)
    assert "Attestation de paiement." in letters.text
    assert "3 demandes de la Caf attendent votre réponse :" in requests.text
    read = Read.objects.get()
    assert (read.viewer_account_id, read.case_number, read.channel) == (
        household.partner_account.pk,
        household.case.case_number,
        "phone",
    )


def test_a_delegated_partner_without_an_account_hears_the_case_and_no_look_is_kept(phone, partners):
    """A look is kept by account (docs/phone.md): without one, there is nobody to record."""
    household = family(delegated=True, partner_account=False)
    household.partner.birth_date = datetime.date(1990, 3, 8)
    household.partner.save()
    records(partners, household)
    call = phone()
    identify(call, household, who="partner")

    assert "245 euros et 30 centimes" in call.press("1").text
    assert not Read.objects.exists()
    assert Entry.objects.get(kind="phone.identified").person_id == household.partner.pk


def test_when_the_case_system_is_down_the_caller_is_told_it_is_not_available(phone, household, partners):
    records(partners, household)
    partners.mode("case_system", "down")
    call = phone()
    identify(call, household)

    for choice in "123":
        turn = call.press(choice)
        assert turn.said[0] == UNAVAILABLE
        assert MENU in turn.text and not turn.hung_up  # the call goes on
    assert "euros" not in heard(call)
    assert partners.requests()["caf"] >= 3  # it was asked, and did not answer


def test_the_holders_look_at_the_case_is_recorded_with_the_phone_channel(phone, household, partners):
    records(partners, household)
    call = phone()
    identify(call, household)
    assert not Read.objects.exists()  # identified, nothing read out yet

    call.press("1")
    call.press("2")

    read = Read.objects.get()  # one look per session, case and hour
    assert (read.viewer_account_id, read.case_number, read.channel, read.session_ref) == (
        household.holder_account.pk,
        household.case.case_number,
        "phone",
        context.session_ref(call.sid),
    )


def test_9_transfers_the_call_to_an_agent_and_is_journaled(phone, household, settings):
    call = phone()
    identify(call, household)

    turn = call.press("9")

    assert turn.dialled == settings.PHONE_AGENT_NUMBER == "+33199000000"
    assert "Nous vous mettons en relation avec un conseiller. Merci de patienter." in turn.text
    entry = Entry.objects.get(kind="phone.transferred")
    assert (entry.person_id, entry.case_number, entry.channel, entry.caller) == (
        household.holder.pk,
        household.case.case_number,
        "phone",
        STRANGER,
    )
    assert Call.objects.get().ended_at is not None


def test_without_an_agent_number_the_caller_is_told_no_agent_is_reachable(phone, household, settings):
    call = phone()
    identify(call, household)
    settings.PHONE_AGENT_NUMBER = ""

    turn = call.press("9")

    assert "Aucun conseiller n'est joignable sur cette ligne pour le moment." in turn.text
    assert turn.hung_up and not turn.dialled
    assert not Entry.objects.filter(kind="phone.transferred").exists()


def test_a_delegation_revoked_during_the_call_takes_effect_at_the_next_choice(phone, delegated_household, partners):
    household = delegated_household
    records(partners, household)
    call = phone()
    identify(call, household, who="partner")
    assert "245 euros et 30 centimes" in call.press("1").text

    delegation_revoke(case=household.case, holder=household.holder)
    turn = call.press("2")

    assert "Vous êtes identifié comme conjoint de l'allocataire du dossier." in turn.text
    assert "Sans délégation de l'allocataire" in turn.text
    assert "Attestation de paiement" not in turn.text
    asked = partners.requests()["caf"]
    press = call.press("1")  # a menu key is no choice any more
    assert "Je n'ai pas compris votre choix." in press.text and "euros" not in press.text
    assert partners.requests()["caf"] == asked  # the case system is not even asked


def test_a_whole_call_of_the_holder_reads_as_a_conversation(phone, household, partners):
    """Identification, payments, letters, then the caller hangs up. With PHONE_TRANSCRIPT set, the transcript is
    saved to /tmp/phone-transcript.txt (for the documentation and for review)."""
    records(partners, household)
    call = phone()
    identify(call, household)
    call.press("1")
    call.press("2")

    text = transcript(call.history)

    order = [
        "Serveur vocal : Bienvenue sur le serveur vocal de la Caf.",
        "[touches] 1",
        f"[touches] {household.case.case_number}",
        "[touches] ********",
        f"Serveur vocal : Merci, {household.holder.first_name}.",
        "Serveur vocal : Vos derniers paiements :",
        "Aide personnalisée au logement.",
        "Serveur vocal : Vos derniers courriers :",
        "rubrique Mes courriers.",
    ]
    text = text.replace(f"[touches] {household.case.pin}", "[touches] ********")  # the PIN stays out of the file
    positions = [text.find(line) for line in order]
    assert -1 not in positions and positions == sorted(positions), text
    assert household.case.pin not in text
    assert HOUSING in text
    if os.environ.get("PHONE_TRANSCRIPT"):
        TRANSCRIPT.write_text(f"Appel de l'allocataire au serveur vocal\n\n{text}\n  (l'appelant raccroche)\n")
