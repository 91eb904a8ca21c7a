"""Fixtures for the policy tests."""

from __future__ import annotations

import pytest
from policy_shop import Conversation, shop_engine


@pytest.fixture
def convo() -> Conversation:
    """A fresh conversation over the shop domain with every rule kind."""
    return Conversation(shop_engine())
