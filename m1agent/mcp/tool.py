"""One MCP server tool as a ``Tool``: a prefixed name for the model, the original for the wire.

Arguments are checked against the server's original schema before anything is sent; the model sees
the normalized copy. Progress notifications become ``MCPProgress`` events through ``ctx.emit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import jsonschema
import pydantic
from jsonschema.exceptions import SchemaError
from mcp import Client, MCPError
from mcp import types as mcp_types

from m1agent.errors import ToolArgumentsInvalid, ToolTimeout
from m1agent.mcp.config import MCPServerConfig
from m1agent.mcp.connection import MCPConnection, ServerUnavailable
from m1agent.mcp.results import convert_result, error_return
from m1agent.messages import ToolSpec
from m1agent.schema import normalize_schema
from m1agent.tool import RunContext, ToolReturn

# The loop's own guard on ``invoke`` must not fire before the connection's timeout, which cancels
# the call on the server too.
_LOOP_TIMEOUT_MARGIN = 10.0


@dataclass(frozen=True, slots=True)
class MCPProgress:
    """A progress notification of a running MCP call, as a run event."""

    server: str
    tool: str
    call_id: str
    progress: float
    total: float | None = None
    message: str | None = None
    kind: Literal["mcp_progress"] = "mcp_progress"


class MCPTool:
    """A tool of one MCP server. ``name`` is ``<server>__<tool>``; ``original_name`` goes on the wire."""

    def __init__(
        self, name: str, wire: mcp_types.Tool, config: MCPServerConfig, connection: MCPConnection
    ) -> None:
        self.name = name
        self.original_name = wire.name
        self.server = config.name
        self.description = (wire.description or wire.title or wire.name).strip()
        self.input_schema: dict[str, Any] = dict(wire.input_schema or {"type": "object"})
        self.parameters = normalize_schema(self.input_schema)
        self.annotations = wire.annotations
        self.sequential = False
        self.needs_approval = config.needs_approval(wire.name, wire.annotations)
        self.call_timeout = config.timeout_for(wire.name)
        self.timeout: float | None = self.call_timeout + _LOOP_TIMEOUT_MARGIN
        self.max_retries = config.max_retries
        self._config = config
        self._connection = connection
        self._validator: Any = None

    def __repr__(self) -> str:
        return f"MCPTool({self.name!r} -> {self.server}:{self.original_name})"

    def spec(self) -> ToolSpec:
        """The name, description and normalized schema the model sees."""
        return ToolSpec(name=self.name, description=self.description, parameters=self.parameters)

    def validate(self, arguments: dict[str, Any]) -> None:
        """Check ``arguments`` against the server's original schema; raise ``ToolArgumentsInvalid``."""
        if self._validator is None:
            cls = jsonschema.validators.validator_for(self.input_schema, default=jsonschema.Draft202012Validator)
            try:
                cls.check_schema(self.input_schema)
            except SchemaError:
                self._validator = False  # a broken schema on the server: let the server judge
                return
            self._validator = cls(self.input_schema)
        if self._validator is False or self._validator.is_valid(arguments):
            return
        errors = sorted(self._validator.iter_errors(arguments), key=lambda e: list(e.absolute_path))
        if not errors:
            return
        lines = []
        for error in errors[:5]:
            where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            lines.append(f"- {where}: {error.message}")
        raise ToolArgumentsInvalid(
            f"arguments for {self.name} do not match its schema:\n" + "\n".join(lines),
            hint="fix the arguments and call the tool again",
        )

    async def invoke(
        self, arguments: dict[str, Any], ctx: RunContext[Any], *, timeout: float | None = None
    ) -> ToolReturn:
        """Validate, call the server (cancelled after the timeout), and convert the result."""
        self.validate(arguments)
        server, tool = self.server, self.original_name
        emit = ctx.emit

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            emit(MCPProgress(server, tool, ctx.call_id, progress, total, message))

        async def call(client: Client) -> mcp_types.CallToolResult:
            return await client.call_tool(tool, arguments, progress_callback=on_progress)

        try:
            result = await self._connection.request(call, timeout=timeout or self.call_timeout)
        except ToolTimeout as exc:
            return ToolReturn(content=f"MCP tool {self.name!r} failed: {exc}", is_error=True,
                              metadata={"timed_out": True})
        except (MCPError, ServerUnavailable) as exc:
            return error_return(self.name, exc)
        except pydantic.ValidationError as exc:
            return error_return(self.name, RuntimeError(f"the server sent an invalid result: {exc}"))
        return convert_result(result, tool=self.name, max_chars=self._config.max_output_chars)
