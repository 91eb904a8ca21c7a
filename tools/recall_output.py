"""The ``recall_output`` tool: read back a tool output that compaction replaced by a stub."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from m1agent.errors import ToolArgumentsInvalid
from m1agent.messages import ToolSpec
from m1agent.tool import ApprovalRule, RunContext, ToolReturn


@dataclass(slots=True)
class RecallOutputTool:
    """Looks a call id up in the compactor's archive (``Compactor.archive``)."""

    archive: Mapping[str, str]
    name: str = "recall_output"
    description: str = "Show the full output of an earlier tool call whose output was elided to save room."
    parameters: dict[str, Any] = field(
        default_factory=lambda: {
            "type": "object",
            "properties": {"call_id": {"type": "string", "description": "The id named in the stub."}},
            "required": ["call_id"],
            "additionalProperties": False,
        }
    )
    sequential: bool = False
    needs_approval: ApprovalRule = False
    timeout: float | None = 10.0
    max_retries: int = 1

    def spec(self) -> ToolSpec:
        """The tool as the model sees it."""
        return ToolSpec(self.name, self.description, self.parameters)

    async def invoke(self, arguments: dict[str, Any], ctx: RunContext[Any]) -> ToolReturn:
        """The archived output, or an error naming the ids that can be recalled."""
        call_id = arguments.get("call_id")
        if not isinstance(call_id, str):
            raise ToolArgumentsInvalid('call_id must be a string such as "call_3_0"')
        if call_id not in self.archive:
            known = ", ".join(sorted(self.archive)[-10:]) or "none yet"
            return ToolReturn(f"no elided output has id {call_id!r}; recallable ids: {known}", is_error=True)
        return ToolReturn(self.archive[call_id])
