import datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from moncompte.accounts.models import Account
from moncompte.incidents import services

STAFF_BACKEND = "moncompte.accounts.authentication.StaffBackend"
#: 10 October 2021 at 21:00, Paris time: the window of the seed's incident.
OCTOBER_10 = timezone.make_aware(datetime.datetime(2021, 10, 10, 21, 0))


def agent_client(login_id: str, *codenames: str) -> Client:
    agent = Account.objects.create_user(login_id, "Ag3nt-Secret-Caf!", is_staff=True)
    agent.user_permissions.set(Permission.objects.filter(content_type__app_label="incidents", codename__in=codenames))
    client = Client(HTTP_HOST="localhost")
    client.force_login(agent, backend=STAFF_BACKEND)
    client.agent = agent
    return client


@pytest.fixture
def security_team(db) -> Client:
    """An agent of the security team in the admin: incidents, and closing the service."""
    return agent_client("equipe-securite", "view_incident", "add_incident", "change_incident", "close_service")


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
