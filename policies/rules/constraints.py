"""Argument constraints: allowed values, bounds and patterns for one argument of one tool."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from m1agent.policies.rules.base import PolicyContext, Rule

from m1agent.policy import Decision
from m1agent.protocol.types import ToolCallPart


class ArgConstraint(Rule):
    """``tool``'s argument ``arg`` must be one of ``one_of``, within ``minimum``..``maximum``, and
    match ``pattern``. A missing argument passes unless ``required`` (the tool's schema owns that)."""

    def __init__(
        self,
        tool: str,
        arg: str,
        *,
        one_of: Iterable[Any] | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
        pattern: str | None = None,
        required: bool = False,
        why: str = "",
        name: str = "",
    ) -> None:
        self.tool = tool
        self.arg = arg
        self.one_of = tuple(one_of) if one_of is not None else None
        self.minimum = minimum
        self.maximum = maximum
        self.pattern = re.compile(pattern) if pattern else None
        self.required = required
        self.why = why
        self.name = name or f"arg_{tool}_{arg}"

    def check_call(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        if call.name != self.tool:
            return None
        arguments = call.arguments if isinstance(call.arguments, dict) else {}
        if self.arg not in arguments:
            return self._deny(call, "is required") if self.required else None
        value = arguments[self.arg]
        if self.one_of is not None and value not in self.one_of:
            allowed = ", ".join(repr(v) for v in self.one_of)
            return self._deny(call, f"is {value!r}; it must be one of {allowed}")
        if self.minimum is not None or self.maximum is not None:
            if not isinstance(value, int | float) or isinstance(value, bool):
                return self._deny(call, f"is {value!r}, not a number")
            if self.minimum is not None and value < self.minimum:
                return self._deny(call, f"is {value}; it must be at least {self.minimum:g}")
            if self.maximum is not None and value > self.maximum:
                return self._deny(call, f"is {value}; it must be at most {self.maximum:g}")
        if self.pattern is not None and not (isinstance(value, str) and self.pattern.fullmatch(value)):
            return self._deny(call, f"is {value!r}, which is not of the allowed form")
        return None

    def _deny(self, call: ToolCallPart, problem: str) -> Decision:
        why = f" ({self.why})" if self.why else ""
        return Decision.deny(
            f"`{call.name}` was not run: argument `{self.arg}` {problem}{why}.", self.name
        )
