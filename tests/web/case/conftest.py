import pytest
from django.test import Client

from tests.agency.helpers import case_records

NIR_BACKEND = "moncompte.accounts.authentication.NirBackend"


@pytest.fixture(autouse=True)
def _media(media):
    return media


@pytest.fixture
def caf(partners, delegated, limited):
    """The partner simulator's case system knows both households."""
    partners.push(case_records(delegated.case.case_number))
    partners.push(case_records(limited.case.case_number))
    return partners


@pytest.fixture
def as_(db):
    """`as_(account)`: a browser signed in as that account."""

    def signed_in(account) -> Client:
        client = Client(HTTP_HOST="localhost")
        client.force_login(account, backend=NIR_BACKEND)
        return client

    return signed_in
