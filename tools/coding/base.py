"""``CodingTool``: one operation on the sandbox's working copy, as a core ``Tool``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from m1agent.errors import M1AgentError, ToolArgumentsInvalid
from m1agent.messages import ToolSpec
from m1agent.tool import ApprovalRule, RunContext, ToolReturn
from m1agent.tool_args import check_known

from .edits import EditFailed
from .repo import SandboxRepo

Handler = Callable[[SandboxRepo, dict[str, Any]], Awaitable[ToolReturn]]


@dataclass(slots=True)
class CodingTool:
    """A named handler bound to a ``SandboxRepo``. Refusals and failed edits come back as error
    results the model can act on; only bad arguments raise (the loop's retry feedback)."""

    name: str
    description: str
    parameters: dict[str, Any]
    handler: Handler
    repo: SandboxRepo
    sequential: bool = False
    needs_approval: ApprovalRule = False
    timeout: float | None = 660.0
    max_retries: int = 3

    def spec(self) -> ToolSpec:
        """The tool as the model sees it."""
        return ToolSpec(self.name, self.description, self.parameters)

    async def invoke(self, arguments: dict[str, Any], ctx: RunContext[Any]) -> ToolReturn:
        """Check the arguments, then run the handler against the working copy."""
        check_known(arguments, self.parameters)
        try:
            return await self.handler(self.repo, arguments)
        except ToolArgumentsInvalid:
            raise
        except EditFailed as exc:
            return ToolReturn(str(exc), is_error=True)
        except M1AgentError as exc:
            return ToolReturn(f"{self.name} failed: {exc}", is_error=True)
