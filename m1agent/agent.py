"""``Agent``: instructions, tools, policies and limits around one backend; ``run``, ``stream``, ``resume``."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic

from typing_extensions import TypeVar

from m1agent.backends.base import Backend
from m1agent.events import ApprovalResolved, ContextChanged, RunEvent, RunFinished, RunStarted
from m1agent.gate import Approver
from m1agent.limits import Limits
from m1agent.loop import Loop, LoopConfig
from m1agent.policy import Policy
from m1agent.pricing import PriceTable
from m1agent.result import RunResult
from m1agent.session import SessionState, SessionStore, new_id
from m1agent.tool import Tool, Toolset
from m1agent.toolbox import Toolbox

DepsT = TypeVar("DepsT", default=Any)


class Agent(Generic[DepsT]):
    """An M1 agent.

    >>> agent = Agent(backend=VLLM("http://localhost:8000/v1"), instructions="...", tools=[get_weather])
    >>> result = agent.run_sync("Weather in Paris?")

    ``tools`` holds ``@tool`` functions, other ``Tool``s and ``Toolset``s (entered for each run, listed
    before every turn). ``deps`` reaches tools through ``RunContext[Deps]``. ``policies`` are checked
    around every call. ``approver`` answers approval requests (``bool`` or awaitable ``bool``); without
    one a run that needs approval stops with ``stop_reason="approval_pending"`` and is continued with
    ``resume(session_id, approvals={call_id: True})``. ``sessions`` is a ``SessionStore`` or a directory
    for JSONL transcripts (in memory when ``None``). ``thinking`` is a ``ThinkingGovernor``;
    ``compactor`` a ``Compactor`` asked before every turn (with ``summarizer`` for its last step).
    """

    def __init__(
        self,
        backend: Backend,
        instructions: str = "",
        tools: Sequence[Tool | Toolset] = (),
        *,
        deps_type: type[DepsT] | None = None,
        deps: DepsT | None = None,
        policies: Sequence[Policy] = (),
        limits: Limits | None = None,
        approver: Approver | None = None,
        sessions: SessionStore | str | Path | None = None,
        pricing: PriceTable | None = None,
        thinking: Any = None,
        compactor: Any = None,
        summarizer: Callable[[str], Awaitable[str]] | None = None,
        keep_thinking: bool = False,
        max_concurrency: int = 8,
        max_result_chars: int = 20_000,
        tool_timeout: float | None = None,
        max_tokens: int | None = None,
        temperature: float = 1.0,
        top_p: float = 0.95,
    ) -> None:
        self.backend = backend
        self.instructions = instructions
        self.tools = list(tools)
        self.deps_type = deps_type
        self.deps = deps
        self.policies = list(policies)
        self.limits = limits or Limits()
        self.approver = approver
        self.sessions = sessions if isinstance(sessions, SessionStore) else SessionStore(sessions)
        self.pricing = pricing
        self.thinking = thinking
        self.compactor = compactor
        self.summarizer = summarizer
        self.keep_thinking = keep_thinking
        self.max_concurrency = max_concurrency
        self.max_result_chars = max_result_chars
        self.tool_timeout = tool_timeout
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.top_p = top_p

    def replace(self, **changes: Any) -> Agent[DepsT]:
        """A new agent with this one's configuration except ``changes`` (constructor keywords).

        It shares the session store, so it can resume this agent's sessions: this is how a running
        application switches the backend or the thinking budget between runs.
        """
        unknown = sorted(set(changes) - set(vars(self)))
        if unknown:
            raise TypeError(f"Agent.replace() got unknown settings: {', '.join(unknown)}")
        new = copy.copy(self)
        new.tools, new.policies = list(self.tools), list(self.policies)
        for name, value in changes.items():
            setattr(new, name, value)
        if "sessions" in changes and not isinstance(new.sessions, SessionStore):
            new.sessions = SessionStore(new.sessions)
        if "limits" in changes and new.limits is None:
            new.limits = Limits()
        return new

    async def run(
        self,
        prompt: str,
        *,
        session_id: str | None = None,
        deps: DepsT | None = None,
        limits: Limits | None = None,
        approver: Approver | None = None,
    ) -> RunResult:
        """Run the agent on ``prompt`` (continuing ``session_id``'s conversation when given)."""
        return await self._execute(prompt, session_id, None, deps, limits, approver, None)

    def run_sync(self, prompt: str, **kwargs: Any) -> RunResult:
        """``run`` for code without an event loop. Ctrl-C ends the run cleanly with ``cancelled``."""
        return asyncio.run(self.run(prompt, **kwargs))

    async def resume(
        self,
        session_id: str,
        *,
        approvals: Mapping[str, bool] | None = None,
        deps: DepsT | None = None,
        limits: Limits | None = None,
        approver: Approver | None = None,
    ) -> RunResult:
        """Carry on a session's last run from its transcript: pending approvals (answered by
        ``approvals`` or the approver), calls not yet made, or the next model turn. Calls that may
        have started before a crash are reported to the model, never re-run."""
        return await self._execute(None, session_id, approvals or {}, deps, limits, approver, None)

    def resume_sync(self, session_id: str, **kwargs: Any) -> RunResult:
        """``resume`` for code without an event loop."""
        return asyncio.run(self.resume(session_id, **kwargs))

    async def stream(
        self,
        prompt: str | None,
        *,
        session_id: str | None = None,
        approvals: Mapping[str, bool] | None = None,
        deps: DepsT | None = None,
        limits: Limits | None = None,
        approver: Approver | None = None,
    ) -> AsyncIterator[RunEvent]:
        """Run (``prompt`` given) or resume (``prompt=None``), yielding every event as it happens.

        The last event is ``RunFinished``; its ``result`` is the run's ``RunResult``. Leaving the loop
        early cancels the run cleanly.
        """
        queue: asyncio.Queue[RunEvent | None] = asyncio.Queue()
        resume = (approvals or {}) if prompt is None else None
        task = asyncio.ensure_future(
            self._execute(prompt, session_id, resume, deps, limits, approver, queue.put_nowait)
        )
        task.add_done_callback(lambda _t: queue.put_nowait(None))
        try:
            while (event := await queue.get()) is not None:
                yield event
            task.result()
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def compact(self, session_id: str, compactor: Any = None) -> Any:
        """Compact a session's conversation now, with ``compactor`` (the agent's own by default).

        The compaction is recorded in the transcript exactly as one made during a run, and the outputs
        it elides stay readable with ``read_output``. Returns the ``CompactionResult``, or ``None``
        when there was nothing to compact.
        """
        state = self.load_state(session_id)
        log = self.sessions.open(session_id)
        toolbox = Toolbox(self.tools, outputs=log)
        config = LoopConfig(backend=self.backend, toolbox=toolbox, compactor=compactor or self.compactor,
                            summarizer=self.summarizer)
        return await Loop(config, state, log, None).compact()

    # --- internals ----------------------------------------------------------------------------

    def load_state(self, session_id: str) -> SessionState:
        """The state a session's transcript folds to (what ``resume`` starts from)."""
        return SessionState.from_events(self.sessions.load(session_id))

    async def _execute(
        self,
        prompt: str | None,
        session_id: str | None,
        resume: Mapping[str, bool] | None,
        deps: DepsT | None,
        limits: Limits | None,
        approver: Approver | None,
        listener: Any,
    ) -> RunResult:
        known = session_id is not None and self.sessions.exists(session_id)
        if resume is not None and not known:
            raise KeyError(f"no session {session_id!r} to resume")
        state = self.load_state(session_id) if known else SessionState()  # type: ignore[arg-type]
        log = self.sessions.open(session_id)
        toolbox = Toolbox(
            self.tools, max_concurrency=self.max_concurrency, max_result_chars=self.max_result_chars,
            default_timeout=self.tool_timeout, outputs=log,
        )
        config = LoopConfig(
            backend=self.backend, toolbox=toolbox, deps=deps if deps is not None else self.deps,
            policies=self.policies, limits=limits or self.limits, approver=approver or self.approver,
            pricing=self.pricing, governor=self.thinking, compactor=self.compactor, summarizer=self.summarizer,
            max_tokens=self.max_tokens,
            temperature=self.temperature, top_p=self.top_p,
        )
        loop = Loop(config, state, log, listener)
        # With a thinking governor its history policy decides, turn by turn; two voices would flip-flop.
        if self.thinking is None and self.keep_thinking != state.keep_thinking:
            loop.emit(ContextChanged("thinking_policy", "keep" if self.keep_thinking else "strip"))
        if resume is not None:
            if isinstance(state.finished, RunFinished) and state.finished.stop_reason == "completed":
                return loop.result()
            loop.emit(RunStarted(state.run_id or new_id("r"), log.session_id, resumed=True))
            for call_id, approved in resume.items():
                if call_id in state.approvals:
                    loop.emit(ApprovalResolved(call_id, bool(approved), "answered on resume"))
        else:
            loop.close_unresolved()
            loop.emit(RunStarted(new_id("r"), log.session_id, prompt, self.instructions))
        return await loop.run()


__all__ = ["Agent"]
