"""Feedback, not crashes: every kind of bad call reaches the model as something it can act on."""

from __future__ import annotations

import asyncio

from loop_helpers import answer, call, calls

from m1agent import Agent, Limits, RetryFeedback, tool
from m1agent.backends.replay import Replay
from m1agent.errors import ModelRetry
from m1agent.messages import ToolResultMessage, UserMessage


@tool
def add(a: int, b: int) -> str:
    """Add two integers."""
    return str(a + b)


@tool(timeout=0.2)
async def slow() -> str:
    """Never finishes in time."""
    await asyncio.sleep(10)
    return "late"


@tool
def boom(reason: str) -> str:
    """Fails."""
    raise RuntimeError(f"disk on fire: {reason}")


def results(messages: list[object]) -> list[ToolResultMessage]:
    return [m for m in messages if isinstance(m, ToolResultMessage)]


async def test_bad_arguments_unknown_tool_raise_and_timeout_are_fed_back() -> None:
    script = [
        calls(("add", {"a": "x", "b": 2}), ("subtract", {"a": 1}), ("boom", {"reason": "r"}), ("slow", {})),
        call("add", a=1, b=2),
        answer("3"),
    ]
    result = await Agent(Replay.from_outputs(script), tools=[add, slow, boom]).run("add")
    assert result.stop_reason == "completed" and result.output == "3"
    first = results(result.messages)[:4]
    assert [r.name for r in first] == ["add", "subtract", "boom", "slow"]  # call order
    assert all(r.is_error for r in first)
    assert first[0].content.startswith("[add] error: Invalid arguments for add:\n- a: Input should be a valid integer")
    assert '"required": ["a", "b"]' in first[0].content  # the schema is given
    assert "Unknown tool 'subtract'" in first[1].content and "add, boom" in first[1].content
    assert first[2].content == "[boom] error: RuntimeError: disk on fire: r"
    assert "did not finish within 0.2 seconds" in first[3].content
    assert results(result.messages)[4].content == "[add] 3"


async def test_parse_problems_become_a_user_message_and_the_run_goes_on() -> None:
    bad = (
        '<think>\nhmm\n</think>\n<tool_calls>\n{"name": "add", "arguments": {"a": 1, "b": 2}\n'
        '{"arguments": {}}\n</tool_calls>'
    )
    events = []
    agent = Agent(Replay.from_outputs([bad, answer("ok")]), tools=[add])
    async for event in agent.stream("go"):
        events.append(event)
    feedback = [e for e in events if isinstance(e, RetryFeedback) and e.in_history]
    assert feedback and feedback[0].tool == ""
    finished = events[-1]
    assert finished.kind == "run_finished" and finished.stop_reason == "completed"
    state = agent.load_state(events[0].session_id)
    notes = [m for m in state.history if isinstance(m, UserMessage) and "could not be used" in m.content]
    assert len(notes) == 1 and "<tool_calls>" in notes[0].content


async def test_retries_are_bounded_per_tool_and_do_not_use_up_turns() -> None:
    # Two failed calls of add are retries: with max_turns=2 the run still reaches its answer.
    script = [call("add", a="x", b=1), call("add", a="y", b=1), call("add", a=1, b=1), answer("2")]
    result = await Agent(Replay.from_outputs(script), tools=[add], limits=Limits(max_turns=2)).run("go")
    assert result.stop_reason == "completed" and len(result.turns) == 4

    # A third consecutive failure exceeds max_retries=2: the run ends with a result, not an exception.
    script = [call("add", a="x", b=1)] * 3 + [answer("never")]
    result = await Agent(Replay.from_outputs(script), tools=[add]).run("go")
    assert result.stop_reason == "retries_exhausted" and "add failed 3 times" in result.error


async def test_model_retry_and_an_error_are_never_hidden_by_capping() -> None:
    @tool
    def fussy(n: int) -> str:
        """Wants n > 1."""
        if n < 2:
            raise ModelRetry("n must be at least 2; try n=2")
        raise ValueError("x" * 50_000 + " REAL CAUSE")

    script = [call("fussy", n=1), call("fussy", n=2), answer("done")]
    result = await Agent(Replay.from_outputs(script), tools=[fussy], max_result_chars=2_000).run("go")
    first, second = results(result.messages)
    assert first.content == "[fussy] error: n must be at least 2; try n=2"
    assert second.content.startswith("[fussy] error: ValueError: xxx")
    assert second.content.endswith("REAL CAUSE") and len(second.content) < 2_300
    finished = [e for e in result.turns]
    assert len(finished) == 3


async def test_made_up_tool_names_share_one_bound() -> None:
    script = [call(f"invented_{i}") for i in range(10)]
    result = await Agent(Replay.from_outputs(script), tools=[add], limits=Limits(max_format_retries=3)).run("go")
    assert result.stop_reason == "retries_exhausted" and len(result.turns) == 4
    assert "<unknown tools> failed 4 times" in result.error
