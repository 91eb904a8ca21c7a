"""What each template variant does on purpose: the hf deviation, the message shaping, vLLM's request model."""

from __future__ import annotations

import json
from typing import Any

import m1_conversations as conv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m1agent.protocol import parse
from m1agent.protocol.render import PromptRenderError, generation_prompt, render
from m1agent.protocol.render_hf import hf_messages

CALLS = [
    {"id": "call_0_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
    {"id": "call_0_1", "type": "function", "function": {"name": "get_time", "arguments": {"zone": "CET"}}},
]
ROUND = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather and time in Paris?"},
    {"role": "assistant", "content": "<think>\nTwo calls.\n</think>\n", "tool_calls": CALLS},
    {"role": "tool", "tool_call_id": "call_0_0", "content": "18C"},
    {"role": "tool", "tool_call_id": "call_0_1", "content": "14:02"},
]
BLOCK = (
    '<tool_calls>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
    '{"name": "get_time", "arguments": {"zone": "CET"}}\n</tool_calls>'
)


# --- hf: earlier tool calls stay in the history, in M1's own form --------------------------------


def test_hf_writes_earlier_calls_as_the_model_wrote_them() -> None:
    prompt = render(ROUND)
    turn = "<beginning_of_sentence>ai name=assistant\n<think>\nTwo calls.\n</think>\n" + BLOCK + "<end_of_sentence>\n"
    assert turn in prompt
    assert prompt.endswith(
        "<beginning_of_sentence>tool name=tools\ntool name: get_weather\ntool result: 18C\n\n"
        "tool name: get_time\ntool result: 14:02\n\n<end_of_sentence>\n" + generation_prompt("hf")
    )


def test_hf_strict_drops_the_calls_as_the_template_does() -> None:
    strict = render(ROUND, strict=True)
    assert "<tool_calls>\n{" not in strict
    assert "ai name=assistant\n<think>\nTwo calls.\n</think>\n<end_of_sentence>" in strict
    assert render(ROUND).replace(BLOCK, "") == strict


def test_the_written_calls_parse_back_to_the_calls_sent() -> None:
    [_, _, assistant, *_] = hf_messages(ROUND)
    turn = parse("".join(part["text"] for part in assistant["content"]))
    calls = [(c.name, c.arguments) for c in turn.tool_calls]
    assert calls == [("get_weather", {"city": "Paris"}), ("get_time", {"zone": "CET"})]
    assert turn.thinking == "Two calls." and not turn.problems


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, BLOCK),
        ("", BLOCK),
        ("Checking.", "Checking.\n" + BLOCK),
        ("Checking.\n", "Checking.\n" + BLOCK),
        ([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], "ab\n" + BLOCK),
    ],
)
def test_the_calls_go_on_a_line_of_their_own(content: Any, expected: str) -> None:
    [message] = hf_messages([{"role": "assistant", "content": content, "tool_calls": CALLS}])
    assert "".join(part["text"] for part in message["content"]) == expected


def test_calls_with_arguments_that_are_not_json_are_shown_as_sent() -> None:
    calls = [{"function": {"name": "f", "arguments": "{oops"}}, {"function": {"name": "g", "arguments": None}}]
    [message] = hf_messages([{"role": "assistant", "content": None, "tool_calls": calls}])
    assert message["content"][-1]["text"] == (
        '<tool_calls>\n{"name": "f", "arguments": "{oops"}\n{"name": "g", "arguments": {}}\n</tool_calls>'
    )


def test_a_call_without_a_name_cannot_be_written_but_strict_renders_it() -> None:
    messages = [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [{"function": {}}]}]
    with pytest.raises(PromptRenderError, match="string name"):
        render(messages)
    assert render(messages, strict=True).endswith("ai name=assistant\n<end_of_sentence>\n" + generation_prompt())


# --- hf: message shaping -------------------------------------------------------------------------


def test_tool_results_are_named_by_call_id_then_name_then_position() -> None:
    messages = [
        {"role": "assistant", "content": None, "tool_calls": CALLS},
        {"role": "tool", "content": [{"type": "text", "text": "by position"}, {"type": "text", "text": "2"}]},
        {"role": "tool", "name": "own_name", "content": "by name"},
        {"role": "tool", "tool_call_id": "call_0_1", "content": "by id"},
        {"role": "tool", "content": "past the calls"},
        {"role": "user", "content": "next"},
        {"role": "tool", "content": [{"type": "text", "name": "kept", "text": "already named"}]},
    ]
    shaped = hf_messages(messages)
    assert [m["role"] for m in shaped] == ["assistant", "tool", "user", "tool"]
    assert [(p["name"], p["text"]) for p in shaped[1]["content"]] == [
        ("get_weather", "by position"), ("get_weather", "2"), ("own_name", "by name"), ("get_time", "by id"),
        ("", "past the calls"),
    ]
    assert shaped[3]["content"] == [{"type": "text", "name": "kept", "text": "already named"}]


