"""Edge cases of M1 output where a line-based parser (vLLM's) goes wrong, with exact expectations."""

from __future__ import annotations

import json

import pytest

from m1agent.protocol import StreamParser, parse
from m1agent.protocol.types import (
    ProblemFound,
    ProblemKind,
    StreamDelta,
    TextDelta,
    ThinkingDelta,
    ToolCallArgsDelta,
    ToolCallDone,
    ToolCallStart,
    Turn,
)

THINK = "<think>\nok\n</think>\n"


def block(*lines: str) -> str:
    return "<tool_calls>\n" + "\n".join(lines) + "\n</tool_calls>"


def call(name: str, arguments: object) -> str:
    return json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)


def streamed(text: str, size: int = 1) -> tuple[Turn, list[StreamDelta]]:
    parser = StreamParser()
    deltas: list[StreamDelta] = []
    for start in range(0, len(text), size):
        deltas += parser.feed(text[start : start + size])
    deltas += parser.flush()
    turn = parser.close()
    assert turn == parse(text)
    return turn, deltas


def calls_of(turn: Turn) -> list[tuple[str, dict]]:
    return [(c.name, c.arguments) for c in turn.tool_calls]


# --- JSON awareness ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "a </tool_calls> b",
        "x } y }} z",
        "if a < b and c > d: <tool_calls>",
        'quote \\" and backslash \\\\',
        "ends with backslash \\",
        "{ not json {",
        "</think> inside",
        "\n".join(["multi", "line"]),
    ],
)
def test_tags_braces_and_escapes_inside_strings_stay_in_the_argument(value: str) -> None:
    text = THINK + block(call("write_file", {"path": "a.txt", "content": value}), call("run", {"cmd": "ls"}))
    turn, _ = streamed(text)
    assert calls_of(turn) == [("write_file", {"path": "a.txt", "content": value}), ("run", {"cmd": "ls"})]
    assert turn.problems == ()
    assert turn.text == ""


def test_pretty_printed_call_with_nested_objects_on_their_own_lines() -> None:
    pretty = json.dumps({"name": "edit", "arguments": {"edits": [{"a": 1}, {"b": "}"}], "n": None}}, indent=2)
    turn, _ = streamed(THINK + block(pretty, call("run", {})))
    assert calls_of(turn) == [("edit", {"edits": [{"a": 1}, {"b": "}"}], "n": None}), ("run", {})]
    assert turn.problems == ()


def test_opening_brace_on_its_own_line_after_the_key() -> None:
    text = THINK + '<tool_calls>\n{"name": "f", "arguments":\n  {\n    "x": 1\n  }\n}\n</tool_calls>'
    assert calls_of(parse(text)) == [("f", {"x": 1})]


def test_arguments_as_json_string_are_decoded() -> None:
    text = THINK + block('{"name": "get", "arguments": "{\\"id\\": \\"u_1\\", \\"deep\\": {\\"k\\": [1]}}"}')
    assert calls_of(parse(text)) == [("get", {"id": "u_1", "deep": {"k": [1]}})]


@pytest.mark.parametrize("arguments", ['"[1, 2]"', '"not json"', "[1]", "3", "null"])
def test_arguments_that_are_no_object_are_reported(arguments: str) -> None:
    text = THINK + block('{"name": "get", "arguments": ' + arguments + "}", call("ok", {}))
    turn = parse(text)
    assert calls_of(turn) == [("ok", {})]
    assert turn.problem_kinds == [ProblemKind.ARGUMENTS_NOT_OBJECT]
    problem = turn.problems[0]
    assert "'get'" in problem.detail and "object" in problem.detail
    assert problem.raw == '{"name": "get", "arguments": ' + arguments + "}"


def test_several_blocks_and_text_between_them() -> None:
    text = THINK + "First.\n" + block(call("a", {})) + "\nThen.\n" + block(call("b", {"x": 1})) + "\nDone."
    turn, deltas = streamed(text)
    assert calls_of(turn) == [("a", {}), ("b", {"x": 1})]
    assert [c.id for c in turn.tool_calls] == ["call_0_0", "call_0_1"]
    assert turn.text == "First.\nThen.\nDone."
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == "First.\nThen.\nDone."


