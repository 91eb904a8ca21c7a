"""Fixtures for loop tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def counter(tokenizer_dir: Path) -> Any:
    """The exact M1 token counter the loopback servers report usage with."""
    from m1agent.tokens import load_counter

    return load_counter(tokenizer_dir)
