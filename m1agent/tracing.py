"""OpenTelemetry spans from a run's events: one more consumer of ``Agent.stream``, beside the UI and the transcript.

``pip install 'm1agent[otel]'``, then::

    async for event in traced(agent.stream("Fix the failing test")):
        ...

Spans nest as the run did: ``invoke_agent`` (the run) > ``turn N`` > ``chat MODEL`` (the model call) and
``execute_tool NAME`` (each tool call), with the OpenTelemetry GenAI semantic conventions' attribute names
(``gen_ai.usage.input_tokens``, ``gen_ai.usage.reasoning.output_tokens`` for thinking,
``gen_ai.response.finish_reasons``, ``gen_ai.tool.name``, ``error.type``...). Nothing here is called by the
loop: the tracer only reads events, so it cannot slow a run down or change what it does. Spans are timed
when the tracer sees an event, so feed it the live stream.

A resumed run is a trace of its own (``m1agent.run.resumed``, the same ``gen_ai.conversation.id`` and
``m1agent.run.id`` as the part before the pause): the calls its earlier turn asked for run under a
``turn N`` span marked ``m1agent.turn.continued``, and its token counts are those spent after resuming.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from m1agent.events import (
    ApprovalRequested,
    ApprovalResolved,
    ContextChanged,
    LimitHit,
    ModelCallFailed,
    RetryFeedback,
    RunEvent,
    RunFinished,
    RunStarted,
    SideRequest,
    ThinkingRecovery,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
)
from m1agent.result import RunResult
from m1agent.usage import Usage

PROVIDER = "minimax"
_TRACER_NAME = "m1agent"
_ERROR_STOPS = frozenset({"backend_error", "error"})
# What a stream yields before its RunStarted: the calls an earlier run left open, and a thinking policy change.
_BEFORE_RUN = (ToolCallFinished, ContextChanged)


def _otel() -> Any:
    # Imported here, not at the top: tracing is an optional extra and the rest of m1agent runs without it.
    try:
        from opentelemetry import trace
    except ImportError:
        raise ImportError("m1agent.tracing needs OpenTelemetry: pip install 'm1agent[otel]'") from None
    return trace


class OTelTracer:
    """Turns run events into spans, one event at a time (``on_event``); one tracer per stream.

    ``tracer_provider`` defaults to the global one. ``model`` is the model the backend asks for
    (``agent.backend.model``): the events name only the model that answered, at the end of a call.
    """

    def __init__(self, tracer_provider: Any = None, *, model: str = "", agent_name: str = "m1agent") -> None:
        self._trace = _otel()
        self._tracer = self._trace.get_tracer(_TRACER_NAME, tracer_provider=tracer_provider)
        self.model = model
        self.agent_name = agent_name
        self._run: Any = None
        self._turns: dict[int, Any] = {}
        self._model_calls: dict[int, Any] = {}
        self._tools: dict[str, Any] = {}
        # What the run span has seen spent: RunFinished counts a resumed run's part before the pause too.
        self._usage = Usage()
        self._cost: float | None = None
        self._early: list[RunEvent] = []

    def on_event(self, event: RunEvent) -> None:
        """Start or end the spans this event marks; notable moments become span events."""
        if self._run is None and isinstance(event, _BEFORE_RUN):
            # Settled as the run starts, before its RunStarted: they go under the run's span once it exists.
            self._early.append(event)
            return
        match event:
            case RunStarted():
                early, self._early = self._early, []
                self._start_run(event)
                for held in early:
                    self.on_event(held)
            case TurnStarted():
                self._start_turn(event)
            case TurnFinished():
                self._end_model_call(event)
            case ModelCallFailed():
                self._fail_model_call(event)
            case ToolCallStarted():
                self._start_tool(event)
            case ToolCallFinished():
                self._end_tool(event)
            case RunFinished():
                self._end_run(event)
            case ThinkingRecovery(turn_index=index, action=action, exhaustion=exhaustion):
                self._note(self._model_calls.get(index), "m1agent.thinking_recovery",
                           {"m1agent.action": action, "m1agent.exhaustion": exhaustion})
            case RetryFeedback(turn_index=index, tool=name, reason=reason, attempt=attempt):
                self._note(self._turns.get(index), "m1agent.retry_feedback",
                           {"gen_ai.tool.name": name, "m1agent.reason": reason, "m1agent.attempt": attempt})
            case ApprovalRequested(turn_index=index, call_id=call_id, name=name):
                self._note(self._turns.get(index), "m1agent.approval_requested",
                           {"gen_ai.tool.name": name, "gen_ai.tool.call.id": call_id})
            case ApprovalResolved(call_id=call_id, approved=approved):
                self._note(None, "m1agent.approval_resolved",
                           {"gen_ai.tool.call.id": call_id, "m1agent.approved": approved})
            case LimitHit(limit=limit, used=used, maximum=maximum):
                self._note(None, "m1agent.limit_hit",
                           {"m1agent.limit": limit, "m1agent.used": used, "m1agent.maximum": maximum})
            case ContextChanged(what=what, detail=detail):
                self._note(None, "m1agent.context_changed", {"m1agent.what": what, "m1agent.detail": detail})
            case SideRequest(purpose=purpose, usage=usage, cost=cost, model=model):
                # Made between turns and reported once done, so it has no time of its own to be a span.
                self._count(usage, cost)
                self._note(None, "m1agent.side_request", {
                    "m1agent.purpose": purpose, "gen_ai.response.model": model,
                    "gen_ai.usage.input_tokens": usage.input_tokens, "gen_ai.usage.output_tokens": usage.output_tokens,
                    "gen_ai.usage.reasoning.output_tokens": usage.thinking_tokens})

    def close(self, error: BaseException | None = None) -> None:
        """End every span still open: the stream stopped before ``RunFinished`` (left early, or it raised).

        Leaving ``Agent.stream`` early cancels the run, so the run span says ``cancelled``; an ``error``
        marks it failed with that error's type.
        """
        run = self._run
        self._run = None
        self._early.clear()
        self._end_children()
        if run is None:
            return
        self._set_usage(run)
        if error is not None:
            self._fail(run, type(error).__name__, str(error))
        else:
            run.set_attribute("m1agent.stop_reason", "cancelled")
        run.end()

    # --- spans ----------------------------------------------------------------------------------

    def _child(self, name: str, parent: Any, attributes: dict[str, Any], kind: Any = None) -> Any:
        context = self._trace.set_span_in_context(parent) if parent is not None else None
        return self._tracer.start_span(
            name, context=context, kind=kind or self._trace.SpanKind.INTERNAL, attributes=attributes
        )

    def _note(self, span: Any, name: str, attributes: dict[str, Any]) -> None:
        """A moment worth seeing in the trace, on ``span`` or else the run's."""
        target = span if span is not None else self._run
        if target is not None:
            target.add_event(name, attributes)

    def _fail(self, span: Any, error_type: str, message: str) -> None:
        span.set_attribute("error.type", error_type)
        span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, message))

    def _start_run(self, event: RunStarted) -> None:
        self.close()  # a stream holds one run: whatever is left open came from a previous one
        self._usage, self._cost = Usage(), None
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "invoke_agent", "gen_ai.provider.name": PROVIDER,
            "gen_ai.agent.name": self.agent_name, "gen_ai.conversation.id": event.session_id,
            "m1agent.run.id": event.run_id, "m1agent.run.resumed": event.resumed,
        }
        if self.model:
            attributes["gen_ai.request.model"] = self.model
        self._run = self._child(f"invoke_agent {self.agent_name}", None, attributes)

    def _start_turn(self, event: TurnStarted) -> None:
        for index in [i for i in self._turns if i != event.turn_index]:  # the previous turn's calls are done
            self._turns.pop(index).end()
        stale = self._model_calls.pop(event.turn_index, None)
        if stale is not None:
            stale.end()
        turn = self._turns.get(event.turn_index) or self._child(
            f"turn {event.turn_index}", self._run, {"m1agent.turn.index": event.turn_index})
        self._turns[event.turn_index] = turn
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": PROVIDER,
            # The name semconv used before gen_ai.provider.name; many trace viewers still read only this one.
            "gen_ai.system": PROVIDER,
            "gen_ai.request.stream": True, "m1agent.turn.index": event.turn_index,
            "m1agent.request.messages": event.messages,
        }
        if self.model:
            attributes["gen_ai.request.model"] = self.model
        if event.max_tokens is not None:
            attributes["gen_ai.request.max_tokens"] = event.max_tokens
        if event.thinking_cap is not None:
            attributes["m1agent.request.thinking_cap"] = event.thinking_cap
        self._model_calls[event.turn_index] = self._child(
            f"chat {self.model}".strip(), turn, attributes, self._trace.SpanKind.CLIENT)

    def _turn(self, index: int) -> Any:
        """The span of turn ``index``; opened now when the turn's model call came before this stream (a
        resumed run carrying out the calls its last turn asked for)."""
        turn = self._turns.get(index)
        if turn is None and self._run is not None:
            turn = self._turns[index] = self._child(
                f"turn {index}", self._run, {"m1agent.turn.index": index, "m1agent.turn.continued": True})
        return turn

    def _count(self, usage: Usage, cost: float | None) -> None:
        self._usage = self._usage + usage
        if cost is not None:
            self._cost = (self._cost or 0.0) + cost

    def _set_usage(self, run: Any) -> None:
        run.set_attribute("gen_ai.usage.input_tokens", self._usage.input_tokens)
        run.set_attribute("gen_ai.usage.output_tokens", self._usage.output_tokens)
        run.set_attribute("gen_ai.usage.reasoning.output_tokens", self._usage.thinking_tokens)
        if self._cost is not None:
            run.set_attribute("m1agent.cost.usd", self._cost)

    def _end_model_call(self, event: TurnFinished) -> None:
        self._count(event.usage, event.cost)
        span = self._model_calls.pop(event.turn_index, None)
        if span is None:
            return
        if event.model:
            if not self.model:
                span.update_name(f"chat {event.model}")
            span.set_attribute("gen_ai.response.model", event.model)
        usage = event.usage
        span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)  # thinking included, as semconv asks
        span.set_attribute("gen_ai.usage.reasoning.output_tokens", usage.thinking_tokens)
        if usage.cached_tokens:
            span.set_attribute("gen_ai.usage.cache_read.input_tokens", usage.cached_tokens)
        span.set_attribute("gen_ai.response.finish_reasons", [event.finish_reason])
        if event.cost is not None:
            span.set_attribute("m1agent.cost.usd", event.cost)
        if event.problems:
            span.set_attribute("m1agent.parse_problems", [p.kind for p in event.problems])
        span.end()

    def _fail_model_call(self, event: ModelCallFailed) -> None:
        span = self._model_calls.pop(event.turn_index, None)
        if span is None:
            return
        self._fail(span, event.error_type, event.message)
        span.set_attribute("m1agent.requests", event.attempts)
        span.end()

    def _start_tool(self, event: ToolCallStarted) -> None:
        self._tools[event.call_id] = self._tool_span(event.turn_index, event.name, event.call_id)

    def _tool_span(self, turn_index: int, name: str, call_id: str) -> Any:
        return self._child(f"execute_tool {name}", self._turn(turn_index), {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name, "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.type": "function",
        })

    def _end_tool(self, event: ToolCallFinished) -> None:
        # A call denied, or settled after a crash, never started here: its span is the moment it was settled.
        span = self._tools.pop(event.call_id, None) or self._tool_span(event.turn_index, event.name, event.call_id)
        span.set_attribute("m1agent.tool.status", event.status)
        for key, value in event.metadata.items():
            if value is not None:
                span.set_attribute(f"m1agent.tool.{key}", value)
        if event.status != "ok":
            # The status is the low-cardinality identifier semconv asks for; the text is the model's result.
            self._fail(span, event.status, event.content[:200])
        span.end()

    def _end_run(self, event: RunFinished) -> None:
        run = self._run
        self._run = None
        self._end_children()
        if run is None:
            return
        run.set_attribute("m1agent.stop_reason", event.stop_reason)
        self._set_usage(run)
        # The transcript's RunFinished has no result; only the live stream's carries the exception.
        exception = event.result.exception if isinstance(event.result, RunResult) else None
        if exception is not None or event.stop_reason in _ERROR_STOPS:
            self._fail(run, type(exception).__name__ if exception is not None else event.stop_reason, event.error)
        run.end()

    def _end_children(self) -> None:
        for spans in (self._tools, self._model_calls, self._turns):  # innermost first, so children end first
            for span in spans.values():
                span.end()
            spans.clear()


async def traced(
    events: AsyncIterator[RunEvent], tracer_provider: Any = None, *, model: str = "", agent_name: str = "m1agent"
) -> AsyncGenerator[RunEvent, None]:
    """``events`` passed through unchanged, each also turned into spans by an ``OTelTracer``.

    Leaving the loop early closes ``events`` (which cancels an ``Agent.stream`` run) and ends the spans.
    """
    tracer = OTelTracer(tracer_provider, model=model, agent_name=agent_name)
    try:
        async for event in events:
            tracer.on_event(event)
            yield event
    except Exception as exc:
        tracer.close(exc)
        raise
    finally:
        tracer.close()
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


__all__ = ["PROVIDER", "OTelTracer", "traced"]
