"""The registry of journal kinds: each app declares its kinds once; labels, history, alerts and undo follow it."""

import pytest

from moncompte.journal import kinds, services
from moncompte.journal.kinds import UnknownKind
from moncompte.journal.models import Entry, SecurityAlert
from moncompte.journal.services import record

pytestmark = pytest.mark.django_db


def test_recording_an_undeclared_kind_is_refused_and_writes_nothing():
    with pytest.raises(UnknownKind):
        record("nobody.declared_this")
    assert not Entry.objects.exists()


def test_an_undo_of_a_declared_kind_is_known_and_labelled_from_it():
    assert kinds.get("password.changed.undone") is kinds.get("password.changed")
    assert kinds.label(Entry(kind="password.changed.undone")) == "Annulation : Changement du mot de passe"


@pytest.mark.parametrize("name", sorted(kinds.declared()))
def test_a_kind_is_reversible_exactly_when_an_undo_handler_is_registered(name):
    assert kinds.get(name).reversible == services.is_reversible(name)


def test_every_undo_handler_is_for_a_declared_kind():
    assert set(services._undo_handlers) | set(services._undo_many_handlers) <= set(kinds.declared())


def test_a_kind_cannot_be_declared_twice_with_another_meaning():
    with pytest.raises(ValueError, match="declared twice"):
        kinds.declare("login.succeeded", "Autre chose", security=False)
    with pytest.raises(ValueError, match="derived"):
        kinds.declare("login.succeeded.undone", "Annulation")


def test_the_security_history_shows_the_declared_kinds_and_their_undo():
    names = kinds.security_names()
    assert {"login.succeeded", "password.changed", "password.changed.undone", "delegation.granted"} <= set(names)
    assert not {"code.sent", "case.imported", "invitation.sent"} & set(names)


def test_labels_may_depend_on_the_entry():
    assert kinds.label(Entry(kind="contact.validated", after={"medium": "sms"})) == "Validation du numéro de mobile"
    assert (
        kinds.label(Entry(kind="contact.validated", before={"email": "a@exemple.fr"}, after={"medium": "email"}))
        == "Changement de l'adresse e-mail"
    )
    assert kinds.label(Entry(kind="contact.validated")) == "Validation d'une coordonnée"


def test_reports_and_agents_actions_on_security_cannot_be_disowned():
    assert kinds.is_disownable(Entry(kind="login.succeeded"))
    assert not kinds.is_disownable(Entry(kind="security.reported"))
    assert not kinds.is_disownable(Entry(kind="password.changed.undone"))


def test_alerts_are_the_kinds_declared_as_alerts():
    record("alert.code_ceiling")
    record("security.code_budget_spent", person_id=1)
    record("login.failed", person_id=1)
    assert sorted(SecurityAlert.objects.values_list("kind", flat=True)) == [
        "alert.code_ceiling",
        "security.code_budget_spent",
    ]
