"""Fuzzing: M1-like outputs from a grammar, cut into random chunks.

For any output and any chunking: no exception, the streamed Turn equals ``parse``, the deltas join to
exactly the Turn's thinking and text, no tag (or piece of one) leaks into them, and the call deltas keep
their contract. For well-formed outputs the result is also checked against what the grammar generated.
"""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m1agent.protocol import StreamParser, parse
from m1agent.protocol.types import (
    ProblemFound,
    StreamDelta,
    TextDelta,
    ThinkingDelta,
    ToolCallArgsDelta,
    ToolCallDone,
    ToolCallStart,
    Turn,
)

TAGS = ["<think>", "</think>", "<tool_calls>", "</tool_calls>"]
# M1AGENT_FUZZ_EXAMPLES raises the example count for a long fuzzing run.
SETTINGS = settings(
    max_examples=int(os.environ.get("M1AGENT_FUZZ_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Text that contains no tag and no '<' (so it cannot form one), for the well-formed grammar.
plain = st.lists(st.sampled_from([*"ab xyz\n\t{}[]\":,\\é北", "word", "  ", "> ", "think"]), max_size=30).map("".join)
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6), st.text(max_size=12),
    st.sampled_from(["</tool_calls>", "a } b", "<tool_calls>", "</think>", "\\", '"', "<", "{", "\n"]),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
arguments = st.dictionaries(st.text(max_size=8), json_value, max_size=4)
names = st.text(alphabet="abcdefghij_", min_size=1, max_size=10)


@st.composite
def call_text(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    name, args = draw(names), draw(arguments)
    style = draw(st.sampled_from(["line", "pretty", "string_args", "args_first"]))
    if style == "pretty":
        text = json.dumps({"name": name, "arguments": args}, indent=draw(st.integers(0, 3)), ensure_ascii=False)
    elif style == "string_args":
        text = json.dumps({"name": name, "arguments": json.dumps(args)})
    elif style == "args_first":
        text = json.dumps({"arguments": args, "name": name}, separators=(",", ":"))
    else:
        text = json.dumps({"name": name, "arguments": args}, ensure_ascii=draw(st.booleans()))
    return text, name, args


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[str, str, str, list[tuple[str, dict[str, Any]]]]:
    """An output with its expected thinking, text and calls."""
    thinking = draw(plain)
    out = draw(st.sampled_from(["", "\n", "  "]))
    has_think = draw(st.booleans())
    if has_think:
        out += "<think>\n" + thinking + "\n</think>\n"
    segments, calls = [], []
    thoughts = [thinking] if has_think else []
    for _ in range(draw(st.integers(0, 3))):
        segment = draw(plain)
        segments.append(segment)
        out += segment
        if draw(st.booleans()):  # thinking again after answer text: a block of its own
            later = draw(plain)
            thoughts.append(later)
            out += "<think>" + later + "</think>"
            segments.append(draw(plain))
            out += segments[-1]
        lines = draw(st.lists(call_text(), min_size=1, max_size=3))
        out += "<tool_calls>\n" + "\n".join(t for t, _, _ in lines) + "\n</tool_calls>"
        calls += [(n, a) for _, n, a in lines]
    tail = draw(plain)
    segments.append(tail)
    out += tail
    text = "\n".join(s.strip() for s in segments if s.strip())
    return out, "\n".join(t.strip() for t in thoughts if t.strip()), text, calls


def junk() -> st.SearchStrategy[str]:
    pieces = st.sampled_from(
        TAGS + [t[:i] for t in TAGS for i in range(1, len(t))]
        + ["{", "}", '"', "\\", "\n", " ", "x", ",", "[", "]", ":", '{"name": "f", "arguments": {', '"}', "é"]
    )
    return st.lists(pieces, max_size=40).map("".join)


@st.composite
def messy(draw: st.DrawFn) -> str:
    """Well-formed parts, junk and tag fragments in any order, possibly truncated anywhere."""
    parts = draw(st.lists(st.one_of(well_formed().map(lambda w: w[0]), junk(), call_text().map(lambda c: c[0])),
                          max_size=5))
    text = "".join(parts)
    if text and draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text


def chunked(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points)]


def stream(chunks: list[str]) -> tuple[Turn, list[StreamDelta]]:
    parser = StreamParser()
    deltas: list[StreamDelta] = []
    for chunk in chunks:
        deltas += parser.feed(chunk)
    deltas += parser.flush()
    return parser.close(), deltas


def check_contract(text: str, chunks: list[str]) -> Turn:
    whole = parse(text)
    turn, deltas = stream(chunks)
    assert turn == whole
    thinking = [d.text for d in deltas if isinstance(d, ThinkingDelta)]
    answer = [d.text for d in deltas if isinstance(d, TextDelta)]
    assert "".join(thinking) == turn.thinking
    assert "".join(answer) == turn.text
    assert all(piece for piece in thinking + answer)
    for piece in answer:
        assert "<tool_calls>" not in piece and "</think>" not in piece
    for piece in thinking:
        assert "</think>" not in piece
    # a held-back tag prefix never comes out early: each text delta is final text
    assert all(turn.text.find(p) >= 0 for p in answer)
    # per call index: one start (with the name) before its fragments, then one done or some problems
    started: dict[int, ToolCallStart] = {}
    done: set[int] = set()
    failed: set[int] = set()
    for d in deltas:
        if isinstance(d, ToolCallStart):
            assert d.index not in started and d.index not in done | failed
            assert d.id == f"call_0_{d.index}"
            started[d.index] = d
        elif isinstance(d, ToolCallArgsDelta):
            assert d.index in started and d.index not in done | failed and d.text
        elif isinstance(d, ToolCallDone):
            assert d.index in started and d.index not in done | failed
            assert d.call.id == started[d.index].id
            done.add(d.index)
        elif isinstance(d, ProblemFound) and d.call_index is not None:
            assert d.call_index not in done
            failed.add(d.call_index)
    assert [d.call for d in deltas if isinstance(d, ToolCallDone)] == list(turn.tool_calls)
    assert [d.problem for d in deltas if isinstance(d, ProblemFound)] == list(turn.problems)
    return turn


@SETTINGS
@given(well_formed(), st.lists(st.integers(0, 10**6), max_size=30))
def test_well_formed_outputs_parse_as_generated(case: tuple, cuts: list[int]) -> None:
    text, thinking, answer, calls = case
    turn = check_contract(text, chunked(text, cuts))
    assert turn.thinking == thinking
    assert turn.text == answer
    assert [(c.name, c.arguments) for c in turn.tool_calls] == calls
    assert turn.problems == ()


@SETTINGS
@given(well_formed(), st.data())
def test_single_character_chunks(case: tuple, data: st.DataObject) -> None:
    text = case[0]
    check_contract(text, list(text))


@SETTINGS
@given(messy(), st.lists(st.integers(0, 10**6), max_size=30))
def test_messy_outputs_never_break_the_contract(text: str, cuts: list[int]) -> None:
    check_contract(text, chunked(text, cuts))
    check_contract(text, list(text))


@SETTINGS
@given(st.text(max_size=200), st.lists(st.integers(0, 10**6), max_size=20))
def test_any_text_at_all(text: str, cuts: list[int]) -> None:
    check_contract(text, chunked(text, cuts))


@SETTINGS
@given(well_formed(), st.integers(0, 10**6))
def test_truncated_well_formed_output_keeps_only_complete_calls(case: tuple, cut: int) -> None:
    text, _, _, calls = case
    truncated = text[: cut % (len(text) + 1)]
    turn = check_contract(truncated, list(truncated))
    got = [(c.name, c.arguments) for c in turn.tool_calls]
    assert got == calls[: len(got)]


no_space_text = st.lists(
    st.sampled_from(["a", "x", "<", ">", "/", "<t", "</th", "<tool_ca", "</tool_calls", "<thin", "é"]), max_size=60
).map("".join).filter(lambda s: not any(tag in s for tag in TAGS))


@SETTINGS
@given(no_space_text, st.lists(st.integers(0, 10**6), max_size=30))
def test_at_most_a_tag_prefix_is_held_back(text: str, cuts: list[int]) -> None:
    parser = StreamParser()
    fed, emitted = 0, 0
    for chunk in chunked(text, cuts):
        fed += len(chunk)
        emitted += sum(len(d.text) for d in parser.feed(chunk) if isinstance(d, TextDelta))
        assert fed - emitted <= len("</tool_calls>") - 1
    emitted += sum(len(d.text) for d in parser.flush() if isinstance(d, TextDelta))
    assert emitted == fed == len(parser.close().text)


@SETTINGS
@given(plain, plain, call_text(), call_text(), st.lists(st.integers(0, 10**6), max_size=30))
def test_a_call_inside_thinking_never_runs_wherever_the_block_starts(
    before: str, thought: str, hidden: tuple, real: tuple, cuts: list[int]
) -> None:
    # answer text, then a thought holding a call, then the real call: only the real one may run
    text = (f"{before}<think>{thought}<tool_calls>\n{hidden[0]}\n</tool_calls>{thought}</think>"
            f"<tool_calls>\n{real[0]}\n</tool_calls>")
    for chunks in (chunked(text, cuts), list(text), [text]):
        turn = check_contract(text, chunks)
        assert [(c.name, c.arguments) for c in turn.tool_calls] == [(real[1], real[2])]
        # inside thinking, tags are not read as JSON (as in vLLM): a "</tool_calls>" in a string may split the
        # hidden block in two, each reported
        kinds = {p.kind for p in turn.problems}
        assert kinds == {"tool_call_in_thinking"}
        assert "<think>" not in turn.text
