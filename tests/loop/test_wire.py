"""The loop over the real wire: loopback vLLM (chat and raw completions) and the real clients.

Prefix stability: request k+1 starts with exactly the bytes of request k (the rendered prompt for the
raw backend, the message list for the chat backend), so servers can reuse their prefix caches.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from loop_helpers import answer, call, calls

from m1agent import Agent, ContextChanged, tool
from m1agent.backends.completions import Completions
from m1agent.backends.replay import Replay
from m1agent.backends.vllm import VLLM
from m1agent.testing import VLLMServer
from m1agent.testing.cassette import Cassette, record


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"{city}: 18C, clear"


@tool
def big(n: int) -> str:
    """A long report."""
    return "row\n" * n


SCRIPT = [
    calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})),
    '<think>\nOne more, and a bad line.\n</think>\n<tool_calls>\n'
    '{"name": "get_weather", "arguments": {"city": "Oslo"}}\n'
    '{"name": "get_weather", "arguments": {"town": 1}}\n{oops\n</tool_calls>',
    call("big", n=3_000),
    answer("Paris and Rome are clear; so is Oslo."),
]


@pytest.mark.parametrize("backend_kind", ["chat", "raw"])
async def test_requests_extend_each_other_byte_for_byte(backend_kind: str, counter: Any) -> None:
    async with VLLMServer(script=list(SCRIPT), counter=counter) as server:
        backend = VLLM(server.base_url) if backend_kind == "chat" else Completions(server.base_url)
        agent = Agent(backend, instructions="Answer briefly.", tools=[get_weather, big], max_result_chars=1_000)
        result = await agent.run("Weather in Paris, Rome and Oslo?")
        bodies = server.bodies
    assert result.stop_reason == "completed", result.error
    assert result.output == "Paris and Rome are clear; so is Oslo."
    assert len(bodies) == 4
    for earlier, later in itertools.pairwise(bodies):
        if backend_kind == "raw":
            assert later["prompt"].startswith(earlier["prompt"])
        else:
            assert later["messages"][: len(earlier["messages"])] == earlier["messages"]
            assert json.dumps(later["tools"]) == json.dumps(earlier["tools"])
    assert result.usage.input_tokens > 0 and len(result.turns) == 4


async def test_a_thinking_policy_change_is_the_logged_exception(counter: Any) -> None:
    script = [answer("Clear.", thinking="Looked at the sky."), answer("Still clear."), answer("Yes.")]
    async with VLLMServer(script=script, counter=counter) as server:
        agent = Agent(Completions(server.base_url), tools=[get_weather])
        await agent.run("Oslo?", session_id="s")
        await agent.run("And now?", session_id="s")
        # the same session, now keeping earlier thinking: the prompt changes, and an event says so
        keep = Agent(Completions(server.base_url), tools=[get_weather], keep_thinking=True, sessions=agent.sessions)
        events = [e async for e in keep.stream("Sure?", session_id="s")]
        first, second, third = [b["prompt"] for b in server.bodies]
    assert second.startswith(first) and not third.startswith(second)
    assert "Looked at the sky." not in second and "Looked at the sky." in third
    changes = [e for e in events if isinstance(e, ContextChanged)]
    assert [(c.what, c.detail) for c in changes] == [("thinking_policy", "keep")]
    assert events[-1].kind == "run_finished" and events[-1].stop_reason == "completed"


async def test_record_a_real_session_and_replay_it_with_real_tools(tmp_path: Path, counter: Any) -> None:
    path = tmp_path / "weather.cassette"
    async with VLLMServer(script=list(SCRIPT), counter=counter) as server:
        recorder = record(VLLM(server.base_url), path)
        agent = Agent(recorder, "Answer briefly.", [get_weather, big], max_result_chars=1_000)
        live = await agent.run("Weather in Paris, Rome and Oslo?")
    cassette = Cassette.load(path)
    assert len(cassette.interactions) == 4 and cassette.model == "MiniMaxAI/MiniMax-M1-80k"

    replayed = await Agent(Replay(path), "Answer briefly.", [get_weather, big], max_result_chars=1_000).run(
        "Weather in Paris, Rome and Oslo?")
    assert replayed.stop_reason == "completed", replayed.error
    assert replayed.output == live.output and replayed.messages == live.messages
    assert replayed.usage == live.usage


async def test_hosted_api_run_is_priced_in_its_tier(counter: Any) -> None:
    from m1agent import PriceTable
    from m1agent.backends import MiniMax
    from m1agent.testing import MiniMaxServer

    script = [calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})), answer("Both clear.")]
    async with MiniMaxServer(script=script, api_key="k-test", counter=counter) as server:
        agent = Agent(MiniMax(api_key="k-test", host=server.host), tools=[get_weather], pricing=PriceTable.hosted_m1())
        result = await agent.run("Paris and Rome?")
        bodies = server.bodies
    assert result.stop_reason == "completed" and result.output == "Both clear.", result.error
    assert bodies[1]["messages"][: len(bodies[0]["messages"])] == bodies[0]["messages"]
    assert [m["content"] for m in bodies[1]["messages"] if m["role"] == "tool"] == [
        "[get_weather] Paris: 18C, clear", "[get_weather] Rome: 18C, clear"]
    expected = sum((t.usage.input_tokens * 0.40 + t.usage.output_tokens * 2.20) / 1e6 for t in result.turns)
    assert result.usage.input_tokens > 0 and result.cost == pytest.approx(expected)
    assert "k-test" not in repr(agent.backend) and "k-test" not in str(result)
