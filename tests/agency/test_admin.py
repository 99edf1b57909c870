"""Agents read the answers in the admin, read-only, and download their files; a citizen's account (not staff) and an
agent without the view permission cannot."""

from datetime import date

import pytest
from django.core.files.storage import default_storage

from moncompte.agency.services import answer_send
from moncompte.partners.connectors import AgencyRequest
from tests.agents import agent_client, agent_make
from tests.procedures.helpers import image_bytes, upload


@pytest.fixture
def answer(delegated):
    request = AgencyRequest(
        id="D-ADMIN-1",
        asked_on=date(2026, 11, 2),
        subject="Justificatif de domicile",
        text="Un justificatif.",
        expects="document",
        due_on=None,
    )
    return answer_send(
        case=delegated.case,
        request=request,
        author=delegated.holder,
        text="Ci-joint ma quittance.",
        uploads=[upload("quittance.pdf", image_bytes("PNG"))],
    )


def document_url(answer) -> str:
    return f"/admin/agency/agencyanswer/{answer.pk}/pieces/{answer.documents.get().pk}/"


def test_an_agent_reads_the_answer_and_downloads_its_file_as_an_attachment(client, answer):
    agent_client(agent_make("agent", superuser=True), client)

    listing = client.get("/admin/agency/agencyanswer/")
    page = client.get(f"/admin/agency/agencyanswer/{answer.pk}/change/")
    response = client.get(document_url(answer))

    assert listing.status_code == 200 and "Justificatif de domicile" in listing.content.decode()
    assert page.status_code == 200 and "Ci-joint ma quittance." in page.content.decode()
    assert document_url(answer) in page.content.decode()
    assert 'name="text"' not in page.content.decode()  # read-only
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert (
        response["Content-Disposition"].startswith("attachment;")
        and "quittance.pdf" in response["Content-Disposition"]
    )
    content = b"".join(response.streaming_content)
    with default_storage.open(answer.documents.get().file.name) as kept:
        assert content == kept.read()
    # Closing the response fires request_finished, which closes the database connection on PostgreSQL: last.
    response.close()


def test_the_admin_cannot_add_change_or_delete_an_answer(client, answer):
    agent_client(agent_make("agent", superuser=True), client)

    assert client.get("/admin/agency/agencyanswer/add/").status_code == 403
    assert client.post(f"/admin/agency/agencyanswer/{answer.pk}/delete/").status_code == 403


def test_a_citizen_or_an_agent_without_the_permission_cannot_download(client, answer, delegated):
    client.force_login(delegated.holder_account)
    assert client.get(document_url(answer)).status_code == 302  # to the admin's login page

    agent_client(agent_make("agent-sans-droit"), client)
    assert client.get(document_url(answer)).status_code == 403


def test_a_file_of_another_answer_is_not_found(client, answer):
    agent_client(agent_make("agent", superuser=True), client)

    assert (
        client.get(f"/admin/agency/agencyanswer/{answer.pk + 1}/pieces/{answer.documents.get().pk}/").status_code
        == 404
    )
