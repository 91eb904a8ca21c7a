"""OpenTelemetry spans from real runs against the loopback server, read back with the SDK's in-memory exporter."""

from __future__ import annotations

import contextlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from m1agent import Agent, RunFinished, RunStarted, ToolCallStarted, ToolReturn, tool
from m1agent.backends import Completions, RetryPolicy
from m1agent.testing import VLLMServer
from m1agent.testing.faults import Fault
from m1agent.thinking import ReasoningHistory, ThinkingBudget, ThinkingGovernor
from m1agent.tracing import OTelTracer, traced

ROOT = Path(__file__).resolve().parents[2]
MODEL = "MiniMaxAI/MiniMax-M1-80k"


def call(name: str, **arguments: Any) -> str:
    line = json.dumps({"name": name, "arguments": arguments})
    return f"<think>\nI need {name}.\n</think>\n<tool_calls>\n{line}\n</tool_calls>"


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
def build(target: str) -> ToolReturn:
    """Build a target."""
    return ToolReturn("no rule to make it", is_error=True, metadata={"exit_code": 2})


@tool
def deploy(target: str) -> str:
    """Deploy a target."""
    raise RuntimeError(f"cannot deploy {target}")


def new_exporter() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


@pytest.fixture
def spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    return new_exporter()


_GLOBAL: list[InMemorySpanExporter] = []


@pytest.fixture
def global_spans() -> InMemorySpanExporter:
    """The process's global tracer provider, which OpenTelemetry lets a process set only once."""
    if not _GLOBAL:
        provider, exporter = new_exporter()
        trace.set_tracer_provider(provider)
        assert trace.get_tracer_provider() is provider, "another test set the global tracer provider first"
        _GLOBAL.append(exporter)
    _GLOBAL[0].clear()
    return _GLOBAL[0]


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {s.name: s for s in exporter.get_finished_spans()}


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


