"""What a run returns: the final text, why it stopped, usage and cost per turn and per run."""

from __future__ import annotations

from dataclasses import dataclass, field

from m1agent.events import ApprovalRequested, TurnFinished
from m1agent.messages import Message
from m1agent.usage import Usage

StopReason = str
"""``completed``, ``max_turns``, ``max_tool_calls``, ``max_tokens``, ``max_cost``, ``max_wall_time``,
``cancelled``, ``approval_pending``, ``retries_exhausted``, ``backend_error``,
``thinking_budget_exhausted``, ``policy_end`` (a policy ended the run) or ``error``."""


@dataclass(slots=True)
class RunResult:
    """The outcome of ``Agent.run``. Every run ends with one, whatever stopped it.

    ``output`` is the last answer text (possibly empty when a limit stopped the run first).
    ``turns`` are the model's turns of this run, each with its own usage and cost.
    """

    output: str
    stop_reason: StopReason
    session_id: str
    run_id: str
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    turns: list[TurnFinished] = field(default_factory=list)
    tool_calls: int = 0
    pending_approvals: list[ApprovalRequested] = field(default_factory=list)
    error: str = ""
    messages: list[Message] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        """True when the model gave its final answer."""
        return self.stop_reason == "completed"

    @property
    def thinking_cost(self) -> float | None:
        """Dollars spent on thinking in this run (part of ``cost``), or ``None`` without a price."""
        costs = [t.thinking_cost for t in self.turns if t.thinking_cost is not None]
        return sum(costs) if costs else None

    @property
    def usage_per_turn(self) -> list[Usage]:
        """The usage of each turn, in order."""
        return [t.usage for t in self.turns]

    def __str__(self) -> str:
        return self.output


__all__ = ["RunResult", "StopReason"]
