"""OpenTelemetry spans from a run's events: one more consumer of ``Agent.stream``, beside the UI and the transcript.

``pip install 'm1agent[otel]'``, then::

    async for event in traced(agent.stream("Fix the failing test")):
        ...

Spans nest as the run did: ``invoke_agent`` (the run) > ``turn N`` > ``chat MODEL`` (the model call) and
``execute_tool NAME`` (each tool call), with the OpenTelemetry GenAI semantic conventions' attribute names
(``gen_ai.usage.input_tokens``, ``gen_ai.usage.reasoning.output_tokens`` for thinking,
``gen_ai.response.finish_reasons``, ``gen_ai.tool.name``, ``error.type``...). Nothing here is called by the
loop: the tracer reads events, so a resumed run, or a transcript read back later, traces the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from m1agent.events import (
    ModelCallFailed,
    RunEvent,
    RunFinished,
    RunStarted,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
)

PROVIDER = "minimax"
_TRACER_NAME = "m1agent"


def _otel() -> Any:
    try:
        from opentelemetry import trace
    except ImportError:
        raise ImportError("tracing needs OpenTelemetry: pip install 'm1agent[otel]'") from None
    return trace


class OTelTracer:
    """Turns run events into spans, one event at a time (``on_event``).

    ``tracer_provider`` defaults to the global one; ``model`` names the requested model on model-call
    spans until a response names the one that answered.
    """

    def __init__(self, tracer_provider: Any = None, *, model: str = "") -> None:
        self._trace = _otel()
        self._tracer = self._trace.get_tracer(_TRACER_NAME, tracer_provider=tracer_provider)
        self.model = model
        self._run: Any = None
        self._turns: dict[int, Any] = {}
        self._model_calls: dict[int, Any] = {}
        self._tools: dict[str, Any] = {}

    def on_event(self, event: RunEvent) -> None:
        """Start or end the spans this event marks."""
        match event:
            case RunStarted():
                self._start_run(event)
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

    # --- spans ----------------------------------------------------------------------------------

    def _child(self, name: str, parent: Any, attributes: dict[str, Any]) -> Any:
        context = self._trace.set_span_in_context(parent) if parent is not None else None
        return self._tracer.start_span(name, context=context, attributes=attributes)

    def _start_run(self, event: RunStarted) -> None:
        self._close_all()
        self._run = self._child("invoke_agent m1agent", None, {
            "gen_ai.operation.name": "invoke_agent", "gen_ai.provider.name": PROVIDER,
            "gen_ai.agent.name": "m1agent", "gen_ai.conversation.id": event.session_id,
            "m1agent.run.id": event.run_id, "m1agent.run.resumed": event.resumed,
        })

    def _start_turn(self, event: TurnStarted) -> None:
        for index in [i for i in self._turns if i != event.turn_index]:  # the previous turn's calls are done
            self._turns.pop(index).end()
        turn = self._turns.get(event.turn_index) or self._child(f"turn {event.turn_index}", self._run, {
            "m1agent.turn.index": event.turn_index})
        self._turns[event.turn_index] = turn
        attributes: dict[str, Any] = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": PROVIDER}
        if self.model:
            attributes["gen_ai.request.model"] = self.model
        if event.max_tokens is not None:
            attributes["gen_ai.request.max_tokens"] = event.max_tokens
        if event.thinking_cap is not None:
            attributes["m1agent.request.thinking_cap"] = event.thinking_cap
        self._model_calls[event.turn_index] = self._child(f"chat {self.model}".strip(), turn, attributes)

    def _end_model_call(self, event: TurnFinished) -> None:
        span = self._model_calls.pop(event.turn_index, None)
        if span is None:
            return
        if event.model:
            span.update_name(f"chat {event.model}")
            span.set_attribute("gen_ai.response.model", event.model)
        usage = event.usage
        span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
        span.set_attribute("gen_ai.usage.reasoning.output_tokens", usage.thinking_tokens)
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
        span.set_attribute("error.type", event.error_type)
        span.set_attribute("m1agent.requests", event.attempts)
        span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, event.message))
        span.end()

    def _start_tool(self, event: ToolCallStarted) -> None:
        self._tools[event.call_id] = self._tool_span(event.turn_index, event.name, event.call_id)

    def _tool_span(self, turn_index: int, name: str, call_id: str) -> Any:
        return self._child(f"execute_tool {name}", self._turns.get(turn_index, self._run), {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name, "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.type": "function",
        })

    def _end_tool(self, event: ToolCallFinished) -> None:
        # A call denied, or interrupted by a crash, never started: its span is the moment it was settled.
        span = self._tools.pop(event.call_id, None) or self._tool_span(event.turn_index, event.name, event.call_id)
        span.set_attribute("m1agent.tool.status", event.status)
        for key, value in event.metadata.items():
            if value is not None:
                span.set_attribute(f"m1agent.tool.{key}", value)
        if event.status != "ok":
            span.set_attribute("error.type", event.status)
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, event.content[:200]))
        span.end()

    def _end_run(self, event: RunFinished) -> None:
        run = self._run
        self._run = None
        self._close_all()
        if run is None:
            return
        run.set_attribute("m1agent.stop_reason", event.stop_reason)
        if event.usage is not None:
            run.set_attribute("gen_ai.usage.input_tokens", event.usage.input_tokens)
            run.set_attribute("gen_ai.usage.output_tokens", event.usage.output_tokens)
            run.set_attribute("gen_ai.usage.reasoning.output_tokens", event.usage.thinking_tokens)
        if event.cost is not None:
            run.set_attribute("m1agent.cost.usd", event.cost)
        if event.stop_reason in ("backend_error", "error"):
            exception = getattr(event.result, "exception", None)
            run.set_attribute("error.type", type(exception).__name__ if exception is not None else event.stop_reason)
            run.set_status(self._trace.Status(self._trace.StatusCode.ERROR, event.error))
        run.end()

    def _close_all(self) -> None:
        """End whatever the last run left open (a run cancelled mid-call, a resumed transcript)."""
        for spans in (self._tools, self._model_calls, self._turns):
            for span in spans.values():
                span.end()
            spans.clear()


async def traced(
    events: AsyncIterator[RunEvent], tracer_provider: Any = None, *, model: str = ""
) -> AsyncIterator[RunEvent]:
    """``events`` passed through unchanged, each also turned into spans by an ``OTelTracer``."""
    tracer = OTelTracer(tracer_provider, model=model)
    async for event in events:
        tracer.on_event(event)
        yield event


__all__ = ["OTelTracer", "traced"]
