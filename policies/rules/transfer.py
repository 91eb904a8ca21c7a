"""After a transfer to a human, the agent makes no more calls and sends one fixed message."""

from __future__ import annotations

from collections.abc import Iterable

from m1agent.policies.rules.base import PolicyContext, Rule

from m1agent.policy import Decision
from m1agent.protocol.types import ToolCallPart
from m1agent.tool import ToolReturn


class PostTransferStop(Rule):
    """Once a transfer tool succeeded, every further call is refused and the run should end with
    ``message`` (the engine reports it through ``run_end``)."""

    def __init__(
        self,
        transfer_tools: Iterable[str] = ("transfer_to_human_agents",),
        *,
        message: str = "YOU ARE BEING TRANSFERRED TO A HUMAN AGENT. PLEASE HOLD ON.",
        name: str = "post_transfer_stop",
    ) -> None:
        self.transfer_tools = frozenset(transfer_tools)
        self.message = message
        self.name = name

    def check_call(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        if not ctx.state.transferred:
            return None
        return Decision.deny(
            "The conversation was transferred to a human agent, so no more tools run. "
            f"Reply to the user with exactly: {self.message}",
            self.name,
        )

    def after_call(self, call: ToolCallPart, result: ToolReturn, ctx: PolicyContext) -> str | None:
        if call.name in self.transfer_tools and not result.is_error:
            ctx.state.transferred = True
            return "transferred to a human agent"
        return None
