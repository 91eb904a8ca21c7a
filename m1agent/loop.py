"""The agent loop: ask the model, check and run its calls, feed results back, until an answer or a limit.

One turn reads top to bottom: request -> stream -> turn -> policy -> dispatch -> results -> history.
Calls go down (backend, governor, gate, toolbox) and events come back up; nothing below calls back
into the loop. State lives in ``SessionState`` and changes only through events (``emit`` folds each
event, writes it to the transcript, then hands it to the listener), so what a resumed run sees is
exactly what the live run saw. The loop is re-entrant: it starts from whatever the state says is pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from m1agent import gate
from m1agent.backends.base import Backend, ModelRequest, ModelResponse
from m1agent.errors import BackendError, MalformedResponse
from m1agent.events import (
    BAD_CALL_STATUSES,
    ApprovalRequested,
    ApprovalResolved,
    ContextChanged,
    LimitHit,
    ModelCallFailed,
    RetryFeedback,
    RunEvent,
    RunFinished,
    SideRequest,
    StopReason,
    ThinkingRecovery,
    ThinkingSpent,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
)
from m1agent.limits import Limits
from m1agent.messages import AssistantMessage, Message
from m1agent.policy import Policy, StatefulPolicy
from m1agent.pricing import PriceTable
from m1agent.protocol.types import ToolCallPart
from m1agent.result import RunResult
from m1agent.session import SessionLog, SessionState, failure_key
from m1agent.tool import RunContext, ToolReturn, progress_reporter
from m1agent.toolbox import CallOutcome, Toolbox

Stop = tuple[StopReason, str]  # (stop_reason, error)


@dataclass(slots=True)
class LoopConfig:
    """What one run needs besides its state: set up by ``Agent`` from its arguments."""

    backend: Backend
    toolbox: Toolbox
    deps: Any = None
    policies: Sequence[Policy] = ()
    limits: Limits = field(default_factory=Limits)
    approver: gate.Approver | None = None
    pricing: PriceTable | None = None
    governor: Any = None  # m1agent.thinking.ThinkingGovernor (the core does not import thinking/ eagerly)
    compactor: Any = None  # m1agent.context.compaction.Compactor
    summarizer: Callable[[str], Awaitable[str]] | None = None
    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 0.95


class Loop:
    """One run of the loop over a session's state."""

    def __init__(
        self, config: LoopConfig, state: SessionState, log: SessionLog, listener: Callable[[RunEvent], None] | None
    ) -> None:
        self.cfg, self.state, self.log, self.listener = config, state, log, listener
        self._final_message = ""
        self._exception: BaseException | None = None
        self._summarizer: Any = None  # m1agent.thinking.summarize.BackendSummarizer, made when first needed
        self._progress: Callable[[Any], None] = lambda _event: None
        # This run's policies: stateful ones are copies holding the session's recorded state.
        self.policies = [
            p.for_session(state.policy_states.get(p.name)) if isinstance(p, StatefulPolicy) else p
            for p in config.policies
        ]

    def emit(self, *events: RunEvent) -> None:
        """Fold each event into the state, write it to the transcript, then pass it on."""
        for event in events:
            self.state.apply(event)
            self.log.append(event)
            if self.listener is not None:
                self.listener(event)

    # --- the run ------------------------------------------------------------------------------

    async def run(self) -> RunResult:
        """Run until an answer, a limit, a pending approval or cancellation; always return a result."""
        stop: Stop
        started = time.monotonic()
        self._progress = progress_reporter(self.listener)
        try:
            async with contextlib.AsyncExitStack() as stack:
                for toolset in self.cfg.toolbox.toolsets:
                    await stack.enter_async_context(toolset)
                async with asyncio.timeout(self.cfg.limits.max_wall_time):
                    stop = await self._steps(started)
        except TimeoutError:
            self.emit(*gate.interrupted(self.state, "the run's wall-time limit was reached while this call ran"))
            self.emit(LimitHit("max_wall_time", time.monotonic() - started, self.cfg.limits.max_wall_time or 0))
            stop = ("max_wall_time", "")
        except asyncio.CancelledError:
            self.emit(*gate.interrupted(self.state, "the run was cancelled while this call ran"))
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            stop = ("cancelled", "")
        except BackendError as exc:
            self._exception, stop = exc, ("backend_error", str(exc))
        except Exception as exc:  # a bug or a toolset failing to start: report it, keep the session
            self._exception, stop = exc, ("error", f"{type(exc).__name__}: {exc}")
        st = self.state
        finished = RunFinished(st.run_id, stop[0], self._output(), st.run_usage, st.run_cost, stop[1])
        self.state.apply(finished)
        result = self.result()
        self.log.append(finished)
        if self.listener is not None:
            self.listener(dataclasses.replace(finished, result=result))
        return result

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
            bounds = {name: self.cfg.toolbox.max_retries(name) for name in st.tool_failures}
            exhausted = limits.retries_exhausted(st.format_failures, st.tool_failures, bounds)
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
        st, cfg, gov, backend = self.state, self.cfg, self.cfg.governor, self.cfg.backend
        index = st.next_turn
        specs = await cfg.toolbox.refresh()
        await self.compact()
        messages = await self._messages_to_send()
        request = ModelRequest(
            messages=list(messages), tools=specs, max_tokens=cfg.max_tokens, temperature=cfg.temperature,
            top_p=cfg.top_p, turn_index=index,
        )
        cap = prompt_tokens = 0
        if gov is not None:  # it sizes max_tokens against the window, so the prompt is counted exactly
            prompt_tokens = gov.prompt_tokens(messages, specs, backend.token_counter)
            plan = gov.plan(turn_index=index, history=st.history, prompt_tokens=prompt_tokens,
                            context_window=backend.context_window, used=st.run_thinking)
            if plan is None:
                self.emit(LimitHit("thinking_budget", st.run_thinking, gov.budget.per_run or 0))
                return ("thinking_budget_exhausted", "")
            request.max_tokens, cap = plan.max_tokens, plan.thinking_cap
        self.emit(TurnStarted(index, len(messages), request.max_tokens, cap or None))
        response = await self._generate(request)
        stop = None
        if gov is not None:
            response, stop = await self._govern(request, response, cap, prompt_tokens)
        turn, model = response.turn, response.model or backend.model
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
                cfg.limits.max_format_retries, gate.problems_feedback(turn.problems), in_history=True,
            ))
        return stop

    async def compact(self) -> Any:
        """Late and lossless first; the event replaces the history. Elided outputs stay readable."""
        if self.cfg.compactor is None:
            return None
        compacted = await self.cfg.compactor.compact(self.state.history, summarize=self.cfg.summarizer)
        if compacted is not None:
            for call_id, text in compacted.elided.items():  # the stubs point at read_output(id=call_id)
                if self.log.read_output(call_id) is None:
                    self.log.save_output(call_id, text)
            self.emit(compacted.event())
        return compacted

    async def _messages_to_send(self) -> list[Message]:
        gov, backend = self.cfg.governor, self.cfg.backend
        if gov is None:
            return self.state.view
        if gov.history.describe() != self.state.thinking_policy:
            self.emit(ContextChanged("thinking_policy", gov.history.describe()))  # the prompt prefix breaks
        if gov.history.mode in ("strip", "keep"):
            return self.state.view
        from m1agent.thinking.summarize import BackendSummarizer

        # Summaries of earlier thoughts are requests of this run: their tokens count in its usage and cost.
        self._summarizer = self._summarizer or BackendSummarizer(backend)
        view: list[Message] = await gov.history.apply(self.state.history, self._summarizer)
        for response in self._summarizer.take_responses():
            response = gov.account(response, backend.token_counter)
            model = response.model or backend.model
            cost = self.cfg.pricing.cost(model, response.usage) if self.cfg.pricing is not None else None
            self.emit(SideRequest("thinking_summary", response.usage, cost, model))
        return view

    async def _generate(self, request: ModelRequest) -> ModelResponse:
        """One generation. The backend owns retries; a failure it gives up on is recorded, then raised."""
        response: ModelResponse | None = None
        try:
            async for event in self.cfg.backend.stream(request):
                if isinstance(event, ModelResponse):
                    response = event
                else:
                    self.emit(event)
            if response is None:
                raise MalformedResponse("the stream ended without a final response")
        except BackendError as exc:
            self.emit(ModelCallFailed(request.turn_index, type(exc).__name__, str(exc), exc.attempts or 1))
            raise
        return response

    async def _govern(
        self, request: ModelRequest, response: ModelResponse, cap: int, prompt_tokens: int
    ) -> tuple[ModelResponse, Stop | None]:
        """Count thinking, and recover on purpose when thinking used up the budget."""
        from m1agent.thinking import detect_exhaustion, merge_forced

        gov, backend, tried, index = self.cfg.governor, self.cfg.backend, set[str](), request.turn_index
        counter, can_continue = backend.token_counter, backend.profile.can_continue
        response = gov.account(response, counter)
        turn_used = response.usage.thinking_tokens
        run_used = self.state.run_thinking
        self.emit(ThinkingSpent(index, turn_used, turn_used, cap, run_used + turn_used, gov.budget.per_run))
        while (exhaustion := detect_exhaustion(response)) is not None:
            step = gov.recover(
                request, response, exhaustion, can_continue=can_continue, prompt_tokens=prompt_tokens,
                context_window=backend.context_window, tried=tried, counter=counter,
            )
            asked = step.request.max_tokens if step.request is not None else None
            self.emit(ThinkingRecovery(index, step.action, step.note, can_continue, exhaustion.kind, asked))
            self.emit(ContextChanged("thinking_recovery", f"{step.action}: {step.note}"))
            if step.action == "stop" or step.request is None:
                return response, ("thinking_budget_exhausted", step.note)
            request = step.request
            follow = gov.account(await self._generate(request), counter)
            spent = follow.usage.thinking_tokens
            turn_used += spent
            self.emit(ThinkingSpent(index, spent, turn_used, cap, run_used + turn_used, gov.budget.per_run))
            if step.action == "force":
                response = merge_forced(response, follow)
            else:  # the retried turn's usage still includes what the exhausted attempt cost
                response = dataclasses.replace(follow, usage=response.usage + follow.usage)
        return response, None

    # --- one turn's calls ---------------------------------------------------------------------

    async def _handle_calls(self) -> Stop | None:
        st, turn_index = self.state, self.state.open_calls_turn
        self.emit(*gate.interrupted(st, None))  # began before a crash: reported, never re-run
        if not st.unresolved_calls:
            return None
        runnable, waiting = await self._admit(turn_index, st.unresolved_calls)
        contexts = {call.id: self._context(turn_index, call) for call in runnable}
        async for item in self.cfg.toolbox.run_calls(runnable, contexts):
            if isinstance(item, ToolCallStarted):
                self.emit(item)
            else:
                self._finish(turn_index, item)
        return ("approval_pending", "") if waiting else None

    async def _admit(self, turn_index: int, calls: list[ToolCallPart]) -> tuple[list[ToolCallPart], bool]:
        """The calls that may run now, after the policies, approvals and the tool-call limit; and whether
        some wait for an approval. Every other call gets its result here."""
        st, cfg = self.state, self.cfg
        decided, events = gate.check_turn(self.policies, st.history, {c.id for c in calls}, turn_index)
        self.emit(*events)
        runnable: list[ToolCallPart] = []
        waiting = False
        budget = None if cfg.limits.max_tool_calls is None else cfg.limits.max_tool_calls - st.run_tool_calls
        for call in calls:
            tool = cfg.toolbox.get(call.name)
            if tool is None:
                self._finish(turn_index, cfg.toolbox.unknown(call))
                continue
            decision = decided.get(call.id)
            if decision is None:
                decision, events = gate.check_call(self.policies, st.history, call, turn_index)
                self.emit(*events)
            if decision.action == "deny":
                self._deny(turn_index, call, f"denied by policy: {decision.reason}")
                continue
            if decision.action == "ask" or gate.needs_approval(tool.needs_approval, call.arguments):
                answer = await self._approval(turn_index, call, decision.reason or "this tool needs approval")
                if answer is None:
                    waiting = True
                    continue
                if not answer[0]:
                    self._deny(turn_index, call, f"the user did not approve this call{answer[1]}")
                    continue
            if budget is not None and len(runnable) >= budget:
                self._deny(turn_index, call, "the run's tool-call limit was reached; this call was not run")
                continue
            runnable.append(call)
        return runnable, waiting

    async def _approval(self, turn_index: int, call: ToolCallPart, reason: str) -> tuple[bool, str] | None:
        """``(approved, note)`` from an earlier answer or the approver; ``None`` while nobody answered."""
        st = self.state
        if call.id in st.decisions:
            answer = st.decisions[call.id]
            return answer.approved, f": {answer.reason}" if answer.reason else ""
        request = st.approvals.get(call.id)
        if request is None:
            request = ApprovalRequested(turn_index, call.id, call.name, call.arguments, reason)
            self.emit(request)
        if self.cfg.approver is None:
            return None
        approved = await gate.ask(self.cfg.approver, request)
        self.emit(ApprovalResolved(call.id, approved))
        return approved, ""

    def _deny(self, turn_index: int, call: ToolCallPart, reason: str) -> None:
        self._finish(turn_index, CallOutcome(call, ToolReturn(reason, True), "denied"))

    def _finish(self, turn_index: int, outcome: CallOutcome) -> None:
        call = outcome.call
        text, output_id = self.cfg.toolbox.model_text(outcome)
        self.emit(ToolCallFinished(turn_index, call.id, call.name, text, outcome.status, output_id, outcome.elapsed,
                                   outcome.facts))
        gate.after_call(self.policies, call, outcome.result, self.state.history)
        self.emit(*gate.state_changes(self.policies, self.state.policy_states))
        if outcome.status in BAD_CALL_STATUSES:
            limit = self.cfg.toolbox.max_retries(call.name)
            limit = self.cfg.limits.max_format_retries if limit is None else limit
            failures = self.state.tool_failures.get(failure_key(call.name, outcome.status), 0)
            self.emit(RetryFeedback(turn_index, call.name, outcome.status, failures, limit))

    def _context(self, turn_index: int, call: ToolCallPart) -> RunContext[Any]:
        st = self.state
        return RunContext(
            deps=self.cfg.deps, run_id=st.run_id, session_id=self.log.session_id, turn_index=turn_index,
            call_id=call.id, tool_name=call.name, retry=st.tool_failures.get(call.name, 0), emit=self._progress,
        )

    def _policy_end(self) -> Stop | None:
        end = gate.run_end(self.policies)
        if end is None:
            return None
        self._final_message = end[1]
        return ("policy_end", end[0])

    def close_unresolved(self) -> None:
        """Before a new prompt: give every call left open by an earlier run a result."""
        self.emit(*gate.interrupted(self.state, None, started_only=False))

    def _output(self) -> str:
        if self._final_message:
            return self._final_message
        for turn in reversed(self.state.run_turns):
            if turn.message.text:
                return turn.message.text
        return ""

    def result(self) -> RunResult:
        """The ``RunResult`` of the run as it stands."""
        return RunResult.from_state(self.state, self.log.session_id, self._output(), self._exception)


__all__ = ["Loop", "LoopConfig"]
