"""The policy engine: rules run at three points of a turn, every decision is audited with its reason.

It implements the core ``Policy`` protocol, ``EndsRun`` and ``StatefulPolicy``, so the agent loop
needs nothing else. The engine an ``Agent`` holds is configuration: each run works on
``for_session(state)``, a copy whose conversation state came from the session's transcript, so two
sessions never share what one user confirmed, and a resumed run knows what the live one knew.
A rule that raises never crashes the run: the call is refused (fail closed) and the error audited.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from m1agent.policies.audit import AuditEntry, AuditPoint, AuditSink, now
from m1agent.policies.rules.base import PolicyContext, Rule
from m1agent.policies.rules.transfer import PostTransferStop
from m1agent.policies.state import ConversationState
from m1agent.policies.view import DomainView, EmptyView

from m1agent.messages import Message
from m1agent.policy import Decision, RunEnd
from m1agent.protocol.types import ToolCallPart, Turn
from m1agent.tool import ToolReturn

_ALLOW = Decision.allow()


def _overrides(rule: Rule, hook: str) -> bool:
    return getattr(type(rule), hook) is not getattr(Rule, hook)


class PolicyEngine:
    """Runs ``rules`` before a turn's calls, before each call, and after each call.

    ``write_tools`` are the tools that change domain state (the confirmation gate guards them, and
    the view's cache is dropped after they run). ``now`` is the domain's fixed clock, if it has one.
    After ``max_consecutive_denials`` denials in a row (or ``max_denials`` in all), ``run_end``
    asks the loop to stop.
    """

    def __init__(
        self,
        rules: Iterable[Rule],
        *,
        view: DomainView | None = None,
        write_tools: Iterable[str] = (),
        now: datetime | None = None,
        max_consecutive_denials: int = 5,
        max_denials: int | None = None,
        sinks: Iterable[AuditSink] = (),
        name: str = "policy",
    ) -> None:
        self.rules = list(rules)
        self.view: DomainView = view if view is not None else EmptyView()
        self.write_tools = frozenset(write_tools)
        self.now = now
        self.max_consecutive_denials = max_consecutive_denials
        self.max_denials = max_denials
        self.sinks = list(sinks)
        self.name = name
        self.state = ConversationState()
        self.audit: list[AuditEntry] = []
        # This copy's own verdicts by call id: a call it refused did not run, so after_call skips it.
        self._refused: set[str] = set()
        self._turn_rules = [r for r in self.rules if _overrides(r, "check_turn")]
        self._call_rules = [r for r in self.rules if _overrides(r, "check_call")]
        self._after_rules = [r for r in self.rules if _overrides(r, "after_call")]
        self._transfer = next((r for r in self.rules if isinstance(r, PostTransferStop)), None)

    # --- per-session copies (StatefulPolicy) ---------------------------------------------------

    def for_session(self, state: Mapping[str, Any] | None) -> PolicyEngine:
        """A copy for one run holding ``state`` (from ``export_state``; ``None``: a new conversation).

        Rules, view, clock and sinks are shared (they are configuration, or the domain itself);
        the conversation state and the audit log belong to the copy.
        """
        clone = copy.copy(self)
        clone.state = ConversationState.from_json(state)
        clone.audit = []
        clone._refused = set()
        return clone

    def export_state(self) -> dict[str, Any]:
        """The conversation state as JSON data (what ``for_session`` takes back)."""
        return self.state.to_json()

    # --- the three points ---------------------------------------------------------------------

    def check_turn(self, turn: Turn, history: Sequence[Message]) -> list[Decision]:
        """One decision per call of ``turn``: turn-wide rules (one call per turn, no text beside a
        call) refuse calls here; the first refusal for a call wins."""
        calls = tuple(turn.tool_calls)
        decisions: list[Decision] = [_ALLOW] * len(calls)
        ctx = self._context(history)
        for rule in self._turn_rules:
            try:
                verdicts = rule.check_turn(turn, ctx)
            except Exception as exc:
                verdicts = [self._failed(rule, exc)] * len(calls)
            if not verdicts:
                continue
            for index, verdict in enumerate(list(verdicts)[: len(calls)]):
                if verdict is not None and verdict.action != "allow" and decisions[index].action == "allow":
                    decisions[index] = self._named(verdict, rule)
        for call, decision in zip(calls, decisions, strict=True):
            self._record("turn", call, decision)
        return decisions

    def check_call(self, call: ToolCallPart, history: Sequence[Message]) -> Decision:
        """Allow, deny with a reason, or ask the user. The first denial wins; an ``ask`` holds only
        if no rule denies."""
        ctx = self._context(history)
        asked: Decision | None = None
        for rule in self._call_rules:
            try:
                verdict = rule.check_call(call, ctx)
            except Exception as exc:
                verdict = self._failed(rule, exc)
            if verdict is None or verdict.action == "allow":
                continue
            verdict = self._named(verdict, rule)
            if verdict.action == "deny":
                self._record("call", call, verdict)
                return verdict
            asked = asked or verdict
        decision = asked or _ALLOW
        self._record("call", call, decision)
        return decision

    def after_call(self, call: ToolCallPart, result: ToolReturn, history: Sequence[Message]) -> None:
        """Update the state from a result that ran; notes go to the audit log. The loop reports
        refused calls too: one this engine refused did not run, so nothing is learned from it."""
        call_id = str(getattr(call, "id", ""))
        if call_id and call_id in self._refused:
            self._refused.discard(call_id)
            return
        ctx = self._context(history)
        state = self.state
        if call.name in self.write_tools:
            # Even a failed write may have changed something: never trust the cache past it.
            invalidate = getattr(self.view, "invalidate", None)
            if callable(invalidate):
                invalidate()
            if not result.is_error:
                state.writes_run += 1
        if not result.is_error:
            state.calls_run += 1
        for rule in self._after_rules:
            try:
                note = rule.after_call(call, result, ctx)
            except Exception as exc:
                note = f"state update failed: {type(exc).__name__}: {exc}"
            if note:
                self._emit("after", call, "note", rule.name, note)

    # --- ending -------------------------------------------------------------------------------

    def run_end(self) -> RunEnd | None:
        """Ask the loop to stop after a transfer to a human, or when denials hit their bound."""
        state = self.state
        if state.transferred and self._transfer is not None:
            return RunEnd("transferred", self._transfer.message)
        if state.consecutive_denials >= self.max_consecutive_denials:
            return RunEnd(f"policy denied {state.consecutive_denials} calls in a row")
        if self.max_denials is not None and state.denials >= self.max_denials:
            return RunEnd(f"policy denied {state.denials} calls in this run")
        return None

    def reset(self) -> None:
        """Forget the conversation (state and audit log), e.g. between tasks."""
        self.state = ConversationState()
        self.audit = []
        self._refused = set()
        invalidate = getattr(self.view, "invalidate", None)
        if callable(invalidate):
            invalidate()

    # --- helpers ------------------------------------------------------------------------------

    def _context(self, history: Sequence[Message]) -> PolicyContext:
        return PolicyContext(history, self.state, self.view, self.write_tools, self.now)

    @staticmethod
    def _named(verdict: Decision, rule: Rule) -> Decision:
        return verdict if verdict.rule else Decision(verdict.action, verdict.reason, rule.name)

    @staticmethod
    def _failed(rule: Rule, exc: Exception) -> Decision:
        return Decision.deny(
            f"The policy could not check this call ({type(exc).__name__}: {exc}), so it was not run. "
            "Check the arguments and try again.",
            rule.name,
        )

    def _record(self, point: AuditPoint, call: ToolCallPart, decision: Decision) -> None:
        state = self.state
        if decision.action == "deny":
            state.denials += 1
            state.consecutive_denials += 1
            if getattr(call, "id", ""):
                self._refused.add(str(call.id))
        elif point == "call":
            state.consecutive_denials = 0
        self._emit(point, call, decision.action, decision.rule, decision.reason)

    def _emit(self, point: AuditPoint, call: ToolCallPart, action: str, rule: str, reason: str) -> None:
        entry = AuditEntry(
            len(self.audit), point, str(getattr(call, "name", "")), str(getattr(call, "id", "")),
            action, rule, reason, now(),
        )
        self.audit.append(entry)
        for sink in self.sinks:
            try:
                sink(entry)
            except Exception:
                # A broken sink must not change a decision; the entry stays in self.audit.
                continue

    # --- reporting ----------------------------------------------------------------------------

    def denials(self) -> list[AuditEntry]:
        """The audit entries that refused a call."""
        return [entry for entry in self.audit if entry.action == "deny"]