def test_calls_wrapped_in_an_array_and_an_extra_closing_brace_are_repaired_silently() -> None:
    text = THINK + "<tool_calls>\n[" + call("a", {}) + ",\n" + call("b", {}) + "}]\n</tool_calls>"
    turn = parse(text)
    assert calls_of(turn) == [("a", {}), ("b", {})]
    assert turn.problems == ()


# --- keep every good call when one is bad -----------------------------------------------------


def test_every_good_call_survives_bad_neighbours() -> None:
    text = THINK + block(
        call("a", {"i": 1}),
        "I will now call the tool:",
        '{"name": "b", "arguments": {"i": 2}',  # closing brace missing
        call("c", {"i": 3}),
        '{"arguments": {"i": 4}}',
        '{"name": "e"}',
        '{"name": "f", "arguments": {"s": "unterminated}}',
        call("g", {"i": 7}),
        "{'name': 'h', 'arguments': {'i': 8}, 'extra': (1, 2)}",
        "{'name': 'k', 'arguments': {'i': true}}",
    )
    turn, deltas = streamed(text)
    assert calls_of(turn) == [("a", {"i": 1}), ("c", {"i": 3}), ("g", {"i": 7}), ("h", {"i": 8})]
    assert [p.kind for p in turn.problems] == [
        ProblemKind.INVALID_TOOL_CALL_JSON,
        ProblemKind.INVALID_TOOL_CALL_JSON,
        ProblemKind.TOOL_CALL_MISSING_NAME,
        ProblemKind.TOOL_CALL_MISSING_ARGUMENTS,
        ProblemKind.INVALID_TOOL_CALL_JSON,
        ProblemKind.INVALID_TOOL_CALL_JSON,
    ]
    raws = [p.raw for p in turn.problems]
    assert raws == [
        "I will now call the tool:",
        '{"name": "b", "arguments": {"i": 2}',
        '{"arguments": {"i": 4}}',
        '{"name": "e"}',
        '{"name": "f", "arguments": {"s": "unterminated}}',
        "{'name': 'k', 'arguments': {'i': true}}",
    ]
    # ids follow the call objects, so an id sent while streaming never changes
    assert [c.id for c in turn.tool_calls] == ["call_0_0", "call_0_2", "call_0_6", "call_0_7"]
    problem_indexes = [d.call_index for d in deltas if isinstance(d, ProblemFound)]
    assert problem_indexes == [None, 1, 3, 4, 5, 8]


def test_every_problem_detail_is_an_actionable_sentence() -> None:
    text = (
        "<think>\nx <tool_calls>\n" + call("rm", {}) + "\n</tool_calls>\n</think>\n"
        + block("junk", '{"arguments": {}}', '{"name": "n"}', '{"name": "n", "arguments": 1}', '{"name": "t", "a')
    )
    turn = parse(text)
    assert turn.problem_kinds == sorted(
        ["tool_call_in_thinking", "invalid_tool_call_json", "tool_call_missing_name",
         "tool_call_missing_arguments", "arguments_not_object"]
    )
    for problem in turn.problems:
        assert problem.detail.endswith(".") and len(problem.detail) > 40
    by_kind = {p.kind: p for p in turn.problems}
    assert '"name"' in by_kind[ProblemKind.TOOL_CALL_MISSING_NAME].detail
    assert '"arguments"' in by_kind[ProblemKind.TOOL_CALL_MISSING_ARGUMENTS].detail
    assert "</think>" in by_kind[ProblemKind.TOOL_CALL_IN_THINKING].detail
    assert by_kind[ProblemKind.TOOL_CALL_IN_THINKING].raw == "<tool_calls>\n" + call("rm", {}) + "\n</tool_calls>"


# --- thinking ---------------------------------------------------------------------------------


