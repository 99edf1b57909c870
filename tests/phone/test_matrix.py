"""Who hears what on the voice server: each kind of caller, played as a whole call through the signed webhooks.

After identification (or where it stops) the caller types 1, 2 and 3, the menu's choices: only the holder and a
delegated partner hear the case, and where the policy refuses nothing of it is said, nobody else's name either, and
the case system is not even asked."""

import datetime

import pytest
from django.utils import timezone

from moncompte.incidents.services import service_close
from moncompte.journal.models import Entry, Read
from tests.agency.helpers import FAMILY, HOUSING, REQUEST_SUBJECTS, case_records
from tests.phone.conftest import keys
from tests.phone.helpers import WRONG_PIN, heard, identify, other_pin, press_all

pytestmark = pytest.mark.django_db

MENU = "Pour vos derniers paiements, tapez 1."
LIMITED = (
    "Sans délégation de l'allocataire, le serveur vocal ne peut pas vous donner de renseignements sur le dossier."
)
SUNSET = "ne permettent plus de vous identifier par téléphone."
CLOSED = "Le service de la Caf est momentanément fermé pour maintenance"

#: caller: (who types their birth date, what they hear where identification ends, whether the case is read out)
MATRIX = {
    "holder": ("holder", MENU, True),
    "delegated partner": ("partner", MENU, True),
    "partner without delegation": ("partner", LIMITED, False),
    "wrong PIN": ("holder", WRONG_PIN, False),
    "after the sunset": ("holder", SUNSET, False),
    "service closed": ("holder", CLOSED, False),
}


CASE_PIECES = [
    "euros",
    HOUSING,
    FAMILY,
    "Vos derniers courriers",
    "Attestation de paiement",
    "attendent votre réponse",
    *REQUEST_SUBJECTS.values(),
]


def the_case_said(text: str) -> list[str]:
    """The pieces of the case's records (case_records) found in `text`."""
    return [piece for piece in CASE_PIECES if piece in text]


@pytest.fixture
def world(household, delegated_household, partners):
    """Both households, their records in the case system."""
    for h in (household, delegated_household):
        partners.push(case_records(h.case.case_number))
    return {"household": household, "delegated": delegated_household}


def play(caller: str, phone, world, settings):
    """The call of `caller` up to where identification ends: the call and what it heard then."""
    household = world["delegated"] if caller == "delegated partner" else world["household"]
    who = MATRIX[caller][0]
    if caller == "after the sunset":
        settings.PHONE_PIN_SUNSET = timezone.localdate() - datetime.timedelta(days=1)
    if caller == "service closed":
        service_close(reason="Maintenance", actor="sécurité")
    call = phone()
    pin = other_pin(household.case.pin) if caller == "wrong PIN" else None
    if caller in ("after the sunset", "service closed"):
        turn = call.dial()
    elif caller == "wrong PIN":
        call.dial()
        call.press("1")
        call.press(household.case.case_number)
        turn = call.press(pin)
    else:
        turn = identify(call, household, who=who, pin=pin)
    return household, call, turn


@pytest.mark.parametrize("caller", MATRIX)
def test_each_caller_hears_what_the_policy_lets_them_hear(caller, phone, world, partners, settings):
    household, call, turn = play(caller, phone, world, settings)
    _, expected, told = MATRIX[caller]
    assert expected in turn.text

    press_all(call, "1", "2", "3")

    text = heard(call)
    if told:
        assert the_case_said(text) == CASE_PIECES
        assert "245 euros et 30 centimes" in text and "Attestation de paiement" in text
        assert "3 demandes de la Caf attendent votre réponse" in text
        assert partners.requests()["caf"] >= 3  # asked for each choice (a slow answer is asked again)
        assert Read.objects.filter(case_number=household.case.case_number, channel="phone").exists()
    else:
        assert the_case_said(text) == [], text
        assert MENU not in text
        assert partners.requests()["caf"] == 0  # refused before the case system is asked
        assert not Read.objects.exists()


@pytest.mark.parametrize("caller", MATRIX)
def test_nobody_hears_the_name_of_another_member(caller, phone, world, settings):
    household, call, _ = play(caller, phone, world, settings)
    press_all(call, "1", "2", "3")

    text = heard(call)
    others = {"holder": [household.partner], "partner": [household.holder]}[MATRIX[caller][0]] + household.children
    for person in others:
        assert person.first_name not in text and person.last_name not in text
    identified = Entry.objects.filter(kind="phone.identified").values_list("person_id", flat=True)
    if caller in ("wrong PIN", "after the sunset", "service closed"):
        assert not identified
    else:
        assert list(identified) == [getattr(household, MATRIX[caller][0]).pk]


def test_holder_and_partner_born_the_same_day_are_taken_for_the_one_told_less(phone, limited, partners):
    """The shared PIN cannot tell them apart: the caller is the partner without delegation."""
    assert limited.holder.birth_date == limited.partner.birth_date  # family()'s default
    partners.push(case_records(limited.case.case_number))
    call = phone()

    turn = identify(call, limited, who="holder")
    press_all(call, "1", "2", "3")

    assert f"Merci, {limited.partner.first_name}." in turn.text and LIMITED in turn.text
    assert the_case_said(heard(call)) == []
    assert Entry.objects.get(kind="phone.identified").person_id == limited.partner.pk


def test_a_child_of_the_household_is_not_identified_by_their_birth_date(phone, household, partners):
    partners.push(case_records(household.case.case_number))
    call = phone()
    child = household.children[0]

    call.dial()
    call.press("1")
    call.press(household.case.case_number)
    call.press(household.case.pin)
    turn = call.press(keys(child.birth_date))

    assert "n'est ni celle de l'allocataire du dossier, ni celle de son conjoint" in turn.text
    assert not Entry.objects.filter(kind="phone.identified").exists()
    assert partners.requests()["caf"] == 0
