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


@pytest.fixture(scope="session")
def counter(tokenizer_dir):  # type: ignore[no-untyped-def]
    """The exact M1 token counter the loopback servers report usage with."""
    from m1agent.tokens import load_counter

    return load_counter(tokenizer_dir)
