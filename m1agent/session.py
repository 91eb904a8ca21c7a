"""Sessions: an append-only JSONL transcript of run events, and the state folded from it.

Every event is written as one line and flushed before the loop goes on, so a process killed with
``kill -9`` loses nothing it had reported. ``SessionState.apply`` is the only place history is built:
the live loop and ``Agent.resume`` fold the same events, so a resumed run sees the exact context.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from m1agent.events import (
    BAD_CALL_STATUSES,
    ApprovalRequested,
    ApprovalResolved,
    ContextChanged,
    ModelCallFailed,
    PolicyStateChanged,
    RetryFeedback,
    RunEvent,
    RunFinished,
    RunStarted,
    SideRequest,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
    event_from_json,
    event_to_json,
)
from m1agent.messages import AssistantMessage, Message, SystemMessage, ToolResultMessage, UserMessage
from m1agent.protocol.types import ToolCallPart
from m1agent.usage import Usage

TRANSCRIPT = "transcript.jsonl"


def new_id(prefix: str) -> str:
    """A short random id such as ``s_3f9c2a1b7d4e``."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


UNKNOWN_TOOLS = "<unknown tools>"


def failure_key(name: str, status: str) -> str:
    """Whose retry count a failed call adds to: its tool's, or one shared by all made-up names."""
    return UNKNOWN_TOOLS if status == "unknown_tool" else name


# --- storage ----------------------------------------------------------------------------------


class SessionLog:
    """One session's open transcript (a file, or memory only), and its saved full tool outputs."""

    def __init__(self, session_id: str, directory: Path | None, *, fsync: bool = False) -> None:
        self.session_id = session_id
        self.directory = directory
        self.fsync = fsync
        self._memory: list[bytes] = []
        self._outputs: dict[str, str] = {}
        self._file: IO[bytes] | None = None
        if directory is not None:
            (directory / "outputs").mkdir(parents=True, exist_ok=True)
            self._file = open(directory / TRANSCRIPT, "ab")  # noqa: SIM115 - kept open for the run

    def append(self, event: RunEvent) -> None:
        """Write one event as a line and flush it (``fsync`` too when asked) before returning."""
        line = event_to_json(event) + b"\n"
        if self._file is None:
            self._memory.append(line)
            return
        self._file.write(line)
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())

    def save_output(self, output_id: str, text: str) -> None:
        """Keep the full text of a capped tool result."""
        if self.directory is None:
            self._outputs[output_id] = text
            return
        path = self.directory / "outputs" / f"{output_id}.txt"
        path.write_text(text, encoding="utf-8")

    def read_output(self, output_id: str) -> str | None:
        """The full text saved under ``output_id``, if any."""
        if self.directory is None:
            return self._outputs.get(output_id)
        path = self.directory / "outputs" / f"{Path(output_id).name}.txt"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def lines(self) -> Iterator[bytes]:
        """The transcript's lines as written so far."""
        if self.directory is None:
            yield from self._memory
            return
        if self._file is not None:
            self._file.flush()
        with open(self.directory / TRANSCRIPT, "rb") as f:
            yield from f

    def close(self) -> None:
        """Close the file; the log stays readable."""
        if self._file is not None:
            self._file.close()
            self._file = None


