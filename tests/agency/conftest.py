import pytest


@pytest.fixture(autouse=True)
def _media(media):
    return media
