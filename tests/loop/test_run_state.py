"""Per-run state lives in the session, one owner retries, errors stay typed, and a stream hands back its result.

Each test drives the real loop against the loopback servers of ``m1agent.testing`` over real sockets.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from loop_helpers import answer, call

from m1agent import Agent, RunFinished, ToolReturn, TurnStarted, tool
from m1agent.backends import VLLM, Completions, MiniMax, RetryPolicy
from m1agent.errors import AuthenticationFailed, InsufficientBalance, ServerError
from m1agent.testing import MiniMaxServer, VLLMServer
from m1agent.testing.faults import Fault
from m1agent.thinking import ThinkingBudget, ThinkingGovernor

KEY = "sk-test-0123456789"
FAST = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.02)


def thought(tokens_about: int) -> str:
    return "Checking the numbers once more. " * (tokens_about // 6)


THOUGHT = thought(600)


def thinking_of(counter: Any, text: str = THOUGHT) -> int:
    """The thinking tokens of ``text`` as the loopback server counts them (exact, or the estimate)."""
    return int(counter.count(f"<think>\n{text.strip()}\n</think>\n"))


def governor(per_turn: int, per_run: int) -> ThinkingGovernor:
    return ThinkingGovernor(ThinkingBudget(per_turn=per_turn, per_run=per_run, answer_reserve=200), effort=None)


async def test_three_runs_of_one_agent_each_get_the_whole_per_run_budget(counter: Any) -> None:
    # Each run thinks n tokens under a per-run budget of 2.5 n: a governor that kept a tally across
    # runs starved the third.
    n = thinking_of(counter)
    script = [answer(f"Answer {i}.", thinking=THOUGHT) for i in range(3)]
    policy = governor(per_turn=2 * n, per_run=5 * n // 2)
    async with VLLMServer(script=script, counter=counter) as server:
        agent = Agent(Completions(server.base_url), thinking=policy)
        results = [await agent.run(f"Question {i}") for i in range(3)]
    assert [r.stop_reason for r in results] == ["completed"] * 3
    assert [r.usage.thinking_tokens for r in results] == [n] * 3
    assert policy == governor(per_turn=2 * n, per_run=5 * n // 2)  # configuration, left as it was


async def test_two_concurrent_runs_do_not_share_a_thinking_tally(counter: Any) -> None:
    n = thinking_of(counter)
    script = [answer("A.", thinking=THOUGHT), answer("B.", thinking=THOUGHT)]
    async with VLLMServer(script=script, counter=counter) as server:
        agent = Agent(Completions(server.base_url), thinking=governor(per_turn=2 * n, per_run=3 * n // 2))
        first, second = await asyncio.gather(agent.run("one"), agent.run("two"))
    assert first.completed and second.completed


async def test_a_resumed_run_continues_from_the_thinking_its_transcript_holds(counter: Any, tmp_path: Path) -> None:
    @tool(needs_approval=True)
    def deploy(target: str) -> str:
        """Deploy to a target."""
        return f"deployed to {target}"

    n = thinking_of(counter)
    per_turn, per_run = 2 * n, 5 * n // 2
    script = [call("deploy", target="prod").replace("I will use tools.", THOUGHT), answer("Deployed.")]
    async with VLLMServer(script=script, counter=counter) as server:
        first = await Agent(Completions(server.base_url), tools=[deploy], thinking=governor(per_turn, per_run),
                            sessions=tmp_path).run("Deploy it.")
        assert first.stop_reason == "approval_pending"
        spent = first.usage.thinking_tokens
        assert spent == n
        # A new process: a new agent, a new governor, the same session directory.
        again = Agent(Completions(server.base_url), tools=[deploy], thinking=governor(per_turn, per_run),
                      sessions=tmp_path)
        events = [e async for e in again.stream(None, session_id=first.session_id,
                                                approvals={first.pending_approvals[0].call_id: True})]
    started = [e for e in events if isinstance(e, TurnStarted)]
    assert started[-1].thinking_cap == per_run - spent  # what was left, not a fresh budget
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.stop_reason == "completed"


async def test_a_failing_server_gets_one_plus_max_retries_requests_per_turn(counter: Any) -> None:
    faults = {n: Fault.server_error(500) for n in range(20)}
    async with VLLMServer(script=[answer("never")], faults=faults, counter=counter) as server:
        result = await Agent(Completions(server.base_url, retry=FAST)).run("Hi")
        sent = len(server.bodies)
    assert sent == 1 + FAST.max_retries == 3
    assert result.stop_reason == "backend_error" and result.error
    assert isinstance(result.exception, ServerError) and result.exception.attempts == 3
    assert result.usage.requests == 3


@pytest.mark.parametrize(("code", "error"), [(1004, AuthenticationFailed), (1008, InsufficientBalance)])
async def test_hosted_errors_come_back_typed(code: int, error: type[Exception], counter: Any) -> None:
    async with MiniMaxServer([answer("x")], faults={0: Fault.base_resp(code)}, api_key=KEY, counter=counter) as server:
        result = await Agent(MiniMax(api_key=KEY, host=server.host, retry=FAST)).run("Hi")
    assert result.stop_reason == "backend_error"
    assert isinstance(result.exception, error) and str(result.exception) == result.error
    assert KEY not in result.error


async def test_thinking_is_counted_without_a_governor(counter: Any) -> None:
    thinking = thought(166)
    expected = thinking_of(counter, thinking)
    for make in (VLLM, Completions):
        async with VLLMServer(script=[answer("Hi.", thinking=thinking)], counter=counter) as server:
            result = await Agent(make(server.base_url)).run("Hi")
        assert result.usage.thinking_tokens == pytest.approx(expected, abs=8), make.__name__


async def test_a_tool_that_reports_a_timeout_is_feedback_not_the_end_of_the_run(counter: Any) -> None:
    @tool(max_retries=0)
    def run_shell(command: str, timeout: float = 30) -> ToolReturn:
        """Run a command."""
        return ToolReturn(f"timed out after {timeout:g} s", is_error=True, metadata={"timed_out": True})

    @tool(max_retries=0, timeout=0.2)
    async def slow() -> str:
        """Takes its time."""
        await asyncio.sleep(30)
        return "never"

    script = [call("run_shell", command="sleep 100", timeout=2), call("slow"), call("run_shell", command="true"),
              answer("It timed out; I stopped there.")]
    async with VLLMServer(script=script, counter=counter) as server:
        result = await Agent(Completions(server.base_url), tools=[run_shell, slow]).run("Sleep.")
    assert result.stop_reason == "completed", result.error
    statuses = [m.is_error for m in result.messages if getattr(m, "role", "") == "tool"]
    assert statuses == [True, True, True]


async def test_a_bad_call_still_counts_toward_max_retries(counter: Any) -> None:
    @tool(max_retries=0)
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    script = [call("add", a="x", b=2), call("add", a="y", b=2), answer("?")]
    async with VLLMServer(script=script, counter=counter) as server:
        result = await Agent(Completions(server.base_url), tools=[add]).run("Add.")
    assert result.stop_reason == "retries_exhausted" and "add" in result.error


async def test_stream_ends_with_the_run_result(counter: Any) -> None:
    async with VLLMServer(script=[call("add", a=1, b=2), answer("3")], counter=counter) as server:

        @tool
        def add(a: int, b: int) -> int:
            """Add."""
            return a + b

        events = [e async for e in Agent(Completions(server.base_url), tools=[add]).stream("1+2?")]
    last = events[-1]
    assert isinstance(last, RunFinished) and last.result is not None
    assert last.result.output == "3" and last.result.completed and last.result.tool_calls == 1
    assert last.result.exception is None


async def test_policies_and_results_keep_the_tools_own_return(counter: Any, tmp_path: Path) -> None:
    from m1agent.policy import Decision

    seen: list[ToolReturn] = []

    class Recorder:
        name = "recorder"

        def check_turn(self, turn: Any, history: Any) -> list[Decision]:
            return [Decision.allow() for _ in turn.tool_calls]

        def check_call(self, call: Any, history: Any) -> Decision:
            return Decision.allow()

        def after_call(self, call: Any, result: ToolReturn, history: Any) -> None:
            seen.append(result)

    @tool
    def build(target: str) -> ToolReturn:
        """Build a target."""
        return ToolReturn("make: *** No rule", is_error=True, metadata={"exit_code": 2})

    async with VLLMServer(script=[call("build", target="all"), answer("It failed.")], counter=counter) as server:
        result = await Agent(Completions(server.base_url), tools=[build], policies=[Recorder()],
                             sessions=tmp_path).run("Build.")
    assert result.completed
    assert seen == [ToolReturn("make: *** No rule", is_error=True, metadata={"exit_code": 2})]
    tool_message = next(m for m in result.messages if getattr(m, "role", "") == "tool")
    assert tool_message.content == "[build] error: make: *** No rule"  # formatted once, for the model
    # and the typed facts reach the transcript, read back as written
    from m1agent.events import ToolCallFinished
    from m1agent.session import SessionStore

    events = [e for e in SessionStore(tmp_path).load(result.session_id) if isinstance(e, ToolCallFinished)]
    assert [(e.status, e.metadata) for e in events] == [("error", {"exit_code": 2})]


class OncePerConversation:
    """A stateful policy: ``refund`` may run once per conversation."""

    name = "once"

    def __init__(self, used: int = 0) -> None:
        self.used = used

    def for_session(self, state: Any) -> OncePerConversation:
        return OncePerConversation(int((state or {}).get("used", 0)))

    def export_state(self) -> dict[str, Any]:
        return {"used": self.used}

    def check_turn(self, turn: Any, history: Any) -> list[Any]:
        from m1agent.policy import Decision

        return [Decision.allow() for _ in turn.tool_calls]

    def check_call(self, call: Any, history: Any) -> Any:
        from m1agent.policy import Decision

        return Decision.deny("a refund was already sent") if self.used else Decision.allow()

    def after_call(self, call: Any, result: ToolReturn, history: Any) -> None:
        if not result.is_error:
            self.used += 1


@tool(needs_approval=True)
def refund(order: str) -> str:
    """Refund an order."""
    return f"refunded {order}"


async def test_policy_state_is_the_sessions_and_survives_a_resume(counter: Any, tmp_path: Path) -> None:
    policy = OncePerConversation()
    script = [call("refund", order="A"), answer("Refunded."),  # session 1, first run
              call("refund", order="B"), answer("Refunded B."),  # session 2: its own state, so allowed
              call("refund", order="A2"), answer("A was refunded before.")]  # session 1 after a restart: denied
    async with VLLMServer(script=script, counter=counter) as server:
        agent = Agent(Completions(server.base_url), tools=[refund], policies=[policy], sessions=tmp_path,
                      approver=lambda _request: True)
        first = await agent.run("Refund A.")
        other = await agent.run("Refund B.")
        assert first.completed and other.completed and policy.used == 0  # the agent's policy is never touched
        restarted = Agent(Completions(server.base_url), tools=[refund], policies=[OncePerConversation()],
                          sessions=tmp_path)
        again = await restarted.run("Refund A again.", session_id=first.session_id, limits=None)
    assert again.completed
    denied = [m for m in again.messages if getattr(m, "name", "") == "refund"][-1]
    assert "a refund was already sent" in denied.content
    assert [m.content for m in other.messages if getattr(m, "name", "") == "refund"] == ["[refund] refunded B"]