class SessionStore:
    """Sessions kept under ``root``: ``<root>/<session_id>/transcript.jsonl`` and ``outputs/``.

    With ``root=None`` sessions live in memory: the ``keep`` most recent ones, so that a long-lived
    agent does not grow without bound.
    """

    def __init__(self, root: str | Path | None = None, *, fsync: bool = False, keep: int = 64) -> None:
        self.root = Path(root) if root is not None else None
        self.fsync = fsync
        self.keep = keep
        self._open: dict[str, SessionLog] = {}

    def open(self, session_id: str | None = None) -> SessionLog:
        """The log of ``session_id`` (created when new), ready to append to."""
        session_id = session_id or new_id("s")
        log = self._open.get(session_id)
        if log is None or (log.directory is not None and log._file is None):
            directory = self.root / session_id if self.root is not None else None
            log = SessionLog(session_id, directory, fsync=self.fsync)
            self._open[session_id] = log
            while len(self._open) > self.keep:  # a run still writing keeps its own reference to its log
                self._open.pop(next(iter(self._open)))
        return log

    def exists(self, session_id: str) -> bool:
        """True when a transcript exists for ``session_id``."""
        if self.root is None:
            return session_id in self._open
        return (self.root / session_id / TRANSCRIPT).is_file()

    def load(self, session_id: str) -> list[RunEvent]:
        """The events of a session. A last line cut short by a crash is skipped."""
        if not self.exists(session_id):
            raise KeyError(f"no session {session_id!r}" + (f" under {self.root}" if self.root else ""))
        log = self._open.get(session_id) or SessionLog(session_id, self.root / session_id if self.root else None)
        lines = [line for line in log.lines() if line.strip()]
        events: list[RunEvent] = []
        for i, line in enumerate(lines):
            try:
                events.append(event_from_json(line))
            except ValueError:
                if i != len(lines) - 1:
                    raise
        return events

    def sessions(self) -> list[str]:
        """The ids of all stored sessions."""
        if self.root is None:
            return sorted(self._open)
        return sorted(p.parent.name for p in self.root.glob(f"*/{TRANSCRIPT}"))


# --- state ------------------------------------------------------------------------------------


