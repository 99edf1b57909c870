"""`manage.py franceconnect_standin`: the local FranceConnect of `make run` has identities that match the demo data
the way the issue says (one linked, one member without an account, one nobody)."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from moncompte.accounts.models import Account
from moncompte.franceconnect.management.commands.franceconnect_standin import sub_of
from moncompte.franceconnect.services import Arrival, arrival
from moncompte.legacy.demo import build_demo_cases, write_demo_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def standin(settings, tmp_path):
    settings.DEBUG = True
    settings.FRANCECONNECT_ISSUER = "http://127.0.0.1:9311"
    settings.FRANCECONNECT_CLIENT_ID = "moncompte-dev"
    settings.FRANCECONNECT_CLIENT_SECRET = "s" * 43
    call_command(
        "import_legacy", str(write_demo_csv(build_demo_cases(), tmp_path / "demo.csv")), workers=1, stdout=StringIO()
    )
    return tmp_path / "standin.json"


def test_its_identities_lead_where_the_demo_says(standin):
    out = StringIO()
    call_command("franceconnect_standin", str(standin), stdout=out)
    config = json.loads(standin.read_text())
    assert config["client"]["redirect_uris"] == ["http://localhost/franceconnect/retour/"]
    assert config["client"]["post_logout_redirect_uris"] == ["http://localhost/franceconnect/deconnexion/"]
    identities = config["identities"]
    outcomes = {login: arrival(sub=sub_of(login), claims=claims).arrival for login, claims in identities.items()}
    assert outcomes == {"isabelle": Arrival.LOGIN, "lea": Arrival.CREATE, "pierre": Arrival.NO_MATCH}
    assert "Isabelle Moreau" in out.getvalue() and "Léa Martin" in out.getvalue()


def test_running_it_again_links_nothing_twice(standin):
    call_command("franceconnect_standin", str(standin), stdout=StringIO())
    call_command("franceconnect_standin", str(standin), stdout=StringIO())
    assert Account.objects.filter(franceconnect_link__isnull=False).count() == 1


def test_it_refuses_to_run_outside_development(standin, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="développement"):
        call_command("franceconnect_standin", str(standin), stdout=StringIO())
