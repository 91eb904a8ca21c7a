"""The thinking governor: plans each request's budget, counts thinking, and recovers from exhaustion.

The governor is a policy, not a tally: it is frozen, and what a run has spent is read from the run's
events and passed in (``plan(used=...)``), so one ``Agent`` can run many times, concurrently too, and a
resumed run continues from the figure its transcript holds. The loop asks ``plan`` before a request,
``account`` after it, and ``recover`` when ``detect_exhaustion`` says the answer never came. It never
sends the same request twice unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from m1agent.backends.base import ModelRequest, ModelResponse
from m1agent.messages import Message, ToolSpec
from m1agent.protocol.types import ProblemKind, Turn
from m1agent.thinking.budget import ThinkingBudget, compute_max_tokens, room_left
from m1agent.thinking.effort import EffortHook, TurnInfo, default_effort
from m1agent.thinking.exhaustion import Exhaustion
from m1agent.thinking.history import ReasoningHistory

if TYPE_CHECKING:
    from m1agent.tokens import TokenCounter

FORCE_CLOSE = "\n</think>\n"
THINK_OPEN = "<think>\n"
# "<think>\n" and "\n</think>\n" around the thought, by the M1 counter: room kept when forcing.
THINK_TAG_TOKENS = 7


@dataclass(frozen=True, slots=True)
class TurnPlan:
    """The budget of one request."""

    thinking_cap: int
    max_tokens: int


@dataclass(frozen=True, slots=True)
class RecoveryStep:
    """What to do about an exhausted turn. ``request`` is set for ``force`` and ``retry``."""

    action: Literal["force", "retry", "stop"]
    note: str
    request: ModelRequest | None = None


@dataclass(frozen=True, slots=True)
class ThinkingGovernor:
    """How thinking is governed: budgets, reasoning history, effort, and the counter to count with.

    ``counter`` overrides the backend's own counter; the loop passes the backend's otherwise.
    """

    budget: ThinkingBudget = field(default_factory=ThinkingBudget)
    history: ReasoningHistory = field(default_factory=ReasoningHistory)
    effort: EffortHook | None = field(default_factory=default_effort)
    counter: TokenCounter | None = None

    def run_remaining(self, used: int) -> int | None:
        """Thinking tokens left in a run that spent ``used``, or ``None`` without a per-run limit."""
        return None if self.budget.per_run is None else max(0, self.budget.per_run - used)

    def plan(
        self, *, turn_index: int, history: Sequence[Message], prompt_tokens: int, context_window: int,
        used: int = 0,
    ) -> TurnPlan | None:
        """The next request's budget, or ``None`` when the run's thinking budget is spent.

        ``used`` is the thinking the run has spent so far (``SessionState.run_thinking``).
        """
        cap = self.budget.per_turn
        if self.effort is not None:
            hinted = self.effort(TurnInfo(turn_index, history, cap))
            if hinted is not None:
                cap = min(cap, hinted)
        remaining = self.run_remaining(used)
        if remaining is not None:
            if remaining < self.budget.min_turn_thinking:
                return None
            cap = min(cap, remaining)
        max_tokens = compute_max_tokens(
            thinking_cap=cap,
            answer_reserve=self.budget.answer_reserve,
            prompt_tokens=prompt_tokens,
            context_window=context_window,
        )
        return TurnPlan(thinking_cap=cap, max_tokens=max_tokens)

    def prompt_tokens(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = (), counter: TokenCounter | None = None
    ) -> int:
        """The exact size of the M1 prompt these messages and tools render to."""
        from m1agent.protocol.openai_format import to_openai_messages, tools_to_openai
        from m1agent.protocol.render import render

        text = render(to_openai_messages(messages), tools_to_openai(tools) if tools else None)
        return self._counter(counter).count(text)

    def thinking_tokens(self, response: ModelResponse, counter: TokenCounter | None = None) -> int:
        """Thinking tokens of one response: as the server reported them, else counted exactly.

        The count covers the think block as M1 wrote it: ``<think>\n``, the thought, and
        ``\n</think>\n`` unless the output was cut off inside it.
        """
        if response.usage.thinking_tokens:
            return response.usage.thinking_tokens
        turn = response.turn
        if not turn.thinking:
            return 0
        cut = any(p.kind == ProblemKind.UNCLOSED_THINK for p in turn.problems)
        return self._counter(counter).count(THINK_OPEN + turn.thinking + ("" if cut else FORCE_CLOSE))

    def _counter(self, fallback: TokenCounter | None) -> TokenCounter:
        """The governor's own counter, else the one given (the backend's), else the best loadable."""
        if self.counter is not None:
            return self.counter
        if fallback is not None:
            return fallback
        from m1agent.tokens import load_counter

        return load_counter()

    def account(self, response: ModelResponse, counter: TokenCounter | None = None) -> ModelResponse:
        """The response with ``usage.thinking_tokens`` filled in (as reported, else counted)."""
        spent = self.thinking_tokens(response, counter)
        if spent == response.usage.thinking_tokens:
            return response
        return replace(response, usage=replace(response.usage, thinking_tokens=spent))

    def recover(
        self,
        request: ModelRequest,
        response: ModelResponse,
        exhaustion: Exhaustion,
        *,
        can_continue: bool,
        prompt_tokens: int,
        context_window: int,
        tried: set[str],
        counter: TokenCounter | None = None,
    ) -> RecoveryStep:
        """The first configured recovery that applies and was not tried yet this turn."""
        skipped: list[str] = []
        for action in self.budget.recovery:
            if action in tried:
                continue
            if action == "force":
                if exhaustion.kind != "cut_inside_think":
                    continue
                if not can_continue:
                    skipped.append("the answer cannot be forced on a chat backend, whose prompt cannot be continued")
                    continue
                step = self._force(request, response, prompt_tokens, context_window, counter)
            elif action == "retry":
                step = self._retry(request, prompt_tokens, context_window)
            else:
                step = RecoveryStep("stop", f"{exhaustion.detail}; stopping with what was produced")
            if step is not None:
                tried.add(action)
                if skipped:
                    step = replace(step, note=f"{step.note} ({'; '.join(skipped)})")
                return step
            skipped.append(f"{action} was not possible")
        return RecoveryStep("stop", f"{exhaustion.detail}; no recovery left ({'; '.join(skipped) or 'all tried'})")

    def _force(
        self, request: ModelRequest, response: ModelResponse, prompt_tokens: int, context_window: int,
        counter: TokenCounter | None,
    ) -> RecoveryStep | None:
        spent = response.usage.output_tokens or self.thinking_tokens(response, counter)
        room = room_left(context_window, prompt_tokens + spent + THINK_TAG_TOKENS)
        answer = min(self.budget.answer_reserve, room)
        if answer <= 0:
            return None
        continued = replace(
            request, continuation=request.continuation + response.raw_text + FORCE_CLOSE, max_tokens=answer
        )
        return RecoveryStep("force", "thinking was cut off; closing it and asking for the answer", continued)

    def _retry(self, request: ModelRequest, prompt_tokens: int, context_window: int) -> RecoveryStep | None:
        before = request.max_tokens or self.budget.per_turn + self.budget.answer_reserve
        bigger = min(int(before * self.budget.retry_factor), room_left(context_window, prompt_tokens))
        if bigger <= before:
            return None
        return RecoveryStep(
            "retry", f"retrying once with a bigger output budget ({before} -> {bigger} tokens)",
            replace(request, max_tokens=bigger),
        )


def merge_forced(cut: ModelResponse, continued: ModelResponse) -> ModelResponse:
    """One response from a cut-off thought and the answer generated after the forced close."""
    problems = tuple(p for p in cut.turn.problems if p.kind != ProblemKind.UNCLOSED_THINK)
    turn = Turn(
        thinking=cut.turn.thinking,
        text=continued.turn.text,
        tool_calls=continued.turn.tool_calls,
        problems=problems + tuple(p for p in continued.turn.problems if p.kind != ProblemKind.UNCLOSED_THINK),
    )
    return replace(
        continued,
        turn=turn,
        usage=cut.usage + continued.usage,
        raw_text=cut.raw_text + FORCE_CLOSE + continued.raw_text,
    )
