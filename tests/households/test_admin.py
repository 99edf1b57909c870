import pytest

from tests.agents import agent_client, agent_make
from tests.factories import MembershipFactory


@pytest.mark.django_db
def test_agents_see_cases_people_and_import_runs_in_the_admin_without_pin_or_full_nir(client):
    membership = MembershipFactory()
    agent = agent_make("agent", superuser=True)
    agent_client(agent, client)
    for url in [
        "/admin/legacy/importrun/",
        "/admin/households/case/",
        f"/admin/households/case/{membership.case.pk}/change/",
        f"/admin/identity/person/{membership.person.pk}/change/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert membership.person.nir not in body
        assert "argon2" not in body


@pytest.mark.django_db
def test_an_agent_s_correction_of_a_person_is_journaled_and_can_be_undone(client):
    from moncompte.journal.models import Entry
    from moncompte.journal.services import undo

    person = MembershipFactory(person__birth_name="Dupond").person
    agent = agent_make("agent", superuser=True)
    agent_client(agent, client)
    url = f"/admin/identity/person/{person.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and person.nir not in page.content.decode()
    data = {
        "birth_name": "Dupont",
        "usage_name": "",
        "given_names": person.given_names,
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
        "birthplace": person.birthplace,
        "birth_country": person.birth_country,
        "email_on_file": person.email_on_file,
        "mobile_on_file": person.mobile_on_file,
    }
    assert client.post(url, data).status_code == 302

    person.refresh_from_db()
    entry = Entry.objects.get(kind="person.corrected", person_id=person.pk)
    assert person.birth_name == "Dupont"
    assert entry.before == {"birth_name": "Dupond"} and entry.after == {"birth_name": "Dupont"}
    assert entry.actor_account_id == agent.pk
    undo(entry)
    person.refresh_from_db()
    assert person.birth_name == "Dupond"
