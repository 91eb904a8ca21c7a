"""What stands between a call and its tool: the policies' decisions, and the texts the model reads.

Everything here is a plain function of its arguments. Decisions come back as values together with
the ``PolicyDecision`` events that record them, and the loop emits those events: so the transcript is
an audit log, and nothing below the loop writes to it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from m1agent.events import ApprovalRequested, PolicyDecision, PolicyStateChanged, ToolCallFinished
from m1agent.messages import AssistantMessage, Message
from m1agent.policy import Decision, EndsRun, Policy, StatefulPolicy
from m1agent.protocol.types import ParseProblem, ToolCallPart, Turn
from m1agent.session import SessionState
from m1agent.tool import ToolReturn

Approver = Callable[[ApprovalRequested], bool | Awaitable[bool]]

INTERRUPTED = (
    "error: this call was interrupted before it reported a result; it may or may not have taken effect. "
    "It was not run again: check the current state before calling it again."
)
_RANK = {"allow": 0, "ask": 1, "deny": 2}


def check_turn(
    policies: Sequence[Policy], history: Sequence[Message], open_ids: set[str], turn_index: int
) -> tuple[dict[str, Decision], list[PolicyDecision]]:
    """Every policy's whole-turn decisions on the last turn's open calls: the strictest per call
    (deny > ask > allow; allows left out), and the events recording each decision."""
    if not policies:
        return {}, []
    message = next(m for m in reversed(history) if isinstance(m, AssistantMessage))
    turn = Turn(message.thinking, message.text, message.tool_calls)
    out: dict[str, Decision] = {}
    events: list[PolicyDecision] = []
    for policy in policies:
        for call, decision in zip(message.tool_calls, policy.check_turn(turn, history), strict=False):
            if call.id not in open_ids:
                continue
            events.append(_record(turn_index, call, "turn", policy, decision))
            if _RANK[decision.action] > _RANK[out[call.id].action if call.id in out else "allow"]:
                out[call.id] = decision
    return {k: v for k, v in out.items() if v.action != "allow"}, events


def check_call(
    policies: Sequence[Policy], history: Sequence[Message], call: ToolCallPart, turn_index: int
) -> tuple[Decision, list[PolicyDecision]]:
    """The strictest decision of the policies on one call (the first denial stops the asking)."""
    strictest = Decision.allow()
    events: list[PolicyDecision] = []
    for policy in policies:
        decision = policy.check_call(call, history)
        events.append(_record(turn_index, call, "call", policy, decision))
        if _RANK[decision.action] > _RANK[strictest.action]:
            strictest = decision
        if decision.action == "deny":
            break
    return strictest, events


def after_call(policies: Sequence[Policy], call: ToolCallPart, result: ToolReturn, history: Sequence[Message]) -> None:
    """Let every policy update its state from a result (denials included), as the tool gave it."""
    for policy in policies:
        policy.after_call(call, result, history)


def state_changes(policies: Sequence[Policy], recorded: Mapping[str, Any]) -> list[PolicyStateChanged]:
    """An event for each stateful policy whose state differs from what the session last recorded."""
    out = []
    for policy in policies:
        if isinstance(policy, StatefulPolicy):
            state = policy.export_state()
            if state != recorded.get(policy.name):
                out.append(PolicyStateChanged(policy.name, state))
    return out


def run_end(policies: Sequence[Policy]) -> tuple[str, str] | None:
    """``(reason, final message)`` when a policy asks to end the run (``m1agent.policy.EndsRun``)."""
    for policy in policies:
        end = policy.run_end() if isinstance(policy, EndsRun) else None
        if end is not None:
            return end.reason, end.message
    return None


async def ask(approver: Approver, request: ApprovalRequested) -> bool:
    """The approver's answer to one request (it may answer at once or be awaited)."""
    verdict = approver(request)
    return bool(await verdict) if inspect.isawaitable(verdict) else bool(verdict)


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


def interrupted(state: SessionState, why: str | None, *, started_only: bool = True) -> list[ToolCallFinished]:
    """Results for the open calls that will not run now: those that began (``why`` it stopped, or
    ``INTERRUPTED`` after a crash) and, unless ``started_only``, those never begun."""
    out = []
    for call in state.unresolved_calls:
        began = call.id in state.started
        if began:
            text = f"error: {why}; it may or may not have taken effect." if why else INTERRUPTED
        elif started_only:
            continue
        else:
            text = "error: not run: the previous run ended before this call was made."
        out.append(ToolCallFinished(state.open_calls_turn, call.id, call.name, f"[{call.name}] {text}", "interrupted"))
    return out


def _record(turn_index: int, call: ToolCallPart, stage: str, policy: Policy, d: Decision) -> PolicyDecision:
    name = getattr(policy, "name", type(policy).__name__)
    return PolicyDecision(turn_index, call.id, call.name, stage, d.action, name, d.reason, d.rule)  # type: ignore[arg-type]


__all__ = [
    "INTERRUPTED", "Approver", "after_call", "ask", "check_call", "check_turn", "interrupted", "needs_approval",
    "problems_feedback", "run_end", "state_changes",
]
