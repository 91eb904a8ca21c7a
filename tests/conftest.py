"""Shared fixtures: M1's tokenizer where one is found, and the token counter every test counts with.

Our own test data lives in ``tests/``. Only M1's tokenizer comes from outside: ``M1AGENT_TOKENIZER``,
then the Hugging Face cache, then ``../shared/m1-tokenizer`` beside the project. Without it, the tests
that need exact token ids skip with one reason, printed once; every other test counts with the
estimate. CI sets ``M1AGENT_REQUIRE_TOKENIZER=1``, which turns that skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from m1agent.tokens.bpe import MERGES_FILE
from m1agent.tokens.load import ENV_VAR, _hugging_face_snapshot

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
NO_TOKENIZER = (
    "M1's tokenizer was not found: set M1AGENT_TOKENIZER to a folder holding merges.txt from the "
    "MiniMaxAI/MiniMax-M1-80k release (or have that release in the Hugging Face cache)"
)


def find_tokenizer() -> Path | None:
    """Where M1's merges are, in the order a self-hoster's machine would have them."""
    from_env = os.environ.get(ENV_VAR)
    if from_env and Path(from_env).expanduser().exists():
        return Path(from_env).expanduser()
    snapshot = _hugging_face_snapshot()
    if snapshot is not None:
        return snapshot
    if (SHARED / "m1-tokenizer" / MERGES_FILE).is_file():
        return SHARED / "m1-tokenizer"
    return None


TOKENIZER = find_tokenizer()
if TOKENIZER is not None:
    # Everything that calls load_counter() without a path counts exactly, as a self-hoster's setup would.
    os.environ[ENV_VAR] = str(TOKENIZER)
else:
    os.environ.pop(ENV_VAR, None)  # a path that does not exist would be an error, not the estimate


def need_tokenizer() -> Path:
    """M1's tokenizer folder, or skip (fail, where CI requires it) with the one reason."""
    if TOKENIZER is not None:
        return TOKENIZER
    if os.environ.get("M1AGENT_REQUIRE_TOKENIZER") == "1":
        pytest.fail(NO_TOKENIZER)
    pytest.skip(NO_TOKENIZER)


@pytest.fixture(scope="session")
def tokenizer_dir() -> Path:
    """M1's BPE merges, for the tests that need exact token ids."""
    return need_tokenizer()


@pytest.fixture(scope="session")
def counter() -> Any:
    """The counter the loopback servers report usage with: exact where M1's tokenizer is found, else the
    estimate (which over-counts, the same way on both sides of every comparison)."""
    from m1agent.tokens import load_counter

    return load_counter()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # One line for all of them, whatever the per-test skip lines say.
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if NO_TOKENIZER in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} tests skipped: {NO_TOKENIZER}")
