"""Reasoning-history policies: the exact bytes each request carries of earlier thoughts."""

from __future__ import annotations

from typing import Any

import pytest
from thinking_wire_helpers import all_different, serve

from m1agent import Agent, ContextChanged
from m1agent.events import SideRequest
from m1agent.thinking import ReasoningHistory, ThinkingBudget, ThinkingGovernor
from m1agent.thinking.summarize import summary_prompt

SYSTEM = "<begin_of_document><beginning_of_sentence>system ai_setting=assistant\nBe brief.<end_of_sentence>\n"
FIRST = "<think>\nThe user greets me.\n</think>\nHello."
SECOND = "<think>\nA second greeting.\n</think>\nHello again."
THIRD = "<think>\nThird time.\n</think>\nStill here."


def governed(mode: str, **history: Any) -> ThinkingGovernor:
    return ThinkingGovernor(ThinkingBudget(per_turn=1_000, answer_reserve=200),
                            history=ReasoningHistory(mode, **history), effort=None)  # type: ignore[arg-type]


async def two_runs(kind: str, mode: str, counter: Any) -> list[dict[str, Any]]:
    async with serve(kind, [FIRST, SECOND], counter) as (server, backend):
        agent = Agent(backend, "Be brief.", thinking=governed(mode))
        first = await agent.run("Hi")
        second = await agent.run("Hi again", session_id=first.session_id)
        assert second.output == "Hello again."
        return server.bodies


@pytest.mark.parametrize(("mode", "kept"), [("strip", ""), ("keep", "<think>\nThe user greets me.\n</think>\n")])
async def test_raw_request_bytes(mode: str, kept: str, counter: Any) -> None:
    bodies = await two_runs("raw", mode, counter)
    first = bodies[0]["prompt"]
    assert first.startswith(SYSTEM) and first.endswith(
        "<beginning_of_sentence>user name=user\nHi<end_of_sentence>\n<beginning_of_sentence>ai name=assistant\n"
    )
    assert bodies[1]["prompt"] == (
        first
        + f"{kept}Hello.<end_of_sentence>\n"
        + "<beginning_of_sentence>user name=user\nHi again<end_of_sentence>\n"
        + "<beginning_of_sentence>ai name=assistant\n"
    )


@pytest.mark.parametrize(("mode", "kept"), [("strip", ""), ("keep", "<think>\nThe user greets me.\n</think>\n")])
async def test_chat_request_messages(mode: str, kept: str, counter: Any) -> None:
    bodies = await two_runs("chat", mode, counter)
    assert bodies[1]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": f"{kept}Hello."},
        {"role": "user", "content": "Hi again"},
    ]


async def test_keep_last_n_keeps_only_the_latest_thought(counter: Any) -> None:
    async with serve("raw", [FIRST, SECOND, THIRD], counter) as (server, backend):
        agent = Agent(backend, "Be brief.", thinking=governed("keep_last_n", last_n=1))
        first = await agent.run("Hi")
        await agent.run("Hi again", session_id=first.session_id)
        await agent.run("And again", session_id=first.session_id)
        prompt = server.bodies[2]["prompt"]
    assert "ai name=assistant\nHello.<end_of_sentence>" in prompt
    assert "ai name=assistant\n<think>\nA second greeting.\n</think>\nHello again.<end_of_sentence>" in prompt


async def test_summarize_asks_the_runs_own_backend_once_per_thought(counter: Any) -> None:
    summaries = ["<think>\nShort.\n</think>\nGreeted the user.", "<think>\nShort.\n</think>\nGreeted again."]
    script = [FIRST, summaries[0], SECOND, summaries[1], THIRD]
    async with serve("raw", script, counter) as (server, backend):
        agent = Agent(backend, "Be brief.", thinking=governed("summarize"))
        first = await agent.run("Hi")
        second = await agent.run("Hi again", session_id=first.session_id)
        third = await agent.run("And again", session_id=first.session_id)
        bodies = server.bodies
    assert third.output == "Still here." and len(bodies) == 5 and all_different(bodies)
    # The summary requests are counted in the run that made them: run 2 paid for two requests.
    side = [e for e in agent.sessions.load(first.session_id) if isinstance(e, SideRequest)]
    assert [e.purpose for e in side] == ["thinking_summary", "thinking_summary"]
    assert side[0].usage.thinking_tokens == counter.count("<think>\nShort.\n</think>\n")
    assert second.usage.requests == 2 and second.usage.input_tokens == sum(
        counter.count(bodies[i]["prompt"]) for i in (1, 2))
    # Request 1 and 3 ask for summaries (no tools, the instruction and the thought); each thought once.
    assert summary_prompt("The user greets me.") in bodies[1]["prompt"]
    assert summary_prompt("A second greeting.") in bodies[3]["prompt"]
    last = bodies[4]["prompt"]
    assert "ai name=assistant\n<think>\nGreeted the user.\n</think>\nHello.<end_of_sentence>" in last
    assert "ai name=assistant\n<think>\nGreeted again.\n</think>\nHello again.<end_of_sentence>" in last
    # The transcript keeps the full thoughts whatever the request carried.
    assert [m.thinking for m in third.messages if getattr(m, "role", "") == "assistant"] == [
        "The user greets me.", "A second greeting.", "Third time."
    ]


async def test_switching_policy_mid_session_is_one_event(counter: Any) -> None:
    async with serve("raw", [FIRST, SECOND, THIRD, SECOND], counter) as (_server, backend):
        keep = Agent(backend, "Be brief.", thinking=governed("keep"))
        first = await keep.run("Hi")
        await keep.run("Hi again", session_id=first.session_id)
        strip = Agent(backend, "Be brief.", thinking=governed("strip"), sessions=keep.sessions)
        await strip.run("And again", session_id=first.session_id)
        last_n = Agent(backend, "Be brief.", thinking=governed("keep_last_n", last_n=2), sessions=keep.sessions)
        await last_n.run("Once more", session_id=first.session_id)
        changes = [(e.what, e.detail) for e in keep.sessions.load(first.session_id)
                   if isinstance(e, ContextChanged)]
    assert changes == [("thinking_policy", "keep"), ("thinking_policy", "strip"),
                       ("thinking_policy", "keep_last_n(2)")]
