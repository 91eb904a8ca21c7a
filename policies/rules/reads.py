"""Read-before-write: a record is changed only after it was read in this conversation."""

from __future__ import annotations

from collections.abc import Mapping

from m1agent.policies.rules.base import PolicyContext, Rule, arg_text

from m1agent.policy import Decision
from m1agent.protocol.types import ToolCallPart
from m1agent.tool import ToolReturn


class ReadBeforeWrite(Rule):
    """``reads`` maps a read tool to ``{argument: kind}``; ``writes`` maps a write tool the same way.

    A write naming record X of kind K runs only if a read of X (kind K) succeeded earlier, so the
    model acts on the record's current state, not on what the user remembers.
    """

    def __init__(
        self,
        reads: Mapping[str, Mapping[str, str]],
        writes: Mapping[str, Mapping[str, str]],
        *,
        name: str = "read_before_write",
    ) -> None:
        self.reads = {tool: dict(args) for tool, args in reads.items()}
        self.writes = {tool: dict(args) for tool, args in writes.items()}
        self.name = name
        readers: dict[str, list[str]] = {}
        for tool, args in self.reads.items():
            for kind in args.values():
                readers.setdefault(kind, []).append(tool)
        self._readers = {kind: " or ".join(f"`{t}`" for t in tools) for kind, tools in readers.items()}

    def check_call(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        needs = self.writes.get(call.name)
        if not needs:
            return None
        for arg, kind in needs.items():
            record_id = arg_text(call.arguments, arg)
            if record_id is not None and not ctx.state.was_read(kind, record_id):
                how = self._readers.get(kind, "a lookup")
                return Decision.deny(
                    f"{kind.capitalize()} {record_id} has not been looked up in this conversation, so "
                    f"`{call.name}` was not run. Read it first with {how}, check its current state, "
                    "then confirm the change with the user.",
                    self.name,
                )
        return None

    def after_call(self, call: ToolCallPart, result: ToolReturn, ctx: PolicyContext) -> str | None:
        marks = self.reads.get(call.name)
        if not marks or result.is_error:
            return None
        noted = []
        for arg, kind in marks.items():
            record_id = arg_text(call.arguments, arg)
            if record_id is not None:
                ctx.state.mark_read(kind, record_id)
                noted.append(f"{kind} {record_id}")
        return f"read {', '.join(noted)}" if noted else None
