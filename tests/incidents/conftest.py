import datetime

import pytest
from django.test import Client
from django.utils import timezone

from moncompte.households import delegation as delegations
from moncompte.incidents import services
from moncompte.journal.context import acting
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from tests.agents import agent_client as signed_in_agent
from tests.agents import agent_make
from tests.factories import family
from tests.incidents.helpers import entry_at, in_the_window
from tests.incidents.processes import environment_for

#: 10 October 2021 at 21:00, Paris time: the window of the seed's incident.
OCTOBER_10 = timezone.make_aware(datetime.datetime(2021, 10, 10, 21, 0))
HOUR = datetime.timedelta(hours=1)


def agent_client(login_id: str, *codenames: str, roles: tuple[str, ...] = ()) -> Client:
    """An agent in the admin with these incidents permissions (or roles), second factor proven."""
    agent = agent_make(login_id, roles=roles, permissions=tuple(f"incidents.{codename}" for codename in codenames))
    return signed_in_agent(agent)


@pytest.fixture
def environment(tmp_path, transactional_db) -> dict[str, str]:
    """The environment of real processes (gunicorn, manage.py) on the test's database (tests.incidents.processes)."""
    return environment_for(tmp_path)


@pytest.fixture
def security_team(db) -> Client:
    """An agent of the security team in the admin: incidents, and closing the service."""
    return agent_client("equipe-securite", roles=("security",))


@pytest.fixture
def incident(db):
    return services.incident_open(
        title="Accès croisés aux dossiers",
        description="Des personnes connectées ont pu voir le dossier d'autres allocataires.",
        detected_at=OCTOBER_10 + datetime.timedelta(hours=10),
        window_start=OCTOBER_10,
        window_end=OCTOBER_10 + datetime.timedelta(hours=11),
        categories=["identity", "payments"],
        actor="test",
    )


@pytest.fixture
def night(db):
    """During the window: the Aubert holder signs in, grants the delegation (the partner is told by e-mail), then
    resets her password (no automatic undo); the Barre holder, whose password dates from September, grants hers."""
    aubert, barre = family(), family()
    entry_at(OCTOBER_10 - 30 * 24 * HOUR, "password.created", actor=barre.holder_account, person=barre.holder)
    entry_at(OCTOBER_10 + HOUR, "login.succeeded", actor=aubert.holder_account, person=aubert.holder)
    for f, at in ((aubert, OCTOBER_10 + 2 * HOUR), (barre, OCTOBER_10 + 3 * HOUR)):
        with acting(actor_account_id=f.holder_account.pk):
            delegations.delegation_grant(case=f.case, holder=f.holder, partner=f.partner)
        in_the_window(Entry.objects.filter(kind="delegation.granted").latest("id"), at)
    OutboxMessage.objects.update(created_at=OCTOBER_10 + 2 * HOUR)
    entry_at(OCTOBER_10 + 4 * HOUR, "password.reset", actor=aubert.holder_account, person=aubert.holder)
    return aubert, barre
