"""Fixtures for thinking tests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# The wire tests import their helpers (thinking_wire_helpers.py) by name, in any import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def counter(tokenizer_dir: Path) -> Any:
    """The exact M1 token counter the loopback servers report usage with."""
    from m1agent.tokens import load_counter

    return load_counter(tokenizer_dir)
