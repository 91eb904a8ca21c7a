"""Typed history -> OpenAI messages/tools, and through ``render`` to the exact M1 prompt."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from m1agent.messages import AssistantMessage, SystemMessage, ToolResultMessage, ToolSpec, UserMessage
from m1agent.protocol import render, to_openai_messages, tools_to_openai
from m1agent.protocol.types import ToolCallPart

GOLDEN = json.loads((Path(__file__).parent / "golden" / "render_cases.json").read_text(encoding="utf-8"))
BY_NAME = {case["name"]: case for case in GOLDEN["cases"]}

WEATHER = ToolSpec(
    name="get_weather",
    description="Get weather",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def _two_call_history() -> list:
    return [
        SystemMessage("You are a helpful assistant."),
        UserMessage("Weather in Paris and Rome?"),
        AssistantMessage(
            thinking="Two cities, two calls.",
            tool_calls=(
                ToolCallPart("get_weather", {"city": "Paris"}, id="call_0_0"),
                ToolCallPart("get_weather", {"city": "Rome"}, id="call_0_1"),
            ),
        ),
        ToolResultMessage("call_0_0", "get_weather", "18C sunny"),
        ToolResultMessage("call_0_1", "get_weather", "22C cloudy"),
    ]


def test_typed_history_renders_the_golden_prompt() -> None:
    prompt = render(to_openai_messages(_two_call_history()), tools_to_openai([WEATHER]), template="vllm-main")
    assert prompt == BY_NAME["two_call_round_trip"]["expected"]


def test_typed_history_renders_in_the_models_own_form() -> None:
    prompt = render(to_openai_messages(_two_call_history()), tools_to_openai([WEATHER]))
    assert prompt.endswith(
        "<beginning_of_sentence>ai name=assistant\n<think>\nTwo cities, two calls.\n</think>\n<tool_calls>\n"
        '{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
        '{"name": "get_weather", "arguments": {"city": "Rome"}}\n'
        "</tool_calls><end_of_sentence>\n"
        "<beginning_of_sentence>tool name=tools\n"
        "tool name: get_weather\ntool result: 18C sunny\n\n"
        "tool name: get_weather\ntool result: 22C cloudy\n\n<end_of_sentence>\n"
        "<beginning_of_sentence>ai name=assistant\n"
    )


def test_system_and_user_messages() -> None:
    assert to_openai_messages([SystemMessage("s"), UserMessage("u")]) == [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u"},
    ]


def test_kept_thinking_goes_into_content_in_m1_output_form() -> None:
    [message] = to_openai_messages([AssistantMessage(text="Answer.", thinking="Reasoning.")])
    assert message == {"role": "assistant", "content": "<think>\nReasoning.\n</think>\nAnswer."}
    [plain] = to_openai_messages([AssistantMessage(text="Answer.")])
    assert plain == {"role": "assistant", "content": "Answer."}


def test_tool_calls_carry_ids_and_json_string_arguments() -> None:
    args = {"path": "src/app/models.py", "text": 'é 中文 "q" \n', "n": [1, 2.5, None]}
    [message] = to_openai_messages([AssistantMessage(tool_calls=(ToolCallPart("write", args, id="call_3_0"),))])
    assert message["content"] is None
    [call] = message["tool_calls"]
    assert call["id"] == "call_3_0" and call["type"] == "function"
    assert call["function"]["name"] == "write"
    assert call["function"]["arguments"] == json.dumps(args, ensure_ascii=False)
    assert "中文" in call["function"]["arguments"]
    assert json.loads(call["function"]["arguments"]) == args


def test_text_and_thinking_stay_beside_tool_calls() -> None:
    [message] = to_openai_messages(
        [AssistantMessage(text="Checking.", thinking="t", tool_calls=(ToolCallPart("f", {}, id="c"),))]
    )
    assert message["content"] == "<think>\nt\n</think>\nChecking."


def test_calls_without_ids_get_deterministic_ones() -> None:
    history = [
        UserMessage("q"),
        AssistantMessage(tool_calls=(ToolCallPart("f", {}), ToolCallPart("g", {}))),
        ToolResultMessage("call_0_1", "g", "G"),
        ToolResultMessage("call_0_0", "f", "F"),
        AssistantMessage(tool_calls=(ToolCallPart("h", {}),)),
    ]
    out = to_openai_messages(history)
    assert [c["id"] for c in out[1]["tool_calls"]] == ["call_0_0", "call_0_1"]
    assert [c["id"] for c in out[4]["tool_calls"]] == ["call_1_0"]


def test_tool_results_are_put_in_call_order() -> None:
    history = _two_call_history()
    history[3], history[4] = history[4], history[3]
    out = to_openai_messages(history)
    assert [m["tool_call_id"] for m in out[3:]] == ["call_0_0", "call_0_1"]
    assert [m["content"] for m in out[3:]] == ["18C sunny", "22C cloudy"]


def test_results_for_unknown_calls_keep_their_place_after_the_known_ones() -> None:
    history = [
        *_two_call_history()[:3],
        ToolResultMessage("stray", "x", "S"),
        ToolResultMessage("call_0_1", "get_weather", "R"),
        ToolResultMessage("call_0_0", "get_weather", "P"),
    ]
    out = to_openai_messages(history)
    assert [m["tool_call_id"] for m in out[3:]] == ["call_0_0", "call_0_1", "stray"]


def test_tools_to_openai_is_a_copy_in_order() -> None:
    other = ToolSpec("search", "Search", {"type": "object", "properties": {"q": {"type": "string"}}})
    tools = tools_to_openai([WEATHER, other])
    assert [t["function"]["name"] for t in tools] == ["get_weather", "search"]
    assert tools[0] == {
        "type": "function",
        "function": {"name": "get_weather", "description": "Get weather", "parameters": WEATHER.parameters},
    }
    tools[0]["function"]["parameters"]["properties"]["city"]["type"] = "integer"
    assert WEATHER.parameters["properties"]["city"]["type"] == "string"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=100, deadline=None)
@given(
    thinking=st.text(max_size=20),
    text=st.text(max_size=20),
    args=st.lists(st.dictionaries(st.text(max_size=6), json_values, max_size=4), max_size=3),
)
def test_same_history_same_bytes(thinking: str, text: str, args: list[dict]) -> None:
    def history() -> list:
        calls = tuple(ToolCallPart(f"f{i}", a) for i, a in enumerate(args))
        results = [ToolResultMessage(f"call_0_{i}", f"f{i}", f"r{i}") for i in range(len(args))]
        return [UserMessage("q"), AssistantMessage(text=text, tool_calls=calls, thinking=thinking), *results]

    first = json.dumps(to_openai_messages(history()), ensure_ascii=False)
    assert first == json.dumps(to_openai_messages(history()), ensure_ascii=False)
    converted = to_openai_messages(history())
    for call, original in zip(converted[1].get("tool_calls", []), args, strict=True):
        assert json.loads(call["function"]["arguments"]) == original
    prompt = render(converted)
    assert prompt == render(json.loads(first))
