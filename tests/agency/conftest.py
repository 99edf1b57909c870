import pytest

from tests.factories import AccountFactory, family


@pytest.fixture(autouse=True)
def _media(media):
    return media


@pytest.fixture
def delegated(db):
    """A household whose partner holds the delegation; the child of 16 has an account too."""
    f = family(delegated=True)
    f.child = f.children[0]
    f.child_account = AccountFactory(person=f.child)
    return f


@pytest.fixture
def limited(db):
    """A household whose partner has an account but no delegation."""
    return family()
