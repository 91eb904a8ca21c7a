"""Fixtures for the policy tests."""

from __future__ import annotations

import pytest
from policy_shop import Conversation, shop_engine


@pytest.fixture
def convo() -> Conversation:
    """A fresh conversation over the shop domain with every rule kind."""
    return Conversation(shop_engine())


@pytest.fixture(scope="session")
def counter(tokenizer_dir):  # type: ignore[no-untyped-def]
    """The exact M1 token counter the loopback servers report usage with."""
    from m1agent.tokens import load_counter

    return load_counter(tokenizer_dir)
