"""The message protocol of τ-style domains: one call per turn, and no text beside a call."""

from __future__ import annotations

from collections.abc import Sequence

from m1agent.policies.rules.base import PolicyContext, Rule

from m1agent.policy import Decision
from m1agent.protocol.types import Turn


class OneCallPerTurn(Rule):
    """Run the first call of a turn only; refuse the others (and, optionally, calls beside text).

    Refused calls get a reason, never silent dropping: the model sees which call ran and that the
    others must be made again, one per turn, after it has read the first result.
    """

    def __init__(self, *, forbid_text: bool = True, name: str = "one_call_per_turn") -> None:
        self.forbid_text = forbid_text
        self.name = name

    def check_turn(self, turn: Turn, ctx: PolicyContext) -> Sequence[Decision | None] | None:
        calls = turn.tool_calls
        if not calls:
            return None
        if self.forbid_text and isinstance(turn.text, str) and turn.text.strip():
            reason = (
                "A turn with a tool call must not also contain text for the user, so nothing was run. "
                "Send the tool call alone, or reply with text alone."
            )
            return [Decision.deny(reason, "no_text_with_call")] * len(calls)
        if len(calls) == 1:
            return None
        first = calls[0].name
        decisions: list[Decision | None] = [None]
        for extra in calls[1:]:
            reason = (
                f"Only one tool call per turn is allowed: only `{first}` ran. `{extra.name}` was not run; "
                f"read the result of `{first}` first, then make the next call in its own turn."
            )
            decisions.append(Decision.deny(reason, self.name))
        return decisions