def test_strings_become_one_text_part_and_developer_is_system() -> None:
    shaped = hf_messages([{"role": "developer", "content": "D"}, {"role": "user", "content": None}])
    assert shaped == [{"role": "system", "content": [{"type": "text", "text": "D"}]},
                      {"role": "user", "content": [{"type": "text", "text": ""}]}]


def test_hf_template_quirks() -> None:
    prompt = render([
        {"role": "system", "content": "A"},
        {"role": "user", "content": [{"type": "text", "text": " first "}, {"type": "text", "text": "lost"}]},
        {"role": "system", "content": "B"},
    ], [])
    assert prompt.startswith("<begin_of_document><beginning_of_sentence>system ai_setting=assistant\nAB<end_of_")
    assert "user name=user\n first <end_of_sentence>" in prompt and "lost" not in prompt
    assert "<tools>" not in prompt  # an empty tools list renders no block
    assert "You are a helpful assistant" not in render([{"role": "user", "content": "x"}])


@settings(max_examples=300, deadline=None)
@given(messages=conv.conversations(developer=False), tools=conv.any_tools, data=st.data())
def test_hf_a_prefix_ending_a_round_renders_a_prompt_prefix(
    messages: list[dict[str, Any]], tools: list[Any] | None, data: st.DataObject
) -> None:
    """Prefix caching: appending messages after a complete round only appends bytes."""
    ends = [i + 1 for i, m in enumerate(messages) if m["role"] != "tool" and (
        i + 1 == len(messages) or messages[i + 1]["role"] != "tool")]
    cut = data.draw(st.sampled_from(ends))
    whole = render(messages, tools, add_generation_prompt=False)
    assert whole.startswith(render(messages[:cut], tools, add_generation_prompt=False))
    assert render(messages, tools) == whole + generation_prompt("hf")


# --- vllm: what vLLM 0.23 does to the request ------------------------------------------------------


def _tools_line(tool: dict[str, Any]) -> str:
    prompt = render([{"role": "user", "content": "x"}], [tool], template="vllm")
    return prompt.split("<tools>\n", 1)[1].split("\n", 1)[0]


def test_vllm_dumps_tools_through_its_request_model() -> None:
    tool = {"function": {"strict": True, "parameters": {"type": "object"}, "name": "f"}, "x-extra": 1}
    assert json.loads(_tools_line(tool)) == {
        "type": "function",
        "function": {"name": "f", "description": None, "parameters": {"type": "object"}, "strict": True},
        "x-extra": 1,
    }
    assert _tools_line(tool) == (
        '{"type": "function", "function": {"name": "f", "description": null, "parameters": {"type": "object"}, '
        '"strict": true}, "x-extra": 1}'
    )
    assert '"parameters": null' in _tools_line({"type": "function", "function": {"name": "g"}})
    assert '"defer_loading": true}, "defer_loading": true}' in _tools_line(
        {"type": "function", "function": {"name": "g"}, "defer_loading": True})


@pytest.mark.parametrize(
    "tools", [[], [{"name": "bare"}], [{"type": "custom", "function": {"name": "f"}}], [{"function": {"name": 1}}]]
)
def test_vllm_refuses_tools_its_server_refuses(tools: list[Any]) -> None:
    with pytest.raises(PromptRenderError):
        render([{"role": "user", "content": "x"}], tools, template="vllm")


def test_tool_text_parts_one_result_in_0_23_one_per_part_in_the_main_branch_variant() -> None:
    messages = [{"role": "user", "content": "x"},
                {"role": "tool", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]
    assert "tool name=tools\ntool result: a\nb\n\n<end_of_sentence>" in render(messages, template="vllm")
    assert "tool result: a\n\ntool result: b\n\n<end_of_sentence>" in render(messages, template="vllm-main")


def test_vllm_merges_developer_messages_into_the_system_prompt() -> None:
    messages = [{"role": "system", "content": "S"}, {"role": "developer", "content": "D"},
                {"role": "user", "content": "x"}]
    assert "ai_setting=assistant\nS\n\nD<end_of_sentence>" in render(messages, template="vllm")
    assert "ai_setting=MiniMax AI\nS<end_of_sentence>" in render(messages, template="vllm-main")


def test_vllm_arguments_follow_the_server() -> None:
    def rendered(arguments: Any) -> str:
        call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": arguments}}
        messages = [{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": [call]}]
        return render(messages, template="vllm")

    assert '"arguments": [1, 2]}' in rendered("[1, 2]")  # the main-branch variant made this {}
    assert '"arguments": {}}' in rendered("null")
    with pytest.raises(PromptRenderError, match="not JSON"):
        rendered("{oops")