async def test_a_run_is_a_tree_of_spans_with_genai_attributes(spans: Any, counter: Any) -> None:
    provider, exporter = spans
    script = [call("add", a=2, b=3), call("build", target="all"), call("deploy", target="prod"),
              "<think>\nDone.\n</think>\n5; the build and the deploy failed."]
    async with VLLMServer(script=script, counter=counter) as server:
        agent = Agent(Completions(server.base_url), tools=[add, build, deploy])
        events = [e async for e in traced(agent.stream("Add, build, deploy."), provider, model=MODEL)]
    start, end = events[0], events[-1]
    assert isinstance(start, RunStarted) and isinstance(end, RunFinished) and end.stop_reason == "completed"
    finished = exporter.get_finished_spans()
    named = by_name(exporter)
    run = named["invoke_agent m1agent"]
    turns = sorted((s for s in finished if s.name.startswith("turn ")), key=lambda s: s.name)
    chats = sorted((s for s in finished if s.name.startswith("chat ")), key=lambda s: s.start_time or 0)

    assert parent_of(run) is None and run.kind == SpanKind.INTERNAL
    assert run.attributes is not None and run.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert run.attributes["gen_ai.provider.name"] == "minimax" and run.attributes["gen_ai.request.model"] == MODEL
    assert run.attributes["gen_ai.conversation.id"] == start.session_id
    assert [t.name for t in turns] == ["turn 0", "turn 1", "turn 2", "turn 3"]
    assert all(parent_of(t) == span_id(run) for t in turns)
    assert [parent_of(c) for c in chats] == [span_id(t) for t in turns]
    assert {c.name for c in chats} == {f"chat {MODEL}"} and {c.kind for c in chats} == {SpanKind.CLIENT}

    first = chats[0].attributes
    assert first is not None
    assert first["gen_ai.operation.name"] == "chat" and first["gen_ai.system"] == "minimax"
    assert first["gen_ai.request.model"] == MODEL and first["gen_ai.response.model"] == MODEL
    assert first["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert 0 < first["gen_ai.usage.reasoning.output_tokens"] < first["gen_ai.usage.output_tokens"]
    assert first["gen_ai.usage.input_tokens"] > 0
    assert chats[-1].attributes is not None and chats[-1].attributes["gen_ai.response.finish_reasons"] == ("stop",)

    ok, reported, raised = named["execute_tool add"], named["execute_tool build"], named["execute_tool deploy"]
    assert [parent_of(s) for s in (ok, reported, raised)] == [span_id(t) for t in turns[:3]]
    assert ok.status.status_code == StatusCode.UNSET and ok.attributes is not None
    assert ok.attributes["gen_ai.operation.name"] == "execute_tool"
    assert ok.attributes["gen_ai.tool.name"] == "add" and ok.attributes["gen_ai.tool.call.id"] == "call_0_0"
    assert "error.type" not in ok.attributes
    assert reported.status.status_code == StatusCode.ERROR and reported.attributes is not None
    assert reported.attributes["error.type"] == "error" and reported.attributes["m1agent.tool.exit_code"] == 2
    assert raised.status.status_code == StatusCode.ERROR and raised.attributes is not None
    assert raised.attributes["error.type"] == "failed" and "cannot deploy prod" in (raised.status.description or "")

    assert run.status.status_code == StatusCode.UNSET and run.attributes["m1agent.stop_reason"] == "completed"
    for key in ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.usage.reasoning.output_tokens"):
        assert run.attributes[key] == sum(c.attributes[key] for c in chats if c.attributes is not None)
    # Every span ended inside its parent: nothing was left open for the exporter to miss.
    spans_by_id = {span_id(s): s for s in finished}
    for span in finished:
        parent = spans_by_id.get(parent_of(span) or 0)
        if parent is not None:
            assert parent.start_time <= span.start_time and span.end_time <= parent.end_time


async def test_a_backend_error_marks_the_model_call_and_the_run(spans: Any, counter: Any) -> None:
    provider, exporter = spans
    always_500 = {n: Fault.server_error(500) for n in range(10)}
    async with VLLMServer(script=["never"], faults=always_500, counter=counter) as server:
        agent = Agent(Completions(server.base_url, retry=RetryPolicy(max_retries=1, initial_delay=0.01)))
        events = [e async for e in traced(agent.stream("Hi"), provider)]
    assert isinstance(events[-1], RunFinished) and events[-1].stop_reason == "backend_error"
    finished = {s.name.split(" ")[0]: s for s in exporter.get_finished_spans()}
    assert set(finished) == {"invoke_agent", "turn", "chat"}
    chat, run = finished["chat"], finished["invoke_agent"]
    assert chat.status.status_code == StatusCode.ERROR and chat.attributes is not None
    assert chat.attributes["error.type"] == "ServerError" and chat.attributes["m1agent.requests"] == 2
    assert "gen_ai.usage.input_tokens" not in chat.attributes
    assert run.status.status_code == StatusCode.ERROR and run.attributes is not None
    assert run.attributes["error.type"] == "ServerError" and run.attributes["m1agent.stop_reason"] == "backend_error"


async def test_leaving_the_loop_early_cancels_the_run_and_ends_every_span(spans: Any, counter: Any) -> None:
    provider, exporter = spans
    async with VLLMServer(script=[call("add", a=1, b=2), "<think>\nOk.\n</think>\n3"], counter=counter) as server:
        agent = Agent(Completions(server.base_url), tools=[add])
        async with contextlib.aclosing(traced(agent.stream("Add."), provider)) as events:
            async for event in events:
                if isinstance(event, ToolCallStarted):
                    break
    named = by_name(exporter)
    assert {"invoke_agent m1agent", "turn 0", "execute_tool add"} <= set(named)
    run = named["invoke_agent m1agent"]
    assert run.attributes is not None and run.attributes["m1agent.stop_reason"] == "cancelled"


async def test_the_tracer_takes_events_one_by_one_from_any_consumer(spans: Any, counter: Any) -> None:
    provider, exporter = spans
    tracer = OTelTracer(provider)
    async with VLLMServer(script=["<think>\nEasy.\n</think>\n3"], counter=counter) as server:
        async for event in Agent(Completions(server.base_url)).stream("1 + 2?"):
            tracer.on_event(event)
    named = by_name(exporter)
    # Without a requested model the model call is named after the model that answered.
    assert set(named) == {"invoke_agent m1agent", "turn 0", f"chat {MODEL}"}
    attributes = named[f"chat {MODEL}"].attributes
    assert attributes is not None and "gen_ai.request.model" not in attributes


def test_without_opentelemetry_the_error_says_what_to_install(monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'm1agent[otel]'")):
        OTelTracer()


async def test_the_readme_tracing_snippet_runs_as_written(global_spans: InMemorySpanExporter, counter: Any) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Tracing\n", 1)[1].split("\n## ", 1)[0]
    snippet = re.search(r"```python\n(.*?)```", section, re.S)
    assert snippet is not None
    async with VLLMServer(script=[call("add", a=1, b=2), "<think>\nOk.\n</think>\n3"], counter=counter) as server:
        agent = Agent(Completions(server.base_url, model=MODEL), tools=[add])
        namespace: dict[str, Any] = {}
        exec(compile(snippet.group(1), "README.md", "exec"), namespace)
        await namespace["main"](agent)
    names = {s.name for s in global_spans.get_finished_spans()}
    assert {"invoke_agent m1agent", "turn 0", "turn 1", f"chat {MODEL}", "execute_tool add"} <= names



@tool(needs_approval=True)
def release(version: str) -> str:
    """Release a version."""
    return f"released {version}"


async def paused_release(agent: Agent, provider: TracerProvider) -> str:
    """A run that stops for an approval of ``release`` (call ``call_0_0``, asked in turn 0): its session."""
    events = [e async for e in traced(agent.stream("Release 1.0."), provider, model=MODEL)]
    assert isinstance(events[-1], RunFinished) and events[-1].stop_reason == "approval_pending"
    return events[0].session_id if isinstance(events[0], RunStarted) else ""


async def test_a_resumed_run_traces_the_calls_its_earlier_turn_asked_for(
    spans: Any, counter: Any, tmp_path: Path
) -> None:
    provider, exporter = spans
    script = [call("release", version="1.0"), "<think>\nDone.\n</think>\nReleased."]
    async with VLLMServer(script=script, counter=counter) as server:
        agent = Agent(Completions(server.base_url), tools=[release], sessions=tmp_path)
        session_id = await paused_release(agent, provider)
        paused = by_name(exporter)
        exporter.clear()
        resumed = agent.stream(None, session_id=session_id, approvals={"call_0_0": True})
        events = [e async for e in traced(resumed, provider, model=MODEL)]
    assert isinstance(events[-1], RunFinished) and events[-1].stop_reason == "completed"
    asked = paused["turn 0"]
    assert [e.name for e in asked.events] == ["m1agent.approval_requested"]
    assert paused["invoke_agent m1agent"].status.status_code == StatusCode.UNSET
    assert "execute_tool release" not in paused

    named = by_name(exporter)
    run, turn, release_span = named["invoke_agent m1agent"], named["turn 0"], named["execute_tool release"]
    assert run.attributes is not None and run.attributes["m1agent.run.resumed"] is True
    assert run.attributes["gen_ai.conversation.id"] == session_id
    assert run.attributes["m1agent.run.id"] == paused["invoke_agent m1agent"].attributes["m1agent.run.id"]  # type: ignore[index]
    assert [e.name for e in run.events] == ["m1agent.approval_resolved"]
    # The call runs under the turn that asked for it, opened again in this trace, as the run's first turn.
    assert parent_of(release_span) == span_id(turn) and parent_of(turn) == span_id(run)
    assert turn.attributes is not None and turn.attributes["m1agent.turn.continued"] is True
    assert release_span.status.status_code == StatusCode.UNSET
    assert parent_of(named["turn 1"]) == span_id(run) and turn.end_time <= named["turn 1"].start_time  # type: ignore[operator]
    # The resumed part's tokens: its own model call's, not the whole run's again.
    chat = named[f"chat {MODEL}"]
    assert chat.attributes is not None and parent_of(chat) == span_id(named["turn 1"])
    for key in ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.usage.reasoning.output_tokens"):
        spent = chat.attributes[key]
        assert isinstance(spent, int) and spent > 0 and run.attributes[key] == spent


async def test_calls_an_earlier_run_left_open_are_settled_inside_the_next_run(
    spans: Any, counter: Any, tmp_path: Path
) -> None:
    provider, exporter = spans
    script = [call("release", version="1.0"), "<think>\nFine.\n</think>\nNot released."]
    async with VLLMServer(script=script, counter=counter) as server:
        agent = Agent(Completions(server.base_url), tools=[release], sessions=tmp_path)
        session_id = await paused_release(agent, provider)
        exporter.clear()
        # A new prompt instead of an answer: the pending call is closed before the new run's RunStarted.
        events = [e async for e in traced(agent.stream("Never mind.", session_id=session_id), provider)]
    assert not isinstance(events[0], RunStarted)
    named = by_name(exporter)
    run, settled = named["invoke_agent m1agent"], named["execute_tool release"]
    assert parent_of(settled) == span_id(named["turn 0"]) and parent_of(named["turn 0"]) == span_id(run)
    assert settled.status.status_code == StatusCode.ERROR and settled.attributes is not None
    assert settled.attributes["error.type"] == "interrupted"
    assert run.status.status_code == StatusCode.UNSET
    assert run.attributes is not None and run.attributes["m1agent.stop_reason"] == "completed"


async def test_a_side_request_is_counted_in_the_run_and_noted_on_it(spans: Any, counter: Any) -> None:
    provider, exporter = spans
    governor = ThinkingGovernor(ThinkingBudget(per_turn=1_000, answer_reserve=200),
                                history=ReasoningHistory("summarize"), effort=None)
    script = ["<think>\nA greeting.\n</think>\nHello.", "<think>\nShort.\n</think>\nGreeted the user.",
              "<think>\nAgain.\n</think>\nHello again."]
    async with VLLMServer(script=script, counter=counter) as server:
        agent = Agent(Completions(server.base_url), thinking=governor)
        first = await agent.run("Hi")
        # The second run summarizes the first run's thought before its own turn: a request besides the turn.
        events = [e async for e in traced(agent.stream("Hi again", session_id=first.session_id), provider)]
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.usage is not None and finished.usage.requests == 2
    named = by_name(exporter)
    run, chat = named["invoke_agent m1agent"], named[f"chat {MODEL}"]
    notes = [e for e in run.events if e.name == "m1agent.side_request"]
    assert len(notes) == 1 and notes[0].attributes is not None
    assert notes[0].attributes["m1agent.purpose"] == "thinking_summary"
    assert run.attributes is not None and chat.attributes is not None
    for key in ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.usage.reasoning.output_tokens"):
        side, own = notes[0].attributes[key], chat.attributes[key]
        assert isinstance(side, int) and isinstance(own, int) and side > 0
        assert run.attributes[key] == side + own
    assert run.attributes["gen_ai.usage.input_tokens"] == finished.usage.input_tokens