def test_call_in_thinking_is_never_returned() -> None:
    text = "<think>\nLet me <tool_calls>\n" + call("delete_all", {}) + "\n</tool_calls>\n</think>\nNo."
    turn, deltas = streamed(text)
    assert turn.tool_calls == ()
    assert not any(isinstance(d, (ToolCallStart, ToolCallDone)) for d in deltas)
    assert turn.problem_kinds == [ProblemKind.TOOL_CALL_IN_THINKING]
    assert turn.thinking == "Let me <tool_calls>\n" + call("delete_all", {}) + "\n</tool_calls>"
    assert turn.text == "No."


def test_unclosed_block_inside_thinking_ends_with_the_thinking() -> None:
    text = "<think>\n<tool_calls>\n" + call("x", {}) + "\n</think>\n" + block(call("y", {}))
    turn = parse(text)
    assert calls_of(turn) == [("y", {})]
    assert turn.problem_kinds == [ProblemKind.TOOL_CALL_IN_THINKING]


def test_truncated_inside_thinking_has_no_calls() -> None:
    text = "<think>\nplan: <tool_calls>\n" + call("x", {}) + "\n</tool_calls> and more"
    turn = parse(text)
    assert turn.tool_calls == () and turn.text == ""
    assert turn.problem_kinds == [ProblemKind.TOOL_CALL_IN_THINKING, ProblemKind.UNCLOSED_THINK]
    assert turn.truncated


def test_missing_opener_is_answer_text() -> None:
    turn = parse("Sure.\n" + block(call("a", {})))
    assert (turn.thinking, turn.text, calls_of(turn), turn.problems) == ("", "Sure.", [("a", {})], ())


@pytest.mark.parametrize("text", ["</think>\n\nHello", "\n</think>Hello", "Hel</think>lo"])
def test_stray_closer_is_dropped(text: str) -> None:
    turn, _ = streamed(text)
    assert (turn.thinking, turn.text, turn.problems) == ("", "Hello", ())


def test_repeated_opener_is_dropped() -> None:
    turn = parse("<think>\n<think>\nfirst\n</think>\nanswer")
    assert (turn.thinking, turn.text) == ("first", "answer")


def test_think_opener_after_leading_whitespace() -> None:
    turn = parse("\n\n  <think>\nhmm\n</think>\n\nhi")
    assert (turn.thinking, turn.text) == ("hmm", "hi")


def test_think_later_in_the_text_is_thinking_too() -> None:
    # vLLM treats every <think>...</think> region as thinking, wherever it starts
    turn = parse("Hi <think>x</think> there")
    assert (turn.thinking, turn.text) == ("x", "Hi\nthere")


def test_two_thinking_blocks_join_on_a_new_line() -> None:
    turn = parse("<think>\nfirst\n</think>\nA <think> second </think> B")
    assert (turn.thinking, turn.text) == ("first\nsecond", "A\nB")


def test_thinking_after_text_cut_off_is_an_unclosed_think() -> None:
    turn = parse("Let me check. <think>the file might")
    assert turn.text == "Let me check." and turn.thinking == "the file might"
    assert [p.kind for p in turn.problems] == ["unclosed_think"]


# --- truncation ---------------------------------------------------------------------------------


def test_truncated_last_call_is_not_returned() -> None:
    text = THINK + "<tool_calls>\n" + call("a", {"p": "."}) + "\n" + '{"name": "b", "arguments": {"p": "/et'
    turn, deltas = streamed(text)
    assert calls_of(turn) == [("a", {"p": "."})]
    assert turn.problem_kinds == [ProblemKind.INVALID_TOOL_CALL_JSON, ProblemKind.UNCLOSED_TOOL_CALLS]
    assert turn.problems[0].raw == '{"name": "b", "arguments": {"p": "/et'
    assert "ended before" in turn.problems[0].detail
    starts = [d for d in deltas if isinstance(d, ToolCallStart)]
    assert [(s.index, s.name) for s in starts] == [(0, "a"), (1, "b")]
    assert [d.index for d in deltas if isinstance(d, ToolCallDone)] == [0]


