"""The interactive session of ``m1agent code``: read a line, run it (or a slash command), show what happens.

Runs stream through the rich event display; approval requests stop the display and ask y/n/always;
Ctrl-C during a run cancels the run (the transcript keeps what happened) and returns to the prompt.

The agent is configuration: a slash command that changes the thinking budget, the model or the mode
swaps in a new agent made with ``Agent.replace`` (same session store), never changes the one a run
may still hold. Another model is another backend, built from the session's backend settings as the
first one was. What happens to the conversation (a compaction too) is recorded by the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from m1agent.agent import Agent
from m1agent.backends.base import Backend
from m1agent.cli.backend_options import make_backend
from m1agent.cli.coding import CodingEnvironment, coding_policies
from m1agent.cli.display import EventPrinter, ThinkingFold
from m1agent.cli.repl import Prompter
from m1agent.cli.slash import command_names, dispatch
from m1agent.cli.status import SessionStatus
from m1agent.cli.workspace import Workspace, WorkspaceError, restore_workspace, save_workspace, saved_workspace
from m1agent.context.compaction import CompactionPolicy, CompactionResult, Compactor
from m1agent.events import ApprovalRequested, RunEvent, RunStarted, TurnFinished
from m1agent.mcp.toolset import MCPToolset
from m1agent.messages import Message
from m1agent.thinking import ThinkingBudget, ThinkingGovernor

APPROVAL_ANSWERS = {"y": "yes", "n": "no", "a": "always"}


@dataclass
class TerminalSession:
    """One person's session at a terminal: the coding environment, the conversation, the display and
    the running status. Its public methods are what slash commands use (``slash.SessionControls``)."""

    env: CodingEnvironment
    console: Console
    history_file: Path | None = None
    status: SessionStatus = field(init=False)
    workspace: Workspace = field(init=False)
    always: set[str] = field(default_factory=set, init=False)  # tools approved for the rest of the session
    _agent: Agent[Any] = field(init=False)
    _session_id: str | None = field(default=None, init=False)
    _printer: EventPrinter = field(init=False)
    _prompter: Prompter = field(init=False)
    _shown: dict[str, asyncio.Event] = field(default_factory=dict, init=False)
    _asking: bool = field(default=False, init=False)
    _held: list[RunEvent] = field(default_factory=list, init=False)
    _built: list[Backend] = field(default_factory=list, init=False)  # by switch_model; closed by aclose

    def __post_init__(self) -> None:
        self._agent = self.env.agent
        self.workspace = self.env.workspace
        backend, governor = self._agent.backend, self._agent.thinking
        budget = governor.budget.per_turn if isinstance(governor, ThinkingGovernor) else None
        self.status = SessionStatus(backend.name, backend.model, context_window=backend.context_window,
                                    thinking_budget=budget, mode=self.env.config.mode, count=self.count)
        fold = ThinkingFold(self.console, budget=budget, count=self.count)
        self._printer = EventPrinter(self.console, fold=fold)
        self._prompter = Prompter(self.history_file, self.status.line, command_names())

    # --- the loop ---------------------------------------------------------------------------

    async def main(self) -> None:
        """Read and run until ``/exit`` or Ctrl-D."""
        while True:
            try:
                line = (await self._prompter.read()).strip()
            except KeyboardInterrupt:
                continue
            except EOFError:
                return
            if not line:
                continue
            if line.startswith("/"):
                if not await dispatch(self, line):
                    return
                continue
            await self.run(line)

    async def run(self, prompt: str | None) -> None:
        """Run ``prompt`` in the conversation (``None``: carry on the session's unfinished run)."""
        task = asyncio.ensure_future(self._consume(prompt))
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            self._printer.end_stream()
            self.console.print("[yellow]interrupted[/yellow]: the run was cancelled; its transcript is kept.")
        except Exception as exc:  # the session survives a failed run; the person sees what to do
            self._printer.end_stream()
            hint = getattr(exc, "hint", "")
            self.console.print(f"[red]run failed[/red]: {escape(str(exc))}" + (f"\n{escape(hint)}" if hint else ""))
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
        try:
            await self.keep_changes()
        except Exception as exc:  # keeping a copy must never end the session
            self.console.print(f"[yellow]could not save the working copy's changes[/yellow]: {escape(str(exc))}")
        self.console.print(f"[dim]{escape(self.status.line())}[/dim]")

    async def keep_changes(self) -> None:
        """Save the working copy's changes beside the transcript, so that a resume finds them even after
        a crash (every run ends with this)."""
        if self._session_id is not None:
            patch = (await self.workspace.diff()).patch
            save_workspace(self.env.config.sessions_path, self._session_id, self.env.repo, patch)

    async def _consume(self, prompt: str | None) -> None:
        agent = self._agent  # the agent of this run, even if a command swaps in another meanwhile
        async for event in agent.stream(prompt, session_id=self._session_id, approver=self._approve):
            if isinstance(event, RunStarted):
                self._session_id = event.session_id
            self.status.update(event)
            if isinstance(event, TurnFinished):  # the server may have told the backend its window by now
                self.status.context_window = agent.backend.context_window or self.status.context_window
            if self._asking:
                self._held.append(event)
                continue
            self._show(event)

    def _show(self, event: RunEvent) -> None:
        self._printer(event)
        if isinstance(event, ApprovalRequested):
            self._shown.setdefault(event.call_id, asyncio.Event()).set()

    async def _approve(self, request: ApprovalRequested) -> bool:
        if request.name in self.always:
            return True
        shown = self._shown.setdefault(request.call_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):  # the display shows the request before we ask
            await asyncio.wait_for(shown.wait(), timeout=2.0)
        self._printer.end_stream()
        self._asking = True
        try:
            answer = await self._prompter.choose(f"allow {request.name}?", APPROVAL_ANSWERS)
        finally:
            self._asking = False
            held, self._held = self._held, []
            for event in held:
                self._show(event)
        if answer == "a":
            self.always.add(request.name)
            self.console.print(f"[dim]{escape(request.name)} is approved for the rest of this session[/dim]")
        return answer in ("y", "a")

    # --- what slash commands read -----------------------------------------------------------

    @property
    def session_id(self) -> str | None:
        """The conversation's session, ``None`` before its first run."""
        return self._session_id

    @property
    def agent(self) -> Agent[Any]:
        """The agent the next run uses."""
        return self._agent

    @property
    def backend(self) -> Backend:
        return self._agent.backend

    def count(self, text: str) -> int:
        """M1 tokens of ``text``, counted as the run counts thinking (so the live count matches the budget)."""
        counter = getattr(self._agent.thinking, "counter", None) or self._agent.backend.token_counter
        return counter.count(text)

    def history(self) -> list[Message]:
        """The conversation as the model will see it next (empty before the first run)."""
        return [] if self._session_id is None else list(self._agent.load_state(self._session_id).history)

    def last_thought(self) -> tuple[str, int]:
        """The last thought shown, and its tokens."""
        fold = self._printer.fold
        return (fold.last, fold.tokens) if fold is not None else ("", 0)

    def saved_sessions(self) -> list[str]:
        return self._agent.sessions.sessions()

    def mcp_toolsets(self) -> list[MCPToolset]:
        return [t for t in self._agent.tools if isinstance(t, MCPToolset)]

    def note(self, text: str, title: str = "") -> None:
        """A framed message from the UI itself."""
        self.console.print(Panel(escape(text), title=title or None, title_align="left", border_style="blue",
                                 expand=False))

    # --- what slash commands change ---------------------------------------------------------

    def set_thinking_budget(self, tokens: int) -> None:
        """Thinking up to ``tokens`` per answer from the next run on: a new governor, a new agent."""
        governor = self._agent.thinking
        if isinstance(governor, ThinkingGovernor):
            governor = replace(governor, budget=replace(governor.budget, per_turn=tokens))
        else:
            governor = ThinkingGovernor(ThinkingBudget.m1_80k(per_turn=tokens))
        self._agent = self._agent.replace(thinking=governor)
        self.status.thinking_budget = tokens
        if self._printer.fold is not None:
            self._printer.fold.budget = tokens

    def set_mode(self, mode: str) -> None:
        """The approval mode, under the config's rules, from the next run on."""
        self._agent = self._agent.replace(policies=coding_policies(self.env.config, mode))
        self.status.mode = mode

    def switch_model(self, model: str) -> None:
        """The configured server asked for ``model`` from the next run on: a backend built from the
        config's backend settings with the new name, so that it finds its key and host as the first did."""
        backend = make_backend(replace(self.env.config.backend, model=model))
        self._built.append(backend)
        self._agent = self._agent.replace(backend=backend)
        self.status.model = backend.model

    async def compact(self) -> tuple[int, CompactionResult | None]:
        """Compact the conversation now; the agent records it in the transcript as any compaction.
        Returns the tokens it held, and what was done (``None``: nothing old enough to compact)."""
        if self._session_id is None:
            return 0, None
        counter = self._agent.backend.token_counter
        tokens = Compactor(CompactionPolicy(limit=1), counter).tokens(self.history())
        # Down to half of what it holds now, whatever the window: the person asked for it; the last few
        # messages stay as they are.
        policy = CompactionPolicy(limit=max(tokens, 1), trigger=0.0, target=0.5, keep_recent=4, stale_turns=1,
                                  min_stub_tokens=50)
        return tokens, await self._agent.compact(self._session_id, Compactor(policy, counter))

    async def resume(self, session_id: str) -> bool:
        """Continue a saved conversation, with its working copy's changes when this one has none of its
        own, and carry on a run it left unfinished; ``False`` when there is no such session."""
        if not self._agent.sessions.exists(session_id):
            return False
        switching = session_id != self._session_id
        self._session_id = self.status.session_id = session_id
        state = self._agent.load_state(session_id)
        note = await self._restore_changes(session_id) if switching else ""
        self.console.print(f"resumed session {escape(session_id)} ({len(state.history)} messages)"
                           + (f"; {escape(note)}" if note else ""))
        if state.unresolved_calls:
            await self.run(None)
        return True

    async def _restore_changes(self, session_id: str) -> str:
        sessions = self.env.config.sessions_path
        if not saved_workspace(sessions, session_id).get("patch"):
            return ""
        if not (await self.workspace.diff()).empty:  # never mix two sessions' changes in one working copy
            return "its saved changes were not put back: the working copy has changes of its own (/diff)"
        try:
            await restore_workspace(self.workspace, sessions, session_id)
        except WorkspaceError as exc:  # the conversation still resumes; the person learns why the changes did not
            return f"its saved changes were not put back: {exc}"
        return "its changes are back in the working copy (/diff)"

    async def aclose(self) -> None:
        """Close the backends ``switch_model`` built; the first backend is its maker's to close."""
        built, self._built = self._built, []
        for backend in built:
            await backend.aclose()

    def new_conversation(self) -> None:
        """The next message starts a new session; spending so far stays on the status line."""
        self._session_id = None
        self.status.reset()
