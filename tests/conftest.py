"""Shared fixtures: where the reference data beside the project lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

# Everything that calls load_counter() without a path counts exactly, as a self-hoster's setup would.
os.environ.setdefault("M1AGENT_TOKENIZER", str(SHARED / "m1-tokenizer"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``shared/`` folder beside the project root (CI puts it there)."""
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: clone the project beside shared/")
    return SHARED


@pytest.fixture(scope="session")
def tokenizer_dir(shared_dir: Path) -> Path:
    """M1's BPE merges, used by the exact token counter."""
    return shared_dir / "m1-tokenizer"
