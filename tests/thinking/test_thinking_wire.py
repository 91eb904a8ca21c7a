"""Exhaustion inside think on each backend, with each recovery, over the real wire.

Every test asserts on what the loopback server received: never the same request twice unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest
from thinking_wire_helpers import KINDS, LONG, SHORT, all_different, finish_answer, max_tokens, serve

from m1agent import Agent, ThinkingRecovery, ThinkingSpent, TurnStarted
from m1agent.events import RunEvent
from m1agent.thinking import ThinkingBudget, ThinkingGovernor
from m1agent.thinking.governor import FORCE_CLOSE


def governor(**budget: Any) -> ThinkingGovernor:
    return ThinkingGovernor(ThinkingBudget(**{"per_turn": 300, "answer_reserve": 100, **budget}), effort=None)


async def run(agent: Agent, prompt: str) -> list[RunEvent]:
    return [e async for e in agent.stream(prompt)]


@pytest.mark.parametrize("kind", KINDS)
async def test_cut_inside_think_is_retried_once_with_a_bigger_budget(kind: str, counter: Any) -> None:
    # On the raw backend force comes first; leave it out here to exercise retry there too.
    recovery = ("retry", "stop") if kind == "raw" else ("force", "retry", "stop")
    async with serve(kind, [LONG, SHORT], counter) as (server, backend):
        events = await run(Agent(backend, thinking=governor(recovery=recovery)), "What is six times seven?")
        bodies = server.bodies
    assert [max_tokens(b) for b in bodies] == [400, 800]
    assert all_different(bodies)
    recoveries = [e for e in events if isinstance(e, ThinkingRecovery)]
    assert [(r.action, r.max_tokens, r.exhaustion) for r in recoveries] == [("retry", 800, "cut_inside_think")]
    assert recoveries[0].backend_can_continue is (kind == "raw")
    if kind != "raw":  # a chat backend says why the answer was not forced
        assert "cannot be forced on a chat backend" in recoveries[0].note
    finished = events[-1]
    assert finished.kind == "run_finished" and finished.stop_reason == "completed"
    assert finished.output == "The answer is 42."
    spent = [e for e in events if isinstance(e, ThinkingSpent)]
    assert len(spent) == 2 and spent[1].turn_used == spent[0].tokens + spent[1].tokens
    if kind != "hosted":  # the whole cut output was thinking: exactly max_tokens of it, counted locally
        assert spent[0].tokens == 400
        assert spent[1].tokens == counter.count("<think>\nSix sevens.\n</think>\n")
    # The turn's usage keeps what the exhausted attempt cost.
    assert finished.usage is not None and finished.usage.thinking_tokens == spent[1].turn_used
    assert finished.usage.requests == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_stop_ends_the_run_with_what_was_produced(kind: str, counter: Any) -> None:
    async with serve(kind, [LONG], counter) as (server, backend):
        agent = Agent(backend, thinking=governor(recovery=("stop",)))
        result = await agent.run("Think hard.")
        events = [e for e in agent.sessions.load(result.session_id) if isinstance(e, ThinkingRecovery)]
        bodies = server.bodies
    assert len(bodies) == 1 and max_tokens(bodies[0]) == 400
    assert result.stop_reason == "thinking_budget_exhausted"
    assert result.turns[0].finish_reason == "length"
    assert result.turns[0].message.thinking.startswith("Let me think about this step by step.")
    assert [e.action for e in events] == ["stop"] and events[0].backend_can_continue is (kind == "raw")


async def test_force_continues_the_raw_prompt_byte_for_byte(counter: Any) -> None:
    async with serve("raw", [LONG, finish_answer], counter) as (server, backend):
        events = await run(Agent(backend, thinking=governor()), "What is six times seven?")
        bodies = server.bodies
    assert len(bodies) == 2 and all_different(bodies)
    first, second = bodies[0]["prompt"], bodies[1]["prompt"]
    assert second.startswith(first) and second.endswith(FORCE_CLOSE)
    cut = second[len(first) : -len(FORCE_CLOSE)]
    # The cut is exactly what the server generated: the longest prefix of the output within max_tokens.
    assert LONG.startswith(cut) and counter.count(cut) == 400 and counter.count(LONG[: len(cut) + 1]) > 400
    assert max_tokens(bodies[1]) == 100
    recoveries = [e for e in events if isinstance(e, ThinkingRecovery)]
    assert [(r.action, r.backend_can_continue) for r in recoveries] == [("force", True)]
    finished = events[-1]
    assert finished.kind == "run_finished" and finished.output == "The answer is 42."
    turn = next(e for e in events if e.kind == "turn_finished")
    assert turn.message.thinking == cut.removeprefix("<think>\n") and turn.message.text == "The answer is 42."
    # The thought is paid for once: 400 thinking tokens, then the answer alone.
    assert turn.usage.thinking_tokens == 400
    assert turn.usage.output_tokens == 400 + counter.count("The answer is 42.") + 1


@pytest.mark.parametrize("kind", KINDS)
async def test_thinking_closed_without_an_answer_is_retried(kind: str, counter: Any) -> None:
    empty = "<think>\nI have thought it all through.\n</think>\n"
    async with serve(kind, [empty, SHORT], counter) as (server, backend):
        events = await run(Agent(backend, thinking=governor()), "What is six times seven?")
        bodies = server.bodies
    recoveries = [e for e in events if isinstance(e, ThinkingRecovery)]
    # Force only applies to a cut thought; the closed, empty one goes straight to retry.
    assert [(r.action, r.exhaustion) for r in recoveries] == [("retry", "no_answer_after_think")]
    assert [max_tokens(b) for b in bodies] == [400, 800] and all_different(bodies)
    assert events[-1].kind == "run_finished" and events[-1].output == "The answer is 42."


async def test_turn_started_carries_the_thinking_cap(counter: Any) -> None:
    async with serve("chat", [SHORT], counter) as (_server, backend):
        events = await run(Agent(backend, thinking=governor()), "Hi")
    started = [e for e in events if isinstance(e, TurnStarted)]
    assert [(e.thinking_cap, e.max_tokens) for e in started] == [(300, 400)]
