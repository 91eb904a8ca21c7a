"""Every corpus case parses as its .json says: whole, and streamed in every chunk size from 1 to 64."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from m1agent.protocol import StreamParser, parse
from m1agent.protocol.types import TextDelta, ThinkingDelta, ToolCallDone

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = sorted(p.stem for p in CORPUS.glob("*.txt"))


def _case(name: str) -> tuple[str, dict]:
    return (CORPUS / f"{name}.txt").read_text(encoding="utf-8"), json.loads(
        (CORPUS / f"{name}.json").read_text(encoding="utf-8")
    )


def test_corpus_is_present() -> None:
    assert len(CASES) >= 14


@pytest.mark.parametrize("name", CASES)
def test_whole(name: str) -> None:
    text, expected = _case(name)
    turn = parse(text)
    assert turn.to_json() == expected
    assert [c.id for c in turn.tool_calls] == [f"call_0_{i}" for i in _call_indexes(text)]


def _call_indexes(text: str) -> list[int]:
    """Indexes of the valid calls among the call objects (invalid ones keep their index)."""
    parser = StreamParser()
    deltas = parser.feed(text) + parser.flush()
    return [d.index for d in deltas if isinstance(d, ToolCallDone)]


@pytest.mark.parametrize("name", CASES)
def test_streamed_in_every_chunk_size(name: str) -> None:
    text, expected = _case(name)
    whole = parse(text)
    for size in range(1, 65):
        parser = StreamParser()
        deltas = []
        for start in range(0, len(text), size):
            deltas += parser.feed(text[start : start + size])
        deltas += parser.flush()
        turn = parser.close()
        assert turn == whole, f"chunk size {size}"
        assert turn.to_json() == expected
        assert "".join(d.text for d in deltas if isinstance(d, ThinkingDelta)) == turn.thinking
        assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == turn.text
        assert [d.call for d in deltas if isinstance(d, ToolCallDone)] == list(turn.tool_calls)
