"""What a run returns: the final text, why it stopped, usage and cost per turn and per run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from m1agent.events import ApprovalRequested, StopReason, TurnFinished
from m1agent.messages import Message
from m1agent.usage import Usage

if TYPE_CHECKING:
    from m1agent.session import SessionState


@dataclass(slots=True)
class RunResult:
    """The outcome of ``Agent.run``. Every run ends with one, whatever stopped it.

    ``output`` is the last answer text (possibly empty when a limit stopped the run first).
    ``turns`` are the model's turns of this run, each with its own usage and cost. ``error`` says in
    one sentence what went wrong; ``exception`` is the typed error behind it (``AuthenticationFailed``,
    ``InsufficientBalance``... for ``backend_error``), for ``isinstance`` checks. It is ``None`` when the
    run ended cleanly, and in results rebuilt from a transcript.
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
    exception: BaseException | None = None

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

    @classmethod
    def from_state(
        cls, state: SessionState, session_id: str, output: str, exception: BaseException | None = None
    ) -> RunResult:
        """The result of the run ``state`` holds, as it stands (``running`` until it finished)."""
        finished = state.finished
        return cls(
            output=output, stop_reason=finished.stop_reason if finished else "running", session_id=session_id,
            run_id=state.run_id, usage=state.run_usage, cost=state.run_cost, turns=list(state.run_turns),
            tool_calls=state.run_tool_calls, pending_approvals=list(state.approvals.values()),
            error=finished.error if finished else "", messages=list(state.history), exception=exception,
        )


__all__ = ["RunResult", "StopReason"]
