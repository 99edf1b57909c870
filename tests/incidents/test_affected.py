"""Issue 12, item 4: who an incident concerns. People whose data an account outside their household displayed in
the window, and people who acted in it, are concerned; a household's own looks and agents' looks are counted apart;
people whose password was set before the window's start (and not within it) are left out."""

import datetime

import pytest
from django.core.management import call_command

from moncompte.accounts.models import Account
from moncompte.incidents.affected import affected
from moncompte.incidents.models import Step
from tests.factories import family
from tests.incidents.conftest import OCTOBER_10
from tests.incidents.helpers import entry_at, look_at

HOUR = datetime.timedelta(hours=1)
START, END = OCTOBER_10, OCTOBER_10 + 11 * HOUR


@pytest.fixture
def scene(db):
    """Five households. During the window the Aubert holder's session shows the Barre case (a foreign page) and her
    own household; an agent opens the Caron case; the Dumas holder, who chose her password in September, has her
    case shown to Aubert too; the Fabre holder signs in. Before the window, Aubert looked at the Caron case."""
    aubert, barre, caron, dumas, fabre = (family(children=0) for _ in range(5))
    agent = Account.objects.create_user("agent-accueil", "Ag3nt-Secret-Caf!", is_staff=True)
    entry_at(START - 30 * 24 * HOUR, "password.created", actor=dumas.holder_account, person=dumas.holder)
    entry_at(START - 30 * 24 * HOUR, "password.created", actor=fabre.holder_account, person=fabre.holder)
    entry_at(START + 2 * HOUR, "password.changed", actor=fabre.holder_account, person=fabre.holder)

    look_at(START + HOUR, aubert.holder_account, case=barre.case)
    look_at(START + HOUR, aubert.holder_account, case=aubert.case)
    look_at(START + 3 * HOUR, aubert.holder_account, case=dumas.case)
    look_at(START + 4 * HOUR, agent, case=caron.case)
    look_at(START - HOUR, aubert.holder_account, case=caron.case)  # before the window
    entry_at(START + HOUR, "login.succeeded", actor=aubert.holder_account, person=aubert.holder)
    entry_at(START + 5 * HOUR, "login.succeeded", actor=fabre.holder_account, person=fabre.holder)
    entry_at(END + HOUR, "login.succeeded", actor=caron.holder_account, person=caron.holder)  # after it
    return aubert, barre, caron, dumas, fabre


def test_each_person_lands_in_the_right_category(scene):
    aubert, barre, caron, dumas, fabre = scene
    result = affected(START, END)

    assert result.outside == {barre.holder.pk, barre.partner.pk, dumas.holder.pk, dumas.partner.pk}
    assert result.household == {aubert.partner.pk}
    assert result.agents == {caron.holder.pk, caron.partner.pk}
    assert result.acted == {aubert.holder.pk, fabre.holder.pk}
    assert result.excluded == {dumas.holder.pk}  # Fabre changed hers within the window: still concerned
    assert result.concerned == {barre.holder.pk, barre.partner.pk, dumas.partner.pk, aubert.holder.pk, fabre.holder.pk}


def test_the_counts_by_category(scene):
    assert affected(START, END).counts() == {
        "looks": 4,
        "actions": 3,
        "read_outside_household": 3,
        "read_in_household_only": 1,
        "read_by_agents_only": 2,
        "acted": 2,
        "excluded_password_before": 1,
        "concerned": 5,
    }


def test_an_empty_window_concerns_nobody(scene):
    result = affected(END + 2 * HOUR, END + 3 * HOUR)
    assert result.concerned == set() and result.counts()["looks"] == 0


def test_the_command_shows_the_counts_before_acting_and_puts_them_on_the_timeline(scene, incident, capsys):
    call_command("incident", "affected", str(incident.pk))
    out = capsys.readouterr().out
    assert "Personnes dont les données ont été affichées à un compte extérieur à leur foyer : 3" in out
    assert "Personnes écartées : mot de passe choisi avant le début de la période : 1" in out
    assert "Personnes concernées : 5" in out
    step = incident.steps.get(kind=Step.Kind.COUNTED)
    assert step.figures["concerned"] == 5
