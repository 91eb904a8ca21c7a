"""m1agent as an MCP server: an agent behind ``run_agent``, and any ``Tool`` served as it is.

Other MCP clients (desktop apps, other agents) can then run an m1agent agent, or use our tools (the
sandboxed ``run_python``/``run_shell``, the file tools) directly. Expected failures are raised as
``ToolError`` with text the caller can act on; results are bounded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from typing import Any, Literal

from mcp import types as mcp_types
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools.base import Tool as ServedTool
from mcp.server.mcpserver.utilities.func_metadata import func_metadata
from pydantic import Field

from m1agent.errors import M1AgentError
from m1agent.events import (
    ApprovalRequested,
    LimitHit,
    RunEvent,
    RunFinished,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
)
from m1agent.mcp.results import cap_text
from m1agent.tool import RunContext, Tool, Toolset

logger = logging.getLogger("m1agent.mcp")

DEFAULT_RESULT_CHARS = 20_000
AgentFactory = Callable[[], Any]


def _text_result() -> str:
    """A placeholder whose metadata makes results plain text."""
    return ""


class _ServedTool(ServedTool):
    """An m1agent ``Tool`` registered on an MCPServer with its own JSON schema and validation."""

    target: Any = Field(default=None, exclude=True)
    max_chars: int = Field(default=DEFAULT_RESULT_CHARS, exclude=True)

    async def run(self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False) -> Any:
        tool: Tool = self.target
        ctx = RunContext(deps=None, tool_name=tool.name, emit=lambda _event: None)
        try:
            result = await tool.invoke(arguments, ctx)
        except M1AgentError as exc:
            raise ToolError(str(exc)) from exc
        except Exception as exc:  # a crash still gets a reason the caller can read
            logger.exception("served tool %s crashed", tool.name)
            raise ToolError(f"{tool.name} failed: {type(exc).__name__}: {exc}") from exc
        if result.is_error:
            raise ToolError(result.content)
        text, _ = cap_text(result.content, self.max_chars)
        return mcp_types.CallToolResult(content=[mcp_types.TextContent(type="text", text=text)])


def serve_tool(tool: Tool, *, max_chars: int = DEFAULT_RESULT_CHARS) -> ServedTool:
    """``tool`` as an MCPServer tool, keeping its name, description and JSON schema."""
    base = ServedTool.from_function(_text_result, name=tool.name, description=tool.description)
    spec = tool.spec()
    served = _ServedTool(
        fn=base.fn,
        name=spec.name,
        title=None,
        context_kwarg=None,
        description=spec.description,
        parameters=spec.parameters,
        fn_metadata=func_metadata(_text_result, structured_output=False),
        is_async=True,
        annotations=mcp_types.ToolAnnotations(read_only_hint=False) if tool.needs_approval else None,
        target=tool,
        max_chars=max_chars,
    )
    return served


def _describe_event(event: RunEvent) -> str | None:
    """A progress line for the steps worth reporting; ``None`` for the rest."""
    match event:
        case ToolCallStarted(name=name):
            return f"calling {name}"
        case ToolCallFinished(name=name, status=status):
            return f"{name} finished ({status})"
        case TurnFinished(turn_index=index):
            return f"turn {index + 1} answered"
        case ApprovalRequested():
            return "waiting for an approval (the agent cannot ask over MCP; it will be denied)"
        case LimitHit(limit=limit):
            return f"limit reached: {limit}"
    return None


def build_server(
    agent_factory: AgentFactory | None = None,
    *,
    tools: Sequence[Tool] = (),
    name: str = "m1agent",
    max_result_chars: int = DEFAULT_RESULT_CHARS,
) -> MCPServer:
    """An MCPServer exposing ``run_agent`` (when ``agent_factory`` is given) and each of ``tools``.

    ``agent_factory`` returns a fresh agent per call; the agent must offer ``stream(task)`` yielding
    run events, the last being ``RunFinished`` (with ``output`` and ``stop_reason``).
    """
    server = MCPServer(
        name,
        instructions="Run an m1agent agent on a task with run_agent, or use its tools directly.",
        tools=[serve_tool(tool, max_chars=max_result_chars) for tool in tools],
    )
    if agent_factory is not None:
        _add_run_agent(server, agent_factory, max_result_chars)
    return server


def _add_run_agent(server: MCPServer, agent_factory: AgentFactory, max_result_chars: int) -> None:
    async def run_agent(task: str, ctx: Context) -> dict[str, Any]:
        """Run the m1agent agent on a task until it answers; progress is reported at each step.

        Returns the final answer (bounded), why the run stopped, and how many steps it took.
        """
        if not task.strip():
            raise ToolError("the task is empty: say what the agent should do")
        try:
            agent = agent_factory()
        except Exception as exc:
            raise ToolError(f"the agent could not be created: {exc}") from exc
        steps = 0
        finished: RunFinished | None = None
        try:
            async for event in agent.stream(task):
                if isinstance(event, RunFinished):
                    finished = event
                elif (step := _describe_event(event)) is not None:
                    steps += 1
                    await ctx.report_progress(steps, None, step)
        except M1AgentError as exc:
            raise ToolError(f"the agent failed: {exc}") from exc
        if finished is None:
            raise ToolError("the agent stopped without finishing its run")
        if finished.error:
            raise ToolError(f"the agent stopped ({finished.stop_reason}): {finished.error}")
        output, truncated = cap_text(finished.output, max_result_chars)
        return {
            "output": output,
            "stop_reason": str(finished.stop_reason),
            "steps": steps,
            "truncated": truncated,
        }

    server.add_tool(run_agent, name="run_agent")


Transport = Literal["stdio", "http"]


async def serve(
    agent_factory: AgentFactory | None = None,
    *,
    tools: Sequence[Tool | Toolset] = (),
    transport: Transport = "stdio",
    host: str = "127.0.0.1",
    port: int = 8765,
    name: str = "m1agent",
    max_result_chars: int = DEFAULT_RESULT_CHARS,
) -> None:
    """Serve until stopped, over stdio or streamable HTTP (``http://host:port/mcp``, loopback by default).

    Toolsets among ``tools`` (a sandbox, MCP servers) are entered for the server's whole life and
    their tools served as they were listed at start.
    """
    async with AsyncExitStack() as stack:
        served: list[Tool] = []
        for item in tools:
            if isinstance(item, Toolset) and not isinstance(item, Tool):
                entered = await stack.enter_async_context(item)
                served.extend(await entered.list_tools())
            else:
                served.append(item)
        server = build_server(agent_factory, tools=served, name=name, max_result_chars=max_result_chars)
        if transport == "stdio":
            await server.run_stdio_async()
        else:
            await server.run_streamable_http_async(host=host, port=port)
