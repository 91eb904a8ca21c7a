"""Everything a run does, as typed events on one stream: for UIs, tracing and the session transcript.

Each event is a small frozen dataclass with a ``kind`` tag. The model's streamed deltas
(``ThinkingDelta``, ``TextDelta``, ``ToolCallStart``…) are events too, as the protocol defines them.
The session transcript is these events, one JSON object a line; a run's context is rebuilt from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from m1agent.messages import AssistantMessage, Message
from m1agent.protocol.types import FinishReason, ParseProblem, StreamDelta
from m1agent.usage import Usage

StopReason = Literal[
    "completed", "max_turns", "max_tool_calls", "max_tokens", "max_cost", "max_wall_time", "cancelled",
    "approval_pending", "retries_exhausted", "backend_error", "thinking_budget_exhausted", "policy_end",
    "error", "running",
]
"""Why a run ended (``running`` while it has not): a limit's name, the model's answer (``completed``),
a pending approval, a failing backend or tool, the thinking budget, a policy, or a bug (``error``)."""

CallStatus = Literal[
    "ok", "error", "invalid_arguments", "unknown_tool", "failed", "timeout", "retry", "denied", "interrupted"
]
"""What became of a call. ``error`` is a result the tool itself reported as failed (a non-zero exit, a
command that timed out inside the tool); ``failed`` means the tool raised; ``timeout`` that the run's
own time limit for the call cancelled it."""

BAD_CALL_STATUSES: frozenset[str] = frozenset({"invalid_arguments", "unknown_tool", "failed", "retry", "denied"})
"""Statuses that count as one more consecutive bad call of a tool, toward its ``max_retries``. A tool that
ran and reported an error, or ran out of time, did its job: the model reads the result and goes on."""


@dataclass(frozen=True, slots=True)
class RunStarted:
    """A run began (or resumed). A new session's first run puts ``instructions`` first in history."""

    run_id: str
    session_id: str
    prompt: str | None = None
    instructions: str = ""
    resumed: bool = False
    kind: Literal["run_started"] = "run_started"


@dataclass(frozen=True, slots=True)
class TurnStarted:
    """A request is about to go to the model."""

    turn_index: int
    messages: int
    max_tokens: int | None = None
    # The turn's thinking cap when a thinking governor runs: a UI counts ThinkingDelta against it.
    thinking_cap: int | None = None
    kind: Literal["turn_started"] = "turn_started"


@dataclass(frozen=True, slots=True)
class TurnFinished:
    """The model answered. ``message`` keeps the full thinking; what later requests see is policy."""

    turn_index: int
    message: AssistantMessage
    usage: Usage
    finish_reason: FinishReason
    problems: tuple[ParseProblem, ...] = ()
    cost: float | None = None
    model: str = ""
    # The part of ``cost`` spent on ``usage.thinking_tokens`` (``None`` when the model has no price).
    thinking_cost: float | None = None
    kind: Literal["turn_finished"] = "turn_finished"


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """A tool is about to be invoked. Without a matching finish, the call may have run."""

    turn_index: int
    call_id: str
    name: str
    arguments: dict[str, Any]
    kind: Literal["tool_call_started"] = "tool_call_started"


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    """A call has its result. ``content`` is exactly what the model reads; ``output_id`` names the
    saved full text when it was cut. ``status`` is ``ok``, a failure kind, ``denied`` or ``interrupted``.
    ``metadata`` holds the tool's own typed facts (``exit_code``, ``timed_out``...), its plain values only."""

    turn_index: int
    call_id: str
    name: str
    content: str
    status: CallStatus = "ok"
    output_id: str = ""
    elapsed: float = 0.0
    metadata: dict[str, str | int | float | bool | None] = field(default_factory=dict)
    kind: Literal["tool_call_finished"] = "tool_call_finished"

    @property
    def is_error(self) -> bool:
        return self.status != "ok"


@dataclass(frozen=True, slots=True)
class ApprovalRequested:
    """A call waits for a person's yes or no."""

    turn_index: int
    call_id: str
    name: str
    arguments: dict[str, Any]
    reason: str = ""
    kind: Literal["approval_requested"] = "approval_requested"


@dataclass(frozen=True, slots=True)
class ApprovalResolved:
    """The answer to an approval request."""

    call_id: str
    approved: bool
    reason: str = ""
    kind: Literal["approval_resolved"] = "approval_resolved"


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """What a policy said of a call, at ``stage`` ``turn`` (whole turn) or ``call``."""

    turn_index: int
    call_id: str
    name: str
    stage: Literal["turn", "call"]
    action: Literal["allow", "deny", "ask"]
    policy: str = ""
    reason: str = ""
    rule: str = ""
    kind: Literal["policy_decision"] = "policy_decision"


@dataclass(frozen=True, slots=True)
class PolicyStateChanged:
    """A policy's memory of the conversation changed (``m1agent.policy.StatefulPolicy``); ``state`` is
    all of it, so the last one per policy is what a resumed run starts from."""

    policy: str
    state: dict[str, Any]
    kind: Literal["policy_state_changed"] = "policy_state_changed"


