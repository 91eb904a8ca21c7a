"""Rules checked around tool calls: the protocol the core calls, at three points of a turn.

Policies live in ``policies/`` (``m1agent.policies``); the loop only knows this protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from m1agent.messages import Message
from m1agent.protocol.types import ToolCallPart, Turn
from m1agent.tool import ToolReturn


@dataclass(frozen=True, slots=True)
class Decision:
    """What a policy says of a call. ``reason`` is written for the model; ``rule`` names the rule."""

    action: Literal["allow", "deny", "ask"]
    reason: str = ""
    rule: str = ""

    @classmethod
    def allow(cls) -> Decision:
        """Let the call run."""
        return cls("allow")

    @classmethod
    def deny(cls, reason: str, rule: str = "") -> Decision:
        """Refuse the call; the model reads ``reason`` as the tool result."""
        return cls("deny", reason, rule)

    @classmethod
    def ask(cls, reason: str, rule: str = "") -> Decision:
        """Ask the user before the call runs."""
        return cls("ask", reason, rule)


@runtime_checkable
class Policy(Protocol):
    """Checked before a turn's calls, before each call, and after each call."""

    def check_turn(self, turn: Turn, history: Sequence[Message]) -> Sequence[Decision]:
        """One decision per call of ``turn``, in order (for rules over the whole turn)."""
        ...

    def check_call(self, call: ToolCallPart, history: Sequence[Message]) -> Decision:
        """Decide on one call that passed the turn check."""
        ...

    def after_call(self, call: ToolCallPart, result: ToolReturn, history: Sequence[Message]) -> None:
        """Update state from a result (who is authenticated, which records were read)."""
        ...


@dataclass(frozen=True, slots=True)
class RunEnd:
    """A policy's request to end the run cleanly: ``reason`` says why; ``message``, if not empty, is
    the final reply the user must get (e.g. the fixed text after a transfer to a human)."""

    reason: str
    message: str = ""


@runtime_checkable
class EndsRun(Protocol):
    """Optional: a policy that can ask the loop to stop (after a transfer, or too many denials).

    The loop asks after each round of calls; ``None`` means carry on.
    """

    def run_end(self) -> RunEnd | None:
        """Why and how the run should end now, or ``None``."""
        ...


@runtime_checkable
class StatefulPolicy(Protocol):
    """Optional: a policy that remembers the conversation (who is authenticated, confirmations used,
    limits, a transfer). That memory belongs to the session, not to the policy object an ``Agent``
    holds: each run works on ``for_session(state)``, a copy holding the state the transcript last
    recorded (``None`` for a new conversation), and the loop records ``export_state()`` as a
    ``PolicyStateChanged`` event whenever it changes. So a resumed run, in another process too, sees
    exactly the state the live run had, and two runs of one agent never share it.
    """

    name: str

    def for_session(self, state: Mapping[str, Any] | None) -> Policy:
        """A copy of this policy for one run, holding ``state`` (JSON data from ``export_state``)."""
        ...

    def export_state(self) -> dict[str, Any]:
        """The conversation state, as JSON-able data."""
        ...

