"""Domain predicates: plain functions of the call and the context, wrapped as a rule."""

from __future__ import annotations

from collections.abc import Iterable

from m1agent.policies.rules.base import PolicyContext, Predicate, Rule

from m1agent.policy import Decision
from m1agent.protocol.types import ToolCallPart


class PredicateRule(Rule):
    """Runs ``predicate`` on calls of ``tools``. It returns ``None`` (fine), a string (the reason to
    deny, written for the model), or a full ``Decision``."""

    def __init__(self, tools: Iterable[str], predicate: Predicate, *, name: str = "") -> None:
        self.tools = frozenset(tools)
        self.predicate = predicate
        self.name = name or getattr(predicate, "__name__", "predicate")

    def check_call(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        if call.name not in self.tools:
            return None
        verdict = self.predicate(call, ctx)
        if verdict is None or isinstance(verdict, Decision):
            return verdict
        return Decision.deny(str(verdict), self.name)
