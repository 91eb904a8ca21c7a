"""The thinking governor plugged into the loop: budgets per request, recovery when thinking ran out."""

from __future__ import annotations

from typing import Any

from m1agent import Agent, ContextChanged
from m1agent.backends import Completions
from m1agent.testing import VLLMServer
from m1agent.thinking import ThinkingBudget, ThinkingGovernor

HEADER = "<beginning_of_sentence>ai name=assistant\n"


def finish_answer(body: dict[str, Any]) -> str:
    """The scripted model picks up where the prompt's unfinished answer stops."""
    already = body["prompt"].rsplit(HEADER, 1)[-1]
    return already + "The answer is 42."


async def test_cut_off_thinking_is_closed_and_answered_on_a_raw_backend(counter: Any) -> None:
    long_thought = "<think>\n" + "Let me think about this step by step. " * 400 + "\n</think>\nThe answer is 41."
    governor = ThinkingGovernor(budget=ThinkingBudget(per_turn=300, answer_reserve=100, recovery=("force", "stop")),
                                effort=None)
    async with VLLMServer(script=[long_thought, finish_answer], counter=counter) as server:
        agent = Agent(Completions(server.base_url), thinking=governor)
        events = [e async for e in agent.stream("What is six times seven?")]
        bodies = server.bodies
    assert bodies[0]["max_tokens"] == 400  # the planned budget: thinking cap plus answer reserve
    assert bodies[1]["prompt"].endswith("\n</think>\n") and bodies[1]["max_tokens"] <= 100
    recoveries = [e for e in events if isinstance(e, ContextChanged) and e.what == "thinking_recovery"]
    assert len(recoveries) == 1 and recoveries[0].detail.startswith("force:")
    finished = events[-1]
    assert finished.kind == "run_finished" and finished.stop_reason == "completed"
    assert finished.output == "The answer is 42."
    assert finished.usage is not None and finished.usage.thinking_tokens > 250


async def test_the_run_stops_with_a_result_when_recovery_is_not_allowed(counter: Any) -> None:
    long_thought = "<think>\n" + "Still thinking. " * 400 + "\n</think>\nDone."
    governor = ThinkingGovernor(budget=ThinkingBudget(per_turn=200, answer_reserve=50, recovery=("stop",)), effort=None)
    async with VLLMServer(script=[long_thought], counter=counter) as server:
        result = await Agent(Completions(server.base_url), thinking=governor).run("Think hard.")
    assert result.stop_reason == "thinking_budget_exhausted" and len(result.turns) == 1
    assert result.turns[0].finish_reason == "length" and result.turns[0].message.thinking
