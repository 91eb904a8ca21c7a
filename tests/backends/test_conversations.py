"""Every backend gives the same turn for the same scripted M1 output, whatever its server does with it."""

from __future__ import annotations

from typing import Any

import pytest

from m1agent.messages import AssistantMessage, ToolResultMessage
from m1agent.protocol import parse
from m1agent.protocol.types import TextDelta, ThinkingDelta, ToolCallDone, ToolCallStart, Turn

from .conftest import Pair, ask, run

PLAIN = "<think>\nThe user greets me; answer briefly.\n</think>\nHello! How can I help you today?"
ONE_CALL = (
    "<think>\nI need the weather first.\n</think>\n<tool_calls>\n"
    '{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_calls>'
)
TWO_CALLS = (
    "<think>\nTwo cities, so two calls.\n</think>\nLet me check both.\n<tool_calls>\n"
    '{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
    '{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_calls>'
)
IN_THINKING = (
    "<think>\nMaybe <tool_calls>\n"
    '{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_calls>\n'
    "no: the user already told me.\n</think>\nIt is sunny in Oslo, as you said."
)
MALFORMED = (
    "<think>\nTwo calls.\n</think>\n<tool_calls>\n"
    '{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
    '{"name": "get_weather", "arguments": {"city": Rome}}\n</tool_calls>'
)
UNICODE = (
    "<think>\n用户想知道天气 — Zürich ☀️, naïve café\n</think>\nVoilà, je vérifie 東京 🌧…\n<tool_calls>\n"
    '{"name": "get_weather", "arguments": {"city": "Zürich 東京 🌧", "note": "€ ± «»"}}\n</tool_calls>'
)


def same_turn(got: Turn, raw: str) -> None:
    """``got`` says what our own parser says about the raw output (problem details may differ)."""
    want = parse(raw)
    assert got.thinking == want.thinking
    assert got.text == want.text
    assert [(c.name, c.arguments, c.id) for c in got.tool_calls] == [
        (c.name, c.arguments, c.id) for c in want.tool_calls
    ]
    assert got.problem_kinds == want.problem_kinds


@pytest.mark.parametrize(
    "raw, finish",
    [
        pytest.param(PLAIN, "stop", id="plain"),
        pytest.param(ONE_CALL, "tool_calls", id="one-call"),
        pytest.param(TWO_CALLS, "tool_calls", id="two-parallel-calls"),
        pytest.param(IN_THINKING, "stop", id="call-in-thinking-ignored"),
        pytest.param(MALFORMED, "tool_calls", id="malformed-line-reported"),
        pytest.param(UNICODE, "tool_calls", id="unicode"),
    ],
)
async def test_scripted_turns(pair: Pair, counter: Any, raw: str, finish: str) -> None:
    async with pair.server([raw], counter) as server:
        backend = pair.backend(server)
        deltas, response = await run(backend, ask())
        await backend.aclose()
    same_turn(response.turn, raw)
    assert response.finish_reason == finish
    # The deltas tell the same story as the final turn, thinking split off from the text.
    assert "".join(d.text for d in deltas if isinstance(d, ThinkingDelta)) == response.turn.thinking
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == response.turn.text
    assert "<think>" not in response.turn.text and "</think>" not in response.turn.text
    done = [d.call for d in deltas if isinstance(d, ToolCallDone)]
    assert done == list(response.turn.tool_calls)
    started = {d.index for d in deltas if isinstance(d, ToolCallStart)}
    assert all(int(c.id.rsplit("_", 1)[1]) in started for c in done)
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert server.remaining == 0


async def test_multi_turn_with_tool_results(pair: Pair, counter: Any) -> None:
    answer = "<think>\nBoth results are in.\n</think>\nParis: 18C and sunny. Rome: 22C and cloudy."
    async with pair.server([TWO_CALLS, answer], counter) as server:
        backend = pair.backend(server)
        first = ask("Weather in Paris and Rome?")
        _, response = await run(backend, first)
        calls = response.turn.tool_calls
        assert [c.arguments["city"] for c in calls] == ["Paris", "Rome"]
        history = [
            *first.messages,
            AssistantMessage(text=response.turn.text, tool_calls=calls),
            # Results arrive out of order; they must go back in call order.
            ToolResultMessage(calls[1].id, "get_weather", "get_weather(Rome): 22C cloudy"),
            ToolResultMessage(calls[0].id, "get_weather", "get_weather(Paris): 18C sunny"),
        ]
        _, final = await run(backend, ask(*history, turn_index=1))
        await backend.aclose()
    assert final.turn.text == "Paris: 18C and sunny. Rome: 22C and cloudy."
    assert final.finish_reason == "stop"
    one, two = server.bodies
    if pair.kind == "completions":
        # The first prompt is a prefix of the second: nothing earlier was re-rendered differently.
        assert two["prompt"].startswith(one["prompt"])
        paris, rome = two["prompt"].index("18C sunny"), two["prompt"].index("22C cloudy")
    else:
        assert two["messages"][: len(one["messages"])] == one["messages"]
        results = [m for m in two["messages"] if m["role"] == "tool"]
        assert [r["tool_call_id"] for r in results] == [calls[0].id, calls[1].id]
        text = str(two["messages"])
        paris, rome = text.index("18C sunny"), text.index("22C cloudy")
    assert paris < rome
    assert one["temperature"] == 1.0 and one["top_p"] == 0.95


async def test_requests_carry_explicit_limits_and_never_require_a_tool(pair: Pair, counter: Any) -> None:
    async with pair.server([PLAIN], counter) as server:
        backend = pair.backend(server)
        await run(backend, ask(extra_body={"tool_choice": "required"}))
        await backend.aclose()
    (body,) = server.bodies
    assert body.get("tool_choice") in (None, "auto")
    if pair.kind == "minimax":
        assert body["max_completion_tokens"] == 40_000
    else:
        assert body["max_tokens"] == 40_000
    if pair.kind == "completions":
        assert body["stop"][:2] == ["<end_of_sentence>", "<beginning_of_sentence>"]
        assert body["skip_special_tokens"] is False
        assert "tools" not in body
