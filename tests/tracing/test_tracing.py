"""OpenTelemetry spans from real runs against the loopback server, read back with the SDK's in-memory exporter."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from m1agent import Agent, ToolReturn, tool
from m1agent.backends import Completions, RetryPolicy
from m1agent.testing import VLLMServer
from m1agent.testing.faults import Fault
from m1agent.tracing import traced

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture
def spans() -> Any:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_a_run_is_a_tree_of_spans_with_genai_attributes(spans: Any, counter: Any) -> None:
    provider, exporter = spans
    script = [call("add", a=2, b=3), call("build", target="all"), "<think>\nDone.\n</think>\n5, and the build failed."]
    async with VLLMServer(script=script, counter=counter) as server:
        agent = Agent(Completions(server.base_url), tools=[add, build])
        events = [e async for e in traced(agent.stream("Add, then build."), provider)]
    assert events[-1].kind == "run_finished" and events[-1].stop_reason == "completed"
    finished = {s.name: s for s in exporter.get_finished_spans()}
    run = finished["invoke_agent m1agent"]
    turns = sorted((s for s in exporter.get_finished_spans() if s.name.startswith("turn ")), key=lambda s: s.name)
    chats = [s for s in exporter.get_finished_spans() if s.name.startswith("chat ")]
    assert [t.name for t in turns] == ["turn 0", "turn 1", "turn 2"]
    assert all(t.parent.span_id == run.context.span_id for t in turns)
    assert len(chats) == 3 and {c.parent.span_id for c in chats} == {t.context.span_id for t in turns}
    first = min(chats, key=lambda s: s.start_time)
    assert first.attributes["gen_ai.operation.name"] == "chat"
    assert first.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert first.attributes["gen_ai.usage.reasoning.output_tokens"] > 0
    assert first.attributes["gen_ai.usage.input_tokens"] > 0 and first.attributes["gen_ai.usage.output_tokens"] > 0
    ok, failed = finished["execute_tool add"], finished["execute_tool build"]
    assert ok.parent.span_id == turns[0].context.span_id and ok.status.status_code != StatusCode.ERROR
    assert ok.attributes["gen_ai.tool.name"] == "add" and ok.attributes["gen_ai.tool.call.id"] == "call_0_0"
    assert failed.status.status_code == StatusCode.ERROR and failed.attributes["error.type"] == "error"
    assert failed.attributes["m1agent.tool.exit_code"] == 2
    assert run.attributes["m1agent.stop_reason"] == "completed"
    assert run.attributes["gen_ai.usage.reasoning.output_tokens"] == sum(
        c.attributes["gen_ai.usage.reasoning.output_tokens"] for c in chats)


async def test_a_backend_error_marks_the_model_call_and_the_run(spans: Any, counter: Any) -> None:
    provider, exporter = spans
    faults = {n: Fault.server_error(500) for n in range(5)}
    async with VLLMServer(script=["never"], faults=faults, counter=counter) as server:
        agent = Agent(Completions(server.base_url, retry=RetryPolicy(max_retries=1, initial_delay=0.01)))
        events = [e async for e in traced(agent.stream("Hi"), provider)]
    assert events[-1].stop_reason == "backend_error"
    finished = {s.name.split(" ")[0]: s for s in exporter.get_finished_spans()}
    assert finished["chat"].status.status_code == StatusCode.ERROR
    assert finished["chat"].attributes["error.type"] == "ServerError"
    assert finished["chat"].attributes["m1agent.requests"] == 2
    assert finished["invoke_agent"].status.status_code == StatusCode.ERROR
    assert finished["invoke_agent"].attributes["error.type"] == "ServerError"


async def test_the_readme_tracing_snippet_runs_as_written(spans: Any, counter: Any, monkeypatch: Any) -> None:
    provider, exporter = spans
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Tracing", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.S)
    assert snippet is not None
    async with VLLMServer(script=[call("add", a=1, b=2), "<think>\nOk.\n</think>\n3"], counter=counter) as server:
        agent = Agent(Completions(server.base_url), tools=[add])
        namespace: dict[str, Any] = {"agent": agent}
        monkeypatch.setattr(sys.modules["opentelemetry.trace"], "_TRACER_PROVIDER", provider, raising=False)
        exec(compile(snippet.group(1), "README.md", "exec"), namespace)
        await namespace["main"](agent)
    names = {s.name for s in exporter.get_finished_spans()}
    assert {"invoke_agent m1agent", "execute_tool add"} <= names
