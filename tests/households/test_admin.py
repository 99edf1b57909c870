import pytest

from moncompte.accounts.models import Account
from tests.factories import MembershipFactory


@pytest.mark.django_db
def test_agents_see_cases_people_and_import_runs_in_the_admin_without_pin_or_full_nir(client):
    membership = MembershipFactory()
    agent = Account.objects.create_superuser("agent", "Ag3nt-Secret!")
    client.force_login(agent)
    for url in [
        "/admin/households/importrun/",
        "/admin/households/case/",
        f"/admin/households/case/{membership.case.pk}/change/",
        f"/admin/identity/person/{membership.person.pk}/change/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert membership.person.nir not in body
        assert "argon2" not in body
