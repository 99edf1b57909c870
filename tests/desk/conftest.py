"""Fixtures of the desk's tests (moncompte/desk): agents of each role, and a client signed in as the desk's login
leaves them (password, then the second factor). The helpers are in `tests/agents.py`."""

import pytest

from tests.agents import agent_client, agent_make


@pytest.fixture
def desk_agent(db):
    """An agent of the « Accueil et téléphone » role, with a confirmed TOTP device."""
    return agent_make("accueil-lyon", roles=("desk",))


@pytest.fixture
def desk(desk_agent):
    """A client signed in as `desk_agent`, second factor proven."""
    return agent_client(desk_agent)


@pytest.fixture
def supervisor(db):
    return agent_make("superviseur-lyon", roles=("supervisor",))
