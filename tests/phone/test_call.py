"""Whole calls through the signed webhooks (issue 13, item 1): identification, each menu entry, the timeout path."""

import pytest

from moncompte.journal.models import Entry
from moncompte.phone.models import Call
from tests.phone.conftest import STRANGER, keys
from tests.phone.helpers import identify

pytestmark = pytest.mark.django_db


def test_the_holder_is_identified_and_hears_the_menu(phone, household):
    call = phone()
    turn = call.dial()
    assert "Bienvenue sur le serveur vocal de la Caf." in turn.text
    assert turn.gather_digits == 1
    assert "numéro allocataire" in call.press("1").text
    assert "mot de passe du serveur vocal, à 8 chiffres" in call.press(household.case.case_number).text
    assert "date de naissance" in call.press(household.case.pin).text
    turn = call.press(keys(household.holder.birth_date))
    assert f"Merci, {household.holder.first_name}." in turn.text
    assert "Pour vos derniers paiements, tapez 1." in turn.text
    entry = Entry.objects.get(kind="phone.identified")
    assert (entry.person_id, entry.case_number, entry.channel, entry.caller) == (
        household.holder.pk,
        household.case.case_number,
        "phone",
        STRANGER,
    )


def test_the_repeat_key_says_the_prompt_again(phone, household):
    call = phone()
    first = call.dial()
    again = call.press("*")
    assert again.gather_action.split("?")[0] == first.gather_action.split("?")[0]  # the same step
    assert again.gather_action != first.gather_action  # with a new token: a replay of the first finds it moved
    assert "Pour obtenir des renseignements sur votre dossier, tapez 1." in again.text


def test_silence_asks_again_once_then_the_call_ends(phone, household):
    call = phone()
    call.dial()
    turn = call.wait()
    assert "Je n'ai pas reçu de réponse." in turn.text and not turn.hung_up
    turn = call.wait()
    assert turn.hung_up and "Nous n'avons pas reçu de réponse." in turn.text
    assert Call.objects.get().ended_at is not None


def test_the_partner_without_delegation_is_told_why_not(phone, household):
    turn = identify(phone(), household, who="partner")
    assert "Sans délégation de l'allocataire" in turn.text
    assert "Pour vos derniers paiements" not in turn.text