@dataclass(slots=True)
class SessionState:
    """The conversation and run counters, as a fold over events. ``view`` is what the model is sent."""

    keep_thinking: bool = False
    # The reasoning-history policy last announced (strip, keep, keep_last_n(n), summarize).
    thinking_policy: str = "strip"
    history: list[Message] = field(default_factory=list)
    view: list[Message] = field(default_factory=list)
    next_turn: int = 0
    open_turn: int | None = None
    open_calls: tuple[ToolCallPart, ...] = ()
    open_calls_turn: int = 0
    results: dict[str, ToolCallFinished] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)
    approvals: dict[str, ApprovalRequested] = field(default_factory=dict)
    decisions: dict[str, ApprovalResolved] = field(default_factory=dict)
    pending_feedback: list[str] = field(default_factory=list)
    tool_failures: dict[str, int] = field(default_factory=dict)
    format_failures: int = 0
    usage: Usage = field(default_factory=Usage)
    # the current run
    run_id: str = ""
    run_turns: list[TurnFinished] = field(default_factory=list)
    run_free_turns: int = 0
    run_tool_calls: int = 0
    run_usage: Usage = field(default_factory=Usage)
    run_cost: float | None = None
    # Thinking tokens the run spent (turns and side requests): what a per-run thinking budget is checked against.
    run_thinking: int = 0
    # Each stateful policy's last recorded state, by policy name: where a resumed run starts from.
    policy_states: dict[str, dict[str, Any]] = field(default_factory=dict)
    output: str = ""
    finished: RunFinished | None = None

    @classmethod
    def from_events(cls, events: list[RunEvent], *, keep_thinking: bool = False) -> SessionState:
        """The state after ``events``: what ``Agent.resume`` starts from."""
        state = cls(keep_thinking=keep_thinking)
        for event in events:
            state.apply(event)
        return state

    @property
    def counted_turns(self) -> int:
        """Turns of this run that count toward ``max_turns`` (retry-only turns do not)."""
        return len(self.run_turns) - self.run_free_turns

    @property
    def unresolved_calls(self) -> list[ToolCallPart]:
        """Calls of the last turn that have no result yet."""
        return [c for c in self.open_calls if c.id not in self.results]

    def apply(self, event: RunEvent) -> None:
        """Fold one event into the state."""
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def _append(self, message: Message) -> None:
        self.history.append(message)
        if isinstance(message, AssistantMessage) and message.thinking and not self.keep_thinking:
            message = replace(message, thinking="")
        self.view.append(message)

    def _rebuild_view(self) -> None:
        history, self.history, self.view = self.history, [], []
        for message in history:
            self._append(message)

    def _run_started(self, e: RunStarted) -> None:
        self.run_id, self.finished, self.output = e.run_id, None, ""
        if not e.resumed:
            self.run_turns, self.run_free_turns, self.run_tool_calls = [], 0, 0
            self.run_usage, self.run_cost, self.run_thinking = Usage(), None, 0
        if e.instructions and not self.history:
            self._append(SystemMessage(e.instructions))
        if e.prompt:
            self._append(UserMessage(e.prompt))

    def _turn_started(self, e: TurnStarted) -> None:
        self.open_turn = e.turn_index

    def _turn_finished(self, e: TurnFinished) -> None:
        self.open_turn = None
        self.next_turn = e.turn_index + 1
        self._count_usage(e.usage, e.cost)
        self.run_turns.append(e)
        self._append(e.message)
        self.format_failures = self.format_failures + 1 if e.problems else 0
        if e.message.tool_calls:
            self.open_calls, self.open_calls_turn, self.results = e.message.tool_calls, e.turn_index, {}
        else:
            self.open_calls = ()
            self.output = e.message.text
            if e.problems:
                self.run_free_turns += 1

    def _call_started(self, e: ToolCallStarted) -> None:
        self.started.add(e.call_id)
        self.run_tool_calls += 1

    def _call_finished(self, e: ToolCallFinished) -> None:
        self.results[e.call_id] = e
        self.started.discard(e.call_id)
        self.approvals.pop(e.call_id, None)
        key = failure_key(e.name, e.status)
        if e.status in BAD_CALL_STATUSES:
            self.tool_failures[key] = self.tool_failures.get(key, 0) + 1
        elif e.status == "ok":  # back on track: this tool's count, and that of made-up names, start over
            self.tool_failures[key] = 0
            self.tool_failures.pop(UNKNOWN_TOOLS, None)
        if self.open_calls and not self.unresolved_calls:
            outcomes = [self.results[c.id] for c in self.open_calls]
            for r in outcomes:
                self._append(ToolResultMessage(r.call_id, r.name, r.content, r.is_error))
            if all(r.status in BAD_CALL_STATUSES for r in outcomes):
                self.run_free_turns += 1
            for text in self.pending_feedback:
                self._append(UserMessage(text))
            self.open_calls, self.pending_feedback = (), []

    def _feedback(self, e: RetryFeedback) -> None:
        if not e.in_history:
            return
        if self.open_calls:
            self.pending_feedback.append(e.message)
        else:
            self._append(UserMessage(e.message))

    def _approval_requested(self, e: ApprovalRequested) -> None:
        self.approvals[e.call_id] = e

    def _approval_resolved(self, e: ApprovalResolved) -> None:
        self.decisions[e.call_id] = e
        self.approvals.pop(e.call_id, None)

    def _context_changed(self, e: ContextChanged) -> None:
        if e.what == "thinking_policy":
            self.keep_thinking = e.detail == "keep"
            self.thinking_policy = e.detail
        if e.messages is not None:
            self.history = list(e.messages)
        self._rebuild_view()

    def _side_request(self, e: SideRequest) -> None:
        self._count_usage(e.usage, e.cost)

    def _policy_state_changed(self, e: PolicyStateChanged) -> None:
        self.policy_states[e.policy] = e.state

    def _model_call_failed(self, e: ModelCallFailed) -> None:
        self._count_usage(Usage(requests=e.attempts), None)

    def _count_usage(self, usage: Usage, cost: float | None) -> None:
        self.usage = self.usage + usage
        self.run_usage = self.run_usage + usage
        self.run_thinking += usage.thinking_tokens
        if cost is not None:
            self.run_cost = (self.run_cost or 0.0) + cost

    def _run_finished(self, e: RunFinished) -> None:
        self.finished = e


_HANDLERS: dict[type, Callable[[SessionState, Any], None]] = {
    RunStarted: SessionState._run_started,
    TurnStarted: SessionState._turn_started,
    TurnFinished: SessionState._turn_finished,
    ToolCallStarted: SessionState._call_started,
    ToolCallFinished: SessionState._call_finished,
    RetryFeedback: SessionState._feedback,
    ApprovalRequested: SessionState._approval_requested,
    ApprovalResolved: SessionState._approval_resolved,
    ContextChanged: SessionState._context_changed,
    RunFinished: SessionState._run_finished,
    SideRequest: SessionState._side_request,
    ModelCallFailed: SessionState._model_call_failed,
    PolicyStateChanged: SessionState._policy_state_changed,
}

__all__ = ["TRANSCRIPT", "UNKNOWN_TOOLS", "SessionLog", "SessionState", "SessionStore", "failure_key", "new_id"]
