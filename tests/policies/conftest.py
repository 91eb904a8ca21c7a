"""Fixtures for the policy tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helper module beside this file must import under any import mode (importlib included).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from policy_shop import Conversation, shop_engine


@pytest.fixture
def convo() -> Conversation:
    """A fresh conversation over the shop domain with every rule kind."""
    return Conversation(shop_engine())

