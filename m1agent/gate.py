"""What stands between a call and its tool: policies at their three points, and approvals.

Every decision becomes an event (so the transcript is an audit log), and a denial becomes the call's
result, written for the model to act on. Also here: the texts the model reads about calls that were
interrupted and about output that could not be read.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from m1agent.events import ApprovalRequested, ApprovalResolved, PolicyDecision, RunEvent
from m1agent.messages import AssistantMessage
from m1agent.policy import Decision, Policy
from m1agent.protocol.types import ParseProblem, ToolCallPart, Turn
from m1agent.session import SessionState
from m1agent.tool import ToolReturn

Approver = Callable[[ApprovalRequested], bool | Awaitable[bool]]

INTERRUPTED = (
    "error: this call was interrupted before it reported a result; it may or may not have taken effect. "
    "It was not run again: check the current state before calling it again."
)
_RANK = {"allow": 0, "ask": 1, "deny": 2}


class Gate:
    """Policies and the approver of one run, reading and extending its state through ``emit``."""

    def __init__(
        self, policies: Sequence[Policy], approver: Approver | None, state: SessionState,
        emit: Callable[[RunEvent], None],
    ) -> None:
        self.policies, self.approver, self.state, self.emit = policies, approver, state, emit

    def check_turn(self, turn_index: int) -> dict[str, Decision]:
        """Every policy's whole-turn decisions for the open calls; the strictest per call (deny > ask > allow)."""
        if not self.policies:
            return {}
        message = next(m for m in reversed(self.state.history) if isinstance(m, AssistantMessage))
        turn = Turn(message.thinking, message.text, message.tool_calls)
        open_ids = {c.id for c in self.state.unresolved_calls}
        out: dict[str, Decision] = {}
        for policy in self.policies:
            for call, decision in zip(message.tool_calls, policy.check_turn(turn, self.state.history), strict=False):
                if call.id not in open_ids:
                    continue
                self._record(turn_index, call, "turn", policy, decision)
                if _RANK[decision.action] > _RANK[out[call.id].action if call.id in out else "allow"]:
                    out[call.id] = decision
        return {k: v for k, v in out.items() if v.action != "allow"}

    def check_call(self, turn_index: int, call: ToolCallPart) -> Decision:
        """The strictest decision of the policies on one call (the first denial stops the asking)."""
        strictest = Decision.allow()
        for policy in self.policies:
            decision = policy.check_call(call, self.state.history)
            self._record(turn_index, call, "call", policy, decision)
            if _RANK[decision.action] > _RANK[strictest.action]:
                strictest = decision
            if decision.action == "deny":
                break
        return strictest

    def after_call(self, call: ToolCallPart, content: str, is_error: bool) -> None:
        """Let every policy update its state from a result (denials included)."""
        for policy in self.policies:
            policy.after_call(call, ToolReturn(content, is_error), self.state.history)

    def run_end(self) -> tuple[str, str] | None:
        """``(reason, final message)`` when a policy asks to end the run (``m1agent.policy.EndsRun``)."""
        for policy in self.policies:
            ask = getattr(policy, "run_end", None)
            end = ask() if callable(ask) else None
            if end is not None:
                return getattr(end, "reason", ""), getattr(end, "message", "") or ""
        return None

    async def approval(self, turn_index: int, call: ToolCallPart, reason: str) -> tuple[bool, str] | None:
        """``(approved, note)`` from an earlier answer or the approver; ``None`` while nobody answered."""
        st = self.state
        if call.id in st.decisions:
            answer = st.decisions[call.id]
            return answer.approved, f": {answer.reason}" if answer.reason else ""
        request = st.approvals.get(call.id)
        if request is None:
            request = ApprovalRequested(turn_index, call.id, call.name, call.arguments, reason)
            self.emit(request)
        if self.approver is None:
            return None
        verdict = self.approver(request)
        approved = bool(await verdict) if inspect.isawaitable(verdict) else bool(verdict)
        self.emit(ApprovalResolved(call.id, approved))
        return approved, ""

    def _record(self, turn_index: int, call: ToolCallPart, stage: str, policy: Policy, d: Decision) -> None:
        name = getattr(policy, "name", type(policy).__name__)
        self.emit(PolicyDecision(turn_index, call.id, call.name, stage, d.action, name, d.reason, d.rule))  # type: ignore[arg-type]


def needs_approval(rule: Any, arguments: dict[str, Any]) -> bool:
    """Whether a tool's ``needs_approval`` (a bool or a callable of the arguments) asks for approval."""
    return bool(rule(arguments)) if callable(rule) else bool(rule)


def problems_feedback(problems: Sequence[ParseProblem]) -> str:
    """What the model reads about output that could not be read as calls: each problem, then the format."""
    lines = ["Part of your last answer could not be used:"]
    for p in problems:
        raw = f" Offending text: {p.raw[:400]!r}" if p.raw else ""
        lines.append(f"- {p.detail}{raw}")
    lines.append(
        'Write each tool call on its own line inside <tool_calls>...</tool_calls> as '
        '{"name": "<tool>", "arguments": {...}} with arguments a JSON object, after closing </think>.'
    )
    return "\n".join(lines)


__all__ = ["INTERRUPTED", "Approver", "Gate", "needs_approval", "problems_feedback"]
