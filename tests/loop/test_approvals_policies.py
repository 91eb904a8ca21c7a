"""Approvals (answered live, or saved and resumed later) and policies at their three points."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from loop_helpers import answer, call, calls

from m1agent import Agent, ApprovalRequested, PolicyDecision, tool
from m1agent.backends.replay import Replay
from m1agent.messages import Message, ToolResultMessage
from m1agent.policy import Decision
from m1agent.protocol.types import ToolCallPart, Turn
from m1agent.tool import ToolReturn

sent: list[str] = []


@tool(needs_approval=lambda args: args["amount"] > 100)
def pay(to: str, amount: int) -> str:
    """Send money."""
    sent.append(f"{to}:{amount}")
    return f"paid {amount} to {to}"


def results(messages: Sequence[object]) -> list[ToolResultMessage]:
    return [m for m in messages if isinstance(m, ToolResultMessage)]


async def test_approver_is_asked_only_when_the_rule_says_so() -> None:
    asked: list[ApprovalRequested] = []

    def approver(request: ApprovalRequested) -> bool:
        asked.append(request)
        return request.arguments["to"] == "ann"

    sent.clear()
    script = [calls(("pay", {"to": "bob", "amount": 5}), ("pay", {"to": "ann", "amount": 500}),
                    ("pay", {"to": "eve", "amount": 900})), answer("done")]
    result = await Agent(Replay.from_outputs(script), tools=[pay], approver=approver).run("pay")
    assert [a.arguments["to"] for a in asked] == ["ann", "eve"]
    assert sent == ["bob:5", "ann:500"]
    assert results(result.messages)[2].content == "[pay] the user did not approve this call"
    assert result.stop_reason == "completed"


async def test_pending_approval_is_saved_and_resumed_by_a_new_agent(tmp_path: Path) -> None:
    sent.clear()
    script = [calls(("pay", {"to": "bob", "amount": 5}), ("pay", {"to": "ann", "amount": 500})), answer("paid both")]
    first = Agent(Replay.from_outputs(script[:1]), tools=[pay], sessions=tmp_path)
    result = await first.run("pay", session_id="s1")
    assert result.stop_reason == "approval_pending"
    assert [p.call_id for p in result.pending_approvals] == ["call_0_1"]
    assert sent == ["bob:5"]  # the call that needed nothing ran

    # Another process, another agent object: only the session directory is shared.
    second = Agent(Replay.from_outputs(script[1:]), tools=[pay], sessions=tmp_path)
    resumed = await second.resume("s1", approvals={"call_0_1": True})
    assert resumed.stop_reason == "completed" and resumed.output == "paid both"
    assert sent == ["bob:5", "ann:500"]
    assert [r.content for r in results(resumed.messages)] == ["[pay] paid 5 to bob", "[pay] paid 500 to ann"]


class NoRefunds:
    """Denies refunds, asks before transfers over 1000, and counts what it saw."""

    def __init__(self) -> None:
        self.turns: list[int] = []
        self.after: list[str] = []

    def check_turn(self, turn: Turn, history: Sequence[Message]) -> Sequence[Decision]:
        self.turns.append(len(turn.tool_calls))
        return [Decision.deny("one refund per turn at most", "single_refund")
                if i > 0 and c.name == "refund" else Decision.allow() for i, c in enumerate(turn.tool_calls)]

    def check_call(self, call: ToolCallPart, history: Sequence[Message]) -> Decision:
        if call.name == "refund" and call.arguments.get("amount", 0) > 50:
            return Decision.deny("refunds above 50 need a manager", "refund_cap")
        return Decision.allow()

    def after_call(self, call: ToolCallPart, result: ToolReturn, history: Sequence[Message]) -> None:
        self.after.append(f"{call.name}:{result.is_error}")


async def test_policies_at_three_points_with_every_decision_an_event() -> None:
    @tool
    def refund(amount: int) -> str:
        """Refund."""
        return f"refunded {amount}"

    policy = NoRefunds()
    script = [calls(("refund", {"amount": 10}), ("refund", {"amount": 20})), call("refund", amount=99), answer("ok")]
    events = []
    async for event in Agent(Replay.from_outputs(script), tools=[refund], policies=[policy]).stream("go"):
        events.append(event)
    decisions = [(e.stage, e.call_id, e.action) for e in events if isinstance(e, PolicyDecision)]
    assert decisions == [
        ("turn", "call_0_0", "allow"), ("turn", "call_0_1", "deny"), ("call", "call_0_0", "allow"),
        ("turn", "call_1_0", "allow"), ("call", "call_1_0", "deny"),
    ]
    assert policy.turns == [2, 1]
    assert policy.after == ["refund:True", "refund:False", "refund:True"]  # denial, result, denial
    finished = [e for e in events if e.kind == "tool_call_finished"]
    assert finished[0].content == "[refund] denied by policy: one refund per turn at most"
    assert finished[2].content == "[refund] denied by policy: refunds above 50 need a manager"
    assert events[-1].stop_reason == "completed"


async def test_denials_are_bounded() -> None:
    class DenyAll:
        def check_turn(self, turn: Turn, history: Sequence[Message]) -> Sequence[Decision]:
            return [Decision.allow() for _ in turn.tool_calls]

        def check_call(self, call: ToolCallPart, history: Sequence[Message]) -> Decision:
            return Decision.deny("never")

        def after_call(self, call: ToolCallPart, result: ToolReturn, history: Sequence[Message]) -> None:
            pass

    script = [call("pay", to="x", amount=1)] * 10
    result = await Agent(Replay.from_outputs(script), tools=[pay], policies=[DenyAll()]).run("go")
    assert result.stop_reason == "retries_exhausted" and len(result.turns) == 3


async def test_a_policy_can_ask_for_approval() -> None:
    class AskBigOnes:
        def check_turn(self, turn: Turn, history: Sequence[Message]) -> Sequence[Decision]:
            return [Decision.allow() for _ in turn.tool_calls]

        def check_call(self, call: ToolCallPart, history: Sequence[Message]) -> Decision:
            if call.arguments["amount"] > 10:
                return Decision.ask("large payments need a yes", "big")
            return Decision.allow()

        def after_call(self, call: ToolCallPart, result: ToolReturn, history: Sequence[Message]) -> None:
            pass

    asked: list[str] = []

    async def approver(request: ApprovalRequested) -> bool:
        asked.append(request.reason)
        return False

    sent.clear()
    script = [calls(("pay", {"to": "a", "amount": 5}), ("pay", {"to": "b", "amount": 50})), answer("ok")]
    agent = Agent(Replay.from_outputs(script), tools=[pay], policies=[AskBigOnes()], approver=approver)
    result = await agent.run("go")
    assert asked == ["large payments need a yes"] and sent == ["a:5"]
    assert results(result.messages)[1].content == "[pay] the user did not approve this call"
