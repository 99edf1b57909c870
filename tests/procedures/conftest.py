import pytest

from tests.factories import family


@pytest.fixture(autouse=True)
def _media(media):
    return media


@pytest.fixture
def delegated(db):
    """A holder and a partner who holds the delegation."""
    return family(delegated=True)
