"""The registry the loop dispatches through: names, validation, concurrency, timeouts and capping.

Tools come as ``Tool`` objects (``@tool`` functions) or ``Toolset``s (MCP servers, sandboxes) whose
lists are read again before every turn. Each exposed name is sanitized and unique; a toolset with a
``namespace`` attribute gets its tools prefixed. Every result the model reads starts with the tool's
name and is capped to head and tail; the full text is saved and readable back with ``read_output``.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from m1agent.errors import ModelRetry, ToolArgumentsInvalid
from m1agent.events import CallStatus, ToolCallStarted
from m1agent.function_tool import FunctionTool
from m1agent.messages import ToolSpec
from m1agent.protocol.types import ToolCallPart
from m1agent.schema import unique_name
from m1agent.tool import RunContext, Tool, ToolReturn, Toolset

READ_OUTPUT = "read_output"


class OutputStore(Protocol):
    """Where full tool outputs go when the model only sees head and tail."""

    def save_output(self, output_id: str, text: str) -> None: ...

    def read_output(self, output_id: str) -> str | None: ...


class MemoryOutputStore:
    """Full outputs kept in memory, for runs without a session directory."""

    def __init__(self) -> None:
        self._outputs: dict[str, str] = {}

    def save_output(self, output_id: str, text: str) -> None:
        self._outputs[output_id] = text

    def read_output(self, output_id: str) -> str | None:
        return self._outputs.get(output_id)


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """What one call came to: the tool's ``ToolReturn`` as it gave it (metadata such as an exit code
    included), and the status. The text the model reads is made from it once, by ``model_text``."""

    call: ToolCallPart
    result: ToolReturn
    status: CallStatus
    elapsed: float = 0.0

    @property
    def is_error(self) -> bool:
        return self.status != "ok"

    @property
    def facts(self) -> dict[str, str | int | float | bool | None]:
        """The result's metadata that the transcript can hold: its plain values."""
        return {k: v for k, v in self.result.metadata.items() if isinstance(v, str | int | float | bool | None)}


def cap_text(text: str, limit: int, output_id: str) -> tuple[str, bool]:
    """``text`` cut to about ``limit`` characters, keeping head and tail, with a note on how to read the rest."""
    if len(text) <= limit:
        return text, False
    head = limit * 6 // 10
    tail = limit - head
    omitted = len(text) - head - tail
    note = (
        f"\n[... {omitted} characters omitted of {len(text)}; read them with "
        f'{READ_OUTPUT}(id="{output_id}", offset={head}) ...]\n'
    )
    return text[:head] + note + text[len(text) - tail :], True


