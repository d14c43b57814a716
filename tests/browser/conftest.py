"""What the browser tests of live chat share: agents made per test, and a team of only those agents."""

from __future__ import annotations

import secrets

import pytest

from functions.core import settings
from tests.support.accounts import PASSWORD


@pytest.fixture
def agent(stack):
    """A fresh agent, so each test starts with nobody else's chats."""

    def make(name: str, accepting: bool = True) -> tuple[str, str]:
        email = f"{name.lower()}-{secrets.token_hex(3)}@charla.local"
        return stack.create_agent(email, PASSWORD, name, accepting=accepting), email

    return make


@pytest.fixture
def only_these_agents_accept(stack):
    """The demo admin accepts chats by default; these tests choose their own agents."""
    from functions.team import agents

    agents.set_accepting(stack.demo_agent_id, False)
    yield
    settings.save_settings({"max_chats_per_agent": 3})
