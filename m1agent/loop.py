"""The agent loop: ask the model, check and run its calls, feed results back, until an answer or a limit.

State lives in ``SessionState`` and changes only through events (``emit`` folds each event, writes
it to the transcript, then hands it to the listener), so what a resumed run sees is exactly what the
live run saw. The loop is re-entrant: it starts from whatever the state says is pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from m1agent.backends.base import Backend, ModelRequest, ModelResponse
from m1agent.errors import BackendError, MalformedResponse, RateLimited
from m1agent.events import (
    ContextChanged,
    LimitHit,
    RetryFeedback,
    RunEvent,
    RunFinished,
    SideRequest,
    ThinkingRecovery,
    ThinkingSpent,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
)
from m1agent.gate import INTERRUPTED, Approver, Gate, needs_approval, problems_feedback
from m1agent.limits import Limits
from m1agent.messages import AssistantMessage, Message
from m1agent.policy import Policy
from m1agent.pricing import PriceTable
from m1agent.protocol.types import ToolCallPart
from m1agent.result import RunResult
from m1agent.session import SessionLog, SessionState, failure_key
from m1agent.tool import RunContext
from m1agent.toolbox import RETRY_STATUSES, CallOutcome, Toolbox

Stop = tuple[str, str]  # (stop_reason, error)


@dataclass(slots=True)
class LoopConfig:
    """What one run needs besides its state: set up by ``Agent`` from its arguments."""

    backend: Backend
    toolbox: Toolbox
    deps: Any = None
    policies: Sequence[Policy] = ()
    limits: Limits = field(default_factory=Limits)
    approver: Approver | None = None
    pricing: PriceTable | None = None
    governor: Any = None  # m1agent.thinking.ThinkingGovernor
    compactor: Any = None  # m1agent.context.compaction.Compactor
    summarizer: Callable[[str], Awaitable[str]] | None = None
    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 0.95
    backend_retries: int = 2


class Loop:
    """One run of the loop over a session's state."""

    def __init__(
        self, config: LoopConfig, state: SessionState, log: SessionLog, listener: Callable[[RunEvent], None] | None
    ) -> None:
        self.cfg, self.state, self.log, self.listener = config, state, log, listener
        self._prompt_tokens = 0
        self._last_request_len = 0
        self._final_message = ""
        self.gate = Gate(config.policies, config.approver, state, self.emit)

    def emit(self, event: RunEvent) -> None:
        """Fold the event into the state, write it to the transcript, then pass it on."""
        self.state.apply(event)
        self.log.append(event)
        if self.listener is not None:
            self.listener(event)

    # --- the run ------------------------------------------------------------------------------

    async def run(self) -> RunResult:
        """Run until an answer, a limit, a pending approval or cancellation; always return a result."""
        stop: Stop
        started = time.monotonic()
        self._event_loop = asyncio.get_running_loop()
        try:
            async with contextlib.AsyncExitStack() as stack:
                for toolset in self.cfg.toolbox.toolsets:
                    await stack.enter_async_context(toolset)
                wall = self.cfg.limits.max_wall_time
                async with asyncio.timeout(wall):
                    stop = await self._steps(started)
        except TimeoutError:
            self._close_started("the run's wall-time limit was reached while this call ran")
            self.emit(LimitHit("max_wall_time", time.monotonic() - started, self.cfg.limits.max_wall_time or 0))
            stop = ("max_wall_time", "")
        except asyncio.CancelledError:
            self._close_started("the run was cancelled while this call ran")
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            stop = ("cancelled", "")
        except BackendError as exc:
            stop = ("backend_error", str(exc))
        except Exception as exc:  # a bug or a toolset failing to start: report it, keep the session
            stop = ("error", f"{type(exc).__name__}: {exc}")
        st = self.state
        self.emit(RunFinished(st.run_id, stop[0], self._output(), st.run_usage, st.run_cost, stop[1]))
        return self.result()

    async def _steps(self, started: float) -> Stop:
        st, limits = self.state, self.cfg.limits
        await self.cfg.toolbox.refresh()  # calls left open by an earlier process need their tools
        while True:
            if st.unresolved_calls:
                stop = await self._handle_calls() or self._policy_end()
                if stop is not None:
                    return stop
                continue
            last = st.history[-1] if st.history else None
            if isinstance(last, AssistantMessage) and not last.tool_calls and st.format_failures == 0:
                return ("completed", "")
            exhausted = self._retries_exhausted()
            if exhausted is not None:
                return ("retries_exhausted", exhausted)
            hit = limits.exceeded(
                turns=st.counted_turns, tool_calls=st.run_tool_calls, tokens=st.run_usage.total_tokens,
                cost=st.run_cost, elapsed=time.monotonic() - started,
            )
            if hit is not None:
                self.emit(LimitHit(*hit))
                return (hit[0], "")
            stop = await self._model_turn()
            if stop is not None:
                return stop

    # --- one model turn -----------------------------------------------------------------------

    async def _model_turn(self) -> Stop | None:
        st, cfg, gov = self.state, self.cfg, self.cfg.governor
        index = st.next_turn
        specs = await cfg.toolbox.refresh()
        if cfg.compactor is not None:  # late and lossless first; the event replaces the history
            compacted = await cfg.compactor.compact(st.history, summarize=cfg.summarizer)
            if compacted is not None:
                self.emit(compacted.event())
        messages = await self._messages_to_send()
        self._estimate_prompt(messages)
        request = ModelRequest(
            messages=list(messages), tools=specs, max_tokens=cfg.max_tokens, temperature=cfg.temperature,
            top_p=cfg.top_p, turn_index=index,
        )
        cap = None
        if gov is not None:
            # The governor sizes max_tokens against the window, so it needs the prompt counted exactly.
            if gov.counter is None:  # the backend's exact counter, when it was given one
                gov.counter = getattr(cfg.backend, "token_counter", None)
            self._prompt_tokens = gov.prompt_tokens(messages, specs)
            plan = gov.plan(
                turn_index=index, history=st.history, prompt_tokens=self._prompt_tokens,
                context_window=cfg.backend.context_window,
            )
            if plan is None:
                self.emit(LimitHit("thinking_budget", gov.used, gov.budget.per_run or 0))
                return ("thinking_budget_exhausted", "")
            request.max_tokens, cap = plan.max_tokens, plan.thinking_cap
        self.emit(TurnStarted(index, len(messages), request.max_tokens, cap))
        response = await self._generate(request)
        stop = None
        if gov is not None:
            response, stop = await self._govern(request, response, cap or 0)
        turn = response.turn
        model = response.model or cfg.backend.model
        cost = thinking_cost = None
        if cfg.pricing is not None:
            cost = cfg.pricing.cost(model, response.usage)
            thinking_cost = cfg.pricing.thinking_cost(model, response.usage)
        message = AssistantMessage(turn.text, turn.tool_calls, turn.thinking)
        self.emit(TurnFinished(
            index, message, response.usage, response.finish_reason, turn.problems, cost, model, thinking_cost
        ))
        if turn.problems and stop is None:
            self.emit(RetryFeedback(
                index, "", ",".join(turn.problem_kinds), st.format_failures,
                cfg.limits.max_format_retries, problems_feedback(turn.problems), in_history=True,
            ))
        return stop

    async def _messages_to_send(self) -> list[Message]:
        gov = self.cfg.governor
        if gov is not None and gov.history.describe() != self.state.thinking_policy:
            self.emit(ContextChanged("thinking_policy", gov.history.describe()))  # the prompt prefix breaks
        if gov is None or gov.history.mode in ("strip", "keep"):
            return self.state.view
        summarizer = gov.history.summarizer
        if gov.history.mode == "summarize" and (summarizer is None or getattr(summarizer, "per_run", False)):
            from m1agent.thinking.summarize import backend_summarizer

            # Bound to this run, so that the summaries' tokens count in this run's usage.
            summarizer = backend_summarizer(self.cfg.backend, on_response=self._side_request)
            summarizer.per_run = True  # type: ignore[attr-defined]
            gov.history.summarizer = summarizer
        view: list[Message] = await gov.history.apply(self.state.history)
        return view

    def _side_request(self, response: ModelResponse) -> None:
        """A summary request's tokens (its thinking counted too) go into the run's usage and cost."""
        response = self.cfg.governor.account(response)
        model = response.model or self.cfg.backend.model
        cost = self.cfg.pricing.cost(model, response.usage) if self.cfg.pricing is not None else None
        self.emit(SideRequest("thinking_summary", response.usage, cost, model))

    async def _generate(self, request: ModelRequest) -> ModelResponse:
        """One generation, retrying errors the backend calls retryable (bounded, with backoff)."""
        for attempt in range(self.cfg.backend_retries + 1):
            try:
                response: ModelResponse | None = None
                async for event in self.cfg.backend.stream(request):
                    if isinstance(event, ModelResponse):
                        response = event
                    else:
                        self.emit(event)
                if response is None:
                    raise MalformedResponse("the stream ended without a final response")
                return response
            except BackendError as exc:
                if not exc.retryable or attempt == self.cfg.backend_retries:
                    raise
                wait = exc.retry_after if isinstance(exc, RateLimited) and exc.retry_after else 0.5 * 2**attempt
                await asyncio.sleep(min(wait, 30.0))
        raise AssertionError("unreachable")

    async def _govern(
        self, request: ModelRequest, response: ModelResponse, cap: int
    ) -> tuple[ModelResponse, Stop | None]:
        """Count thinking, and recover on purpose when thinking used up the budget."""
        from m1agent.thinking import detect_exhaustion, merge_forced

        gov, tried, index = self.cfg.governor, set[str](), request.turn_index
        can_continue = _can_continue(self.cfg.backend)
        response = gov.account(response)
        turn_used = response.usage.thinking_tokens
        self.emit(ThinkingSpent(index, turn_used, turn_used, cap, gov.used, gov.budget.per_run))
        while (exhaustion := detect_exhaustion(response)) is not None:
            step = gov.recover(
                request, response, exhaustion, can_continue=can_continue,
                prompt_tokens=self._prompt_tokens, context_window=self.cfg.backend.context_window, tried=tried,
            )
            asked = step.request.max_tokens if step.request is not None else None
            self.emit(ThinkingRecovery(index, step.action, step.note, can_continue, exhaustion.kind, asked))
            self.emit(ContextChanged("thinking_recovery", f"{step.action}: {step.note}"))
            if step.action == "stop" or step.request is None:
                return response, ("thinking_budget_exhausted", step.note)
            request = step.request
            follow = gov.account(await self._generate(request))
            spent = follow.usage.thinking_tokens
            turn_used += spent
            self.emit(ThinkingSpent(index, spent, turn_used, cap, gov.used, gov.budget.per_run))
            if step.action == "force":
                response = merge_forced(response, follow)
            else:  # the retried turn's usage still includes what the exhausted attempt cost
                response = dataclasses.replace(follow, usage=response.usage + follow.usage)
        return response, None

    # --- one turn's calls ---------------------------------------------------------------------

    async def _handle_calls(self) -> Stop | None:
        st, cfg = self.state, self.cfg
        turn_index = st.open_calls_turn
        for call in st.unresolved_calls:
            if call.id in st.started:  # began before a crash: report it, never run it again silently
                text = f"[{call.name}] {INTERRUPTED}"
                self.emit(ToolCallFinished(turn_index, call.id, call.name, text, "interrupted"))
        calls = st.unresolved_calls
        if not calls:
            return None
        turn_decisions = self.gate.check_turn(turn_index)
        runnable: list[ToolCallPart] = []
        waiting = False
        budget = None if cfg.limits.max_tool_calls is None else cfg.limits.max_tool_calls - st.run_tool_calls
        for call in calls:
            tool = cfg.toolbox.get(call.name)
            if tool is None:
                self._finish(turn_index, cfg.toolbox.unknown(call))
                continue
            decision = turn_decisions.get(call.id) or self.gate.check_call(turn_index, call)
            if decision.action == "deny":
                self._deny(turn_index, call, f"denied by policy: {decision.reason}")
                continue
            needs = decision.action == "ask" or needs_approval(tool.needs_approval, call.arguments)
            if needs:
                approved = await self.gate.approval(turn_index, call, decision.reason or "this tool needs approval")
                if approved is None:
                    waiting = True
                    continue
                if not approved[0]:
                    self._deny(turn_index, call, f"the user did not approve this call{approved[1]}")
                    continue
            if budget is not None and len(runnable) >= budget:
                self._deny(turn_index, call, "the run's tool-call limit was reached; this call was not run")
                continue
            runnable.append(call)
        if runnable:
            await cfg.toolbox.run_calls(
                runnable,
                lambda call: self._context(turn_index, call),
                lambda call: self.emit(ToolCallStarted(turn_index, call.id, call.name, call.arguments)),
                lambda outcome: self._finish(turn_index, outcome),
            )
        if waiting:
            return ("approval_pending", "")
        return None

    def _deny(self, turn_index: int, call: ToolCallPart, reason: str) -> None:
        self._finish(turn_index, CallOutcome(call, call.name, f"[{call.name}] {reason}", "denied"))

    def _finish(self, turn_index: int, outcome: CallOutcome) -> None:
        call = outcome.call
        self.emit(ToolCallFinished(
            turn_index, call.id, outcome.name, outcome.content, outcome.status, outcome.output_id, outcome.elapsed
        ))
        self.gate.after_call(call, outcome.content, outcome.is_error)
        if outcome.status in RETRY_STATUSES:
            tool = self.cfg.toolbox.get(call.name)
            limit = tool.max_retries if tool is not None else self.cfg.limits.max_format_retries
            failures = self.state.tool_failures.get(failure_key(outcome.name, outcome.status), 0)
            self.emit(RetryFeedback(turn_index, outcome.name, outcome.status, failures, limit))

    def _context(self, turn_index: int, call: ToolCallPart) -> RunContext[Any]:
        st = self.state
        return RunContext(
            deps=self.cfg.deps, run_id=st.run_id, session_id=self.log.session_id, turn_index=turn_index,
            call_id=call.id, tool_name=call.name, retry=st.tool_failures.get(call.name, 0),
            emit=self._tool_emit,
        )

    def _tool_emit(self, event: Any) -> None:
        """What a tool reports through ``ctx.emit``: passed to the listener (not the transcript), from
        any thread, since sync tools run in worker threads."""
        if self.listener is None:
            return
        try:
            on_loop = asyncio.get_running_loop() is self._event_loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self.listener(event)
        else:
            self._event_loop.call_soon_threadsafe(self.listener, event)

    def _policy_end(self) -> Stop | None:
        end = self.gate.run_end()
        if end is None:
            return None
        self._final_message = end[1]
        return ("policy_end", end[0])

    # --- bookkeeping --------------------------------------------------------------------------

    def _retries_exhausted(self) -> str | None:
        st, limits = self.state, self.cfg.limits
        if st.format_failures > limits.max_format_retries:
            return f"the model's output could not be read {st.format_failures} times in a row"
        for name, failures in st.tool_failures.items():
            tool = self.cfg.toolbox.get(name)
            allowed = tool.max_retries if tool is not None else limits.max_format_retries
            if failures > allowed:
                return f"{name} failed {failures} times in a row (max_retries={allowed})"
        return None

    def _close_started(self, why: str) -> None:
        """Report calls that began but never finished (cancellation, wall time)."""
        st = self.state
        for call in st.unresolved_calls:
            if call.id in st.started:
                note = f"[{call.name}] error: {why}; it may or may not have taken effect."
                self.emit(ToolCallFinished(st.open_calls_turn, call.id, call.name, note, "interrupted"))

    def close_unresolved(self) -> None:
        """Before a new prompt: give every call left open by an earlier run a result."""
        st = self.state
        for call in st.unresolved_calls:
            text = f"[{call.name}] {INTERRUPTED}" if call.id in st.started else (
                f"[{call.name}] error: not run: the previous run ended before this call was made."
            )
            self.emit(ToolCallFinished(st.open_calls_turn, call.id, call.name, text, "interrupted"))

    def _estimate_prompt(self, messages: Sequence[Message]) -> None:
        """A running prompt-size estimate: last reported input and output, plus new text at ~3 chars a token."""
        last = self.state.run_turns[-1].usage if self.state.run_turns else None
        start = self._last_request_len if last is not None else 0
        new = sum(len(getattr(m, "content", "") or getattr(m, "text", "")) for m in messages[start:])
        base = last.input_tokens + last.output_tokens if last is not None else 0
        self._prompt_tokens = base + new // 3
        self._last_request_len = len(messages)

    def _output(self) -> str:
        if self._final_message:
            return self._final_message
        for turn in reversed(self.state.run_turns):
            if turn.message.text:
                return turn.message.text
        return ""

    def result(self) -> RunResult:
        """The ``RunResult`` of the run as it stands."""
        st = self.state
        finished = st.finished
        return RunResult(
            output=self._output(), stop_reason=finished.stop_reason if finished else "running",
            session_id=self.log.session_id, run_id=st.run_id, usage=st.run_usage, cost=st.run_cost,
            turns=list(st.run_turns), tool_calls=st.run_tool_calls, pending_approvals=list(st.approvals.values()),
            error=finished.error if finished else "", messages=list(st.history),
        )


def _can_continue(backend: Backend) -> bool:
    """Whether a cut-off answer can be continued in place: raw-prompt backends can, chat ones cannot."""
    return bool(getattr(backend, "can_continue", False))


__all__ = ["Loop", "LoopConfig"]