class Toolbox:
    """Tools by exposed name, and the dispatcher for one turn's calls."""

    def __init__(
        self,
        tools: Sequence[Tool | Toolset] = (),
        *,
        max_concurrency: int = 8,
        max_result_chars: int = 20_000,
        default_timeout: float | None = None,
        outputs: OutputStore | None = None,
        read_output_tool: bool = True,
    ) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.max_result_chars = max_result_chars
        self.default_timeout = default_timeout
        self.outputs: OutputStore = outputs or MemoryOutputStore()
        self._static = [t for t in tools if isinstance(t, Tool)]
        self._toolsets = [t for t in tools if not isinstance(t, Tool)]
        if read_output_tool:
            self._static.append(READ_OUTPUT_TOOL)
        self._by_name: dict[str, Tool] = {}
        self._specs: list[ToolSpec] = []
        self._static_done = False

    @property
    def toolsets(self) -> list[Toolset]:
        """The toolsets the agent enters for the run."""
        return list(self._toolsets)

    async def refresh(self) -> list[ToolSpec]:
        """Read every toolset's list again; returns the specs for the next request, in a stable order."""
        if self._static_done and not self._toolsets:
            return self._specs
        by_name: dict[str, Tool] = {}
        specs: list[ToolSpec] = []
        sources: list[tuple[str, Sequence[Tool]]] = [("", self._static)]
        for toolset in self._toolsets:
            sources.append((getattr(toolset, "namespace", "") or "", await toolset.list_tools()))
        for namespace, tools in sources:
            for t in tools:
                exposed = unique_name(f"{namespace}_{t.name}" if namespace else t.name, by_name)
                by_name[exposed] = t
                spec = t.spec()
                specs.append(spec if spec.name == exposed else ToolSpec(exposed, spec.description, spec.parameters))
        self._by_name, self._specs, self._static_done = by_name, specs, True
        return specs

    def get(self, name: str) -> Tool | None:
        """The tool exposed under ``name`` this turn."""
        return self._by_name.get(name)

    def max_retries(self, name: str) -> int | None:
        """How many bad calls in a row the tool exposed as ``name`` allows; ``None`` for no such tool."""
        t = self._by_name.get(name)
        return t.max_retries if t is not None else None

    def unknown(self, call: ToolCallPart) -> CallOutcome:
        """Feedback for a call to a name that does not exist this turn."""
        names = ", ".join(sorted(self._by_name)) or "(none)"
        return CallOutcome(call, ToolReturn(f"Unknown tool {call.name!r}. The tools available are: {names}.", True),
                           "unknown_tool")

    def model_text(self, outcome: CallOutcome) -> tuple[str, str]:
        """``(text, output_id)``: what the model reads of an outcome, prefixed with the tool's name and
        capped; when it was cut, the full text is saved under ``output_id`` for ``read_output``."""
        call, result = outcome.call, outcome.result
        # A denial is the policy's word, not a failure of the tool: it reads as said.
        body = f"error: {result.content}" if outcome.is_error and outcome.status != "denied" else result.content
        text = f"[{call.name}] {body}"
        capped, was_cut = cap_text(text, self.max_result_chars, call.id)
        if was_cut:
            self.outputs.save_output(call.id, text)
        return capped, call.id if was_cut else ""

    async def run_calls(
        self, calls: Sequence[ToolCallPart], contexts: Mapping[str, RunContext[Any]]
    ) -> AsyncIterator[ToolCallStarted | CallOutcome]:
        """Run ``calls`` (all known tools) in order: a run of non-``sequential`` tools concurrently under
        the cap, a ``sequential`` tool alone. ``contexts`` holds each call's context.

        Yields a ``ToolCallStarted`` before a call may start, and its ``CallOutcome`` as soon as it is done.
        The calls of a concurrent run are all announced before the first one starts: a transcript written
        from these events may over-report a call as possibly started after a crash, never under-report it.
        """
        _current_outputs.set(self.outputs)
        for group in self._groups(calls):
            for call in group:
                yield ToolCallStarted(contexts[call.id].turn_index, call.id, call.name, call.arguments)
            if len(group) == 1:
                yield await self._invoke(group[0], contexts[group[0].id])
                continue
            semaphore = asyncio.Semaphore(self.max_concurrency)

            async def one(call: ToolCallPart, semaphore: asyncio.Semaphore = semaphore) -> CallOutcome:
                async with semaphore:
                    return await self._invoke(call, contexts[call.id])

            tasks = [asyncio.ensure_future(one(call)) for call in group]
            try:
                for finished in asyncio.as_completed(tasks):
                    yield await finished
            finally:  # the consumer stopped early (cancellation): no call keeps running unseen
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    def _groups(self, calls: Sequence[ToolCallPart]) -> list[list[ToolCallPart]]:
        """``calls`` cut into runs that may go concurrently: each ``sequential`` tool is a run of its own."""
        groups: list[list[ToolCallPart]] = []
        for call in calls:
            alone = self._by_name[call.name].sequential
            if alone or not groups or self._by_name[groups[-1][-1].name].sequential:
                groups.append([call])
            else:
                groups[-1].append(call)
        return groups

    async def _invoke(self, call: ToolCallPart, ctx: RunContext[Any]) -> CallOutcome:
        t = self._by_name[call.name]
        timeout = t.timeout if t.timeout is not None else self.default_timeout
        started = time.perf_counter()

        def outcome(content: str, status: CallStatus) -> CallOutcome:
            return CallOutcome(call, ToolReturn(content, True), status, time.perf_counter() - started)

        try:
            async with asyncio.timeout(timeout):
                result = await t.invoke(call.arguments, ctx)
        except ToolArgumentsInvalid as exc:
            schema = json.dumps(t.spec().parameters, ensure_ascii=False)
            return outcome(f"{exc}\nCall {call.name} again with arguments matching this JSON schema: {schema}",
                           "invalid_arguments")
        except ModelRetry as exc:
            return outcome(str(exc), "retry")
        except TimeoutError:
            return outcome(f"the call did not finish within {timeout:g} seconds and was cancelled", "timeout")
        except Exception as exc:
            return outcome(f"{type(exc).__name__}: {exc}", "failed")
        return CallOutcome(call, result, "error" if result.is_error else "ok", time.perf_counter() - started)


_current_outputs: contextvars.ContextVar[OutputStore] = contextvars.ContextVar("m1agent_outputs")
_READ_CHUNK = 16_000


def read_output(id: str, offset: int = 0, limit: int = _READ_CHUNK) -> str:
    """Read a saved full tool output, from where a result was cut.

    Args:
        id: The id named in the note inside the cut result.
        offset: The character to start reading at.
        limit: How many characters to read (at most 16000).
    """
    text = _current_outputs.get(MemoryOutputStore()).read_output(id)
    if text is None:
        raise ModelRetry(f"no saved output has the id {id!r}")
    start = max(0, offset)
    part = text[start : start + max(1, min(limit, _READ_CHUNK))]
    rest = len(text) - start - len(part)
    return part + (f"\n[{rest} more characters; continue at offset {start + len(part)}]" if rest > 0 else "")


READ_OUTPUT_TOOL = FunctionTool(read_output, name=READ_OUTPUT, sequential=False)


__all__ = [
    "READ_OUTPUT",
    "READ_OUTPUT_TOOL",
    "CallOutcome",
    "MemoryOutputStore",
    "OutputStore",
    "Toolbox",
    "cap_text",
]
