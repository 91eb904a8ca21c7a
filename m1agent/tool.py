"""What a tool is, to the core: a name, a schema, and an async ``invoke``.

Python functions (``@tool``), MCP server tools and sandbox tools all implement ``Tool``; the loop
knows nothing else about them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from m1agent.messages import ToolSpec

DepsT = TypeVar("DepsT")


@dataclass(slots=True)
class RunContext(Generic[DepsT]):
    """What a tool may receive besides its arguments: the user's dependencies and the run's state.

    ``emit`` lets a tool report progress; the loop turns it into a run event.
    """

    deps: DepsT
    run_id: str = ""
    session_id: str = ""
    turn_index: int = 0
    call_id: str = ""
    tool_name: str = ""
    retry: int = 0
    emit: Callable[[Any], None] = field(default=lambda _event: None)


@dataclass(slots=True)
class ToolReturn:
    """What a call produced. ``content`` is the full text; the loop caps what the model sees."""

    content: str
    is_error: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)


ApprovalRule = bool | Callable[[Mapping[str, Any]], bool]


def progress_reporter(listener: Callable[[Any], None] | None) -> Callable[[Any], None]:
    """A ``RunContext.emit`` that hands what a tool reports to ``listener`` (the event stream's consumer;
    progress is shown, not written to the transcript). Sync tools run in worker threads, so a report
    from another thread is handed over on the event loop's thread. Call it on the running event loop."""
    if listener is None:
        return lambda _event: None
    loop = asyncio.get_running_loop()
    deliver = listener

    def report(event: Any) -> None:
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            deliver(event)
        else:
            loop.call_soon_threadsafe(deliver, event)

    return report


@runtime_checkable
class Tool(Protocol):
    """A callable the model can use."""

    name: str
    description: str
    parameters: dict[str, Any]
    sequential: bool
    needs_approval: ApprovalRule
    timeout: float | None
    max_retries: int

    def invoke(self, arguments: dict[str, Any], ctx: RunContext[Any]) -> Awaitable[ToolReturn]:
        """Validate ``arguments``, run, and return the result.

        Raises ``ToolArgumentsInvalid`` for bad arguments and ``ModelRetry`` to ask for another try;
        any other exception is reported to the model as a tool failure.
        """
        ...

    def spec(self) -> ToolSpec:
        """The name, description and (normalized) schema the model sees."""
        ...


@runtime_checkable
class Toolset(Protocol):
    """A source of tools whose list can change between turns (an MCP server, a sandbox).

    The agent enters it for the run (``__aenter__``/``__aexit__``) and asks ``list_tools`` before
    every turn, so tools of a server that went unhealthy leave the next turn.
    """

    async def __aenter__(self) -> Toolset: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    async def list_tools(self) -> Sequence[Tool]:
        """The tools available for the next turn."""
        ...