@dataclass(frozen=True, slots=True)
class RetryFeedback:
    """The model got feedback to act on, and the retry count of ``tool`` went up.

    ``tool`` is empty for output that could not be read as a call (a parse problem); that feedback
    reaches the model as a user message, so ``in_history`` is true and ``message`` is its text.
    """

    turn_index: int
    tool: str
    reason: str
    attempt: int
    max_retries: int
    message: str = ""
    in_history: bool = False
    kind: Literal["retry_feedback"] = "retry_feedback"


@dataclass(frozen=True, slots=True)
class LimitHit:
    """A limit ended the run."""

    limit: Literal["max_turns", "max_tool_calls", "max_tokens", "max_cost", "max_wall_time", "thinking_budget"]
    used: float
    maximum: float
    kind: Literal["limit_hit"] = "limit_hit"


@dataclass(frozen=True, slots=True)
class ContextChanged:
    """A deliberate change to what the model sees (compaction, thinking policy, thinking recovery).

    These are the only events after which a request may not extend the previous one byte for byte.
    ``messages``, when set, replaces the history.
    """

    what: Literal["compaction", "thinking_policy", "thinking_recovery"]
    detail: str
    messages: list[Message] | None = None
    kind: Literal["context_changed"] = "context_changed"


@dataclass(frozen=True, slots=True)
class ThinkingSpent:
    """One generation's thinking, counted (as the server reported it, else with the exact M1 counter).

    ``turn_used`` is the turn's thinking so far (a recovery adds generations), ``run_used`` the run's;
    ``run_limit`` is ``None`` without a per-run budget.
    """

    turn_index: int
    tokens: int
    turn_used: int
    thinking_cap: int
    run_used: int
    run_limit: int | None = None
    kind: Literal["thinking_spent"] = "thinking_spent"


@dataclass(frozen=True, slots=True)
class ThinkingRecovery:
    """A turn's thinking used up its budget before an answer came, and what is done about it.

    ``action`` is ``force`` (the think block is closed and the same generation continued), ``retry``
    (asked again with a bigger output budget, ``max_tokens``) or ``stop``. ``backend_can_continue`` is
    false on chat backends, where forcing the answer is impossible; ``note`` then says so.
    """

    turn_index: int
    action: Literal["force", "retry", "stop"]
    note: str
    backend_can_continue: bool
    exhaustion: str = ""
    max_tokens: int | None = None
    kind: Literal["thinking_recovery"] = "thinking_recovery"


@dataclass(frozen=True, slots=True)
class SideRequest:
    """A request the run made besides its turns (a summary of an earlier thought): counted in the usage."""

    purpose: str
    usage: Usage
    cost: float | None = None
    model: str = ""
    kind: Literal["side_request"] = "side_request"


@dataclass(frozen=True, slots=True)
class ModelCallFailed:
    """A generation failed for good, after the backend's own retries: ``attempts`` requests were sent.

    ``error_type`` is the class name of the typed error (``AuthenticationFailed``, ``RateLimited``...).
    """

    turn_index: int
    error_type: str
    message: str
    attempts: int = 1
    kind: Literal["model_call_failed"] = "model_call_failed"


@dataclass(frozen=True, slots=True)
class RunFinished:
    """The run ended; ``stop_reason`` says why.

    On the live stream (``Agent.stream``) ``result`` is the run's ``RunResult``, exception included; it is
    not written to the transcript, which holds the figures it is made of.
    """

    run_id: str
    stop_reason: StopReason
    output: str = ""
    usage: Usage | None = None
    cost: float | None = None
    error: str = ""
    result: Annotated[Any, Field(exclude=True)] = field(default=None, compare=False, repr=False)
    kind: Literal["run_finished"] = "run_finished"

RunEvent = (
    RunStarted
    | TurnStarted
    | TurnFinished
    | ToolCallStarted
    | ToolCallFinished
    | ApprovalRequested
    | ApprovalResolved
    | PolicyDecision
    | PolicyStateChanged
    | RetryFeedback
    | LimitHit
    | ContextChanged
    | ThinkingSpent
    | ThinkingRecovery
    | SideRequest
    | ModelCallFailed
    | RunFinished
    | StreamDelta
)

_EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Annotated[RunEvent, Field(discriminator="kind")])
_DUMPERS: dict[type, TypeAdapter[Any]] = {}


def event_to_json(event: RunEvent) -> bytes:
    """One event as compact JSON bytes (no newline)."""
    adapter = _DUMPERS.get(type(event))
    if adapter is None:
        adapter = _DUMPERS[type(event)] = TypeAdapter(type(event))
    return adapter.dump_json(event)


def event_from_json(data: str | bytes) -> RunEvent:
    """The event a line of the transcript holds."""
    event: RunEvent = _EVENT_ADAPTER.validate_json(data)
    return event


__all__ = [
    "BAD_CALL_STATUSES",
    "ApprovalRequested",
    "ApprovalResolved",
    "CallStatus",
    "ContextChanged",
    "LimitHit",
    "ModelCallFailed",
    "PolicyDecision",
    "PolicyStateChanged",
    "RetryFeedback",
    "RunEvent",
    "RunFinished",
    "RunStarted",
    "SideRequest",
    "StopReason",
    "ThinkingRecovery",
    "ThinkingSpent",
    "ToolCallFinished",
    "ToolCallStarted",
    "TurnFinished",
    "TurnStarted",
    "event_from_json",
    "event_to_json",
]
