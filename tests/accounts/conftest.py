import pytest

from moncompte.web.account import views


@pytest.fixture(autouse=True)
def _no_minimum_duration(monkeypatch):
    """The reset pages wait RESET_MIN_DURATION to answer alike for known and unknown NIRs; the test that checks it
    sets it back, the others skip the wait."""
    monkeypatch.setattr(views, "RESET_MIN_DURATION", 0)
