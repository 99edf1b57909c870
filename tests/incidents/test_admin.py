"""The admin's side of issue 12, items 1 and 2: the security team opens an incident, closes every channel from it
(an intermediate page asks for the reason) and reopens; an agent without the permission is not offered the actions."""

import pytest

from moncompte.accounts.models import Account
from moncompte.incidents.models import Closure, Incident, Step
from moncompte.journal.models import Entry
from tests.helpers import page_text
from tests.incidents.conftest import agent_client

CHANGELIST = "/admin/incidents/incident/"


def add(client, **fields):
    """The admin's « Ajouter » form of an incident, sent with these fields over a valid opening."""
    data = {
        "title": "Accès croisés",
        "description": "Des pages d'autres personnes ont été montrées.",
        "detected_at_0": "11/10/2021",
        "detected_at_1": "07:30:00",
        "window_start_0": "10/10/2021",
        "window_start_1": "21:00:00",
        "window_end_0": "11/10/2021",
        "window_end_1": "08:00:00",
        "status": "open",
        "consequences": "",
        "steps-TOTAL_FORMS": "0",
        "steps-INITIAL_FORMS": "0",
    }
    return client.post("/admin/incidents/incident/add/", {**data, **fields})


def action(client, name: str, incident: Incident, **data):
    return client.post(CHANGELIST, {"action": name, "_selected_action": [incident.pk], **data})


@pytest.mark.django_db
def test_the_security_team_opens_an_incident_in_the_admin(security_team):
    response = add(security_team, categories=["identity", "payments"])
    assert response.status_code == 302, page_text(response)
    incident = Incident.objects.get()
    assert incident.categories == ["identity", "payments"]
    assert list(incident.steps.values_list("kind", "actor")) == [(Step.Kind.OPENED, "equipe-securite")]
    assert Entry.objects.get(kind="incident.opened").actor_account_id == security_team.agent.pk


@pytest.mark.django_db
def test_a_window_that_ends_before_it_starts_is_refused_in_the_admin(security_team):
    response = add(
        security_team, window_start_0="11/10/2021", window_start_1="08:00:00", window_end_0="10/10/2021",
        window_end_1="21:00:00",
    )  # fmt: skip
    assert response.status_code == 200
    assert "La fin de la période concernée doit être après son début." in page_text(response)
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_the_close_action_asks_for_the_reason_then_closes_every_channel(security_team, incident, client):
    form = action(security_team, "close_service", incident)
    assert form.status_code == 200
    assert "Fermer tous les canaux" in page_text(form)
    assert not Closure.objects.exists()

    empty = action(security_team, "close_service", incident, apply="1", reason="")
    assert empty.status_code == 200 and not Closure.objects.exists()

    done = action(security_team, "close_service", incident, apply="1", reason="Pages croisées signalées")
    assert done.status_code == 302
    closure = Closure.objects.get()
    assert (closure.incident, closure.closed_by, closure.reason) == (
        incident,
        "equipe-securite",
        "Pages croisées signalées",
    )
    assert client.get("/connexion/").status_code == 503
    assert security_team.get(CHANGELIST).status_code == 200  # the admin stays open

    again = action(security_team, "close_service", incident, apply="1", reason="encore")
    assert Closure.objects.count() == 1
    assert "déjà fermé" in page_text(security_team.get(again["Location"]))

    action(security_team, "reopen_service", incident)
    assert client.get("/connexion/").status_code == 200
    assert [s.kind for s in incident.steps.all()][-2:] == [Step.Kind.CLOSED, Step.Kind.REOPENED]


@pytest.mark.django_db
def test_an_agent_outside_the_security_team_reaches_no_incident_even_with_its_permissions(incident, client):
    """The incident tooling is the security team's alone: permissions given one by one, a supervisor's role or a
    superuser's flag do not open it."""
    for login_id, roles, superuser in [("agent-accueil", (), False), ("chef", ("supervisor",), False),
                                       ("super", ("desk",), True)]:  # fmt: skip
        agent = agent_client(login_id, "view_incident", "change_incident", "close_service", roles=roles)
        if superuser:
            Account.objects.filter(login_id=login_id).update(is_superuser=True)
        assert agent.get(CHANGELIST).status_code == 403, login_id
        response = action(agent, "close_service", incident, apply="1", reason="essai")
        assert response.status_code == 403, login_id
        assert "Incidents" not in page_text(agent.get("/admin/")), login_id
    assert not Closure.objects.exists()
    assert client.get("/connexion/").status_code == 200


@pytest.mark.django_db
def test_dates_in_the_future_are_refused_beside_their_field(security_team):
    response = add(security_team, detected_at_0="01/01/2099")
    assert response.status_code == 200
    assert "Cette date ne peut pas être dans le futur." in page_text(response)
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_what_was_declared_at_opening_stays_as_it_was(security_team, incident):
    page = security_team.get(f"/admin/incidents/incident/{incident.pk}/change/")
    assert page.status_code == 200
    assert 'name="title"' not in page.content.decode() and 'name="window_end_0"' in page.content.decode()
