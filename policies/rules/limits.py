"""Call-count and once-only limits, per conversation or per value of some arguments."""

from __future__ import annotations

import json
from collections.abc import Iterable

from m1agent.policies.rules.base import PolicyContext, Rule

from m1agent.policy import Decision
from m1agent.protocol.types import ToolCallPart
from m1agent.tool import ToolReturn


class CallLimit(Rule):
    """The tools in ``tools`` together run successfully at most ``max_calls`` times, counted
    separately for each combination of the ``per`` arguments (e.g. once per ``order_id``)."""

    def __init__(
        self,
        tools: Iterable[str],
        max_calls: int = 1,
        *,
        per: Iterable[str] = (),
        why: str = "",
        name: str = "",
    ) -> None:
        self.tools = frozenset(tools)
        self.max_calls = max_calls
        self.per = tuple(per)
        self.why = why
        self.name = name or "limit_" + "_".join(sorted(self.tools))

    def _key(self, call: ToolCallPart) -> str:
        arguments = call.arguments if isinstance(call.arguments, dict) else {}
        values = [arguments.get(arg) for arg in self.per]
        return f"{self.name}:{json.dumps(values, sort_keys=True, default=str)}"

    def check_call(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        if call.name not in self.tools:
            return None
        if ctx.state.call_counts[self._key(call)] < self.max_calls:
            return None
        times = "once" if self.max_calls == 1 else f"{self.max_calls} times"
        scope = ""
        if self.per and isinstance(call.arguments, dict):
            scope = " for " + ", ".join(f"{arg} {call.arguments.get(arg)}" for arg in self.per)
        why = f" ({self.why})" if self.why else ""
        return Decision.deny(
            f"`{call.name}` can run only {times}{scope} in a conversation, and that is used up{why}. "
            "Tell the user it cannot be done again here.",
            self.name,
        )

    def after_call(self, call: ToolCallPart, result: ToolReturn, ctx: PolicyContext) -> str | None:
        if call.name in self.tools and not result.is_error:
            ctx.state.call_counts[self._key(call)] += 1
        return None