def test_unclosed_block_with_only_complete_lines() -> None:
    turn = parse(THINK + "<tool_calls>\n" + call("a", {}) + "\n" + call("b", {}))
    assert calls_of(turn) == [("a", {}), ("b", {})]
    assert turn.problem_kinds == [ProblemKind.UNCLOSED_TOOL_CALLS]


def test_tag_prefix_at_the_very_end_is_text() -> None:
    assert parse("<think>a</think>b <tool_ca").text == "b <tool_ca"
    assert parse("<think>a</think>b </thi").text == "b </thi"
    assert parse("<thin").text == "<thin"


# --- ids and turn index -----------------------------------------------------------------------


def test_ids_use_the_turn_index() -> None:
    turn = parse(THINK + block(call("a", {}), call("b", {})), turn_index=7)
    assert [c.id for c in turn.tool_calls] == ["call_7_0", "call_7_1"]


# --- streaming contract -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 7, 13, 1000])
def test_stream_call_deltas(size: int) -> None:
    args = {"path": "src/app/models.py", "content": "a } b </tool_calls> c < d"}
    text = THINK + "Writing.\n" + block(
        '{"arguments": ' + json.dumps(args) + ', "name": "write"}', call("read", {"path": "x"})
    )
    turn, deltas = streamed(text, size)
    starts = [d for d in deltas if isinstance(d, ToolCallStart)]
    assert [(s.index, s.id, s.name) for s in starts] == [(0, "call_0_0", "write"), (1, "call_0_1", "read")]
    for index, expected in ((0, json.dumps(args)), (1, '{"path": "x"}')):
        fragments = [d.text for d in deltas if isinstance(d, ToolCallArgsDelta) and d.index == index]
        assert "".join(fragments) == expected
        position = {id(d): i for i, d in enumerate(deltas)}
        first_arg = min(position[id(d)] for d in deltas if isinstance(d, ToolCallArgsDelta) and d.index == index)
        assert position[id(starts[index])] < first_arg
    dones = [d for d in deltas if isinstance(d, ToolCallDone)]
    assert [(d.index, d.call) for d in dones] == list(enumerate(turn.tool_calls))


def test_partial_tags_are_held_back_and_never_leak() -> None:
    parser = StreamParser()
    assert parser.feed("<thi") == []
    assert parser.feed("nk>\nabc <") == [ThinkingDelta("abc")]
    assert parser.feed("/th") == []
    assert parser.feed("ink>\nDone <too") == [TextDelta("Done")]
    assert parser.feed("l_calls>\n") == []
    deltas = parser.feed(call("f", {}) + "\n</tool_")
    assert [type(d) for d in deltas] == [ToolCallStart, ToolCallArgsDelta, ToolCallDone]
    assert parser.feed("calls> bye") == [TextDelta("\nbye")]
    assert parser.flush() == []
    assert parser.close().text == "Done\nbye"


def test_a_lone_angle_bracket_is_released_as_soon_as_it_cannot_be_a_tag() -> None:
    parser = StreamParser()
    parser.feed("<think>a")
    assert parser.feed(" <x") == [ThinkingDelta(" <x")]


def test_trailing_whitespace_is_held_until_more_text_follows() -> None:
    parser = StreamParser()
    assert parser.feed("Hello ") == [TextDelta("Hello")]
    assert parser.feed("\n\n") == []
    assert parser.feed("world\n") == [TextDelta(" \n\nworld")]
    assert parser.close().text == "Hello \n\nworld"


def test_feed_after_flush_is_an_error() -> None:
    parser = StreamParser()
    parser.feed("hi")
    parser.flush()
    assert parser.flush() == []
    with pytest.raises(RuntimeError, match="after flush"):
        parser.feed("more")


def test_empty_output() -> None:
    assert parse("") == Turn()
    assert parse("   \n") == Turn()
