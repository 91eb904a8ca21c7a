"""Backends against the scripted loopback servers, over real sockets and the real clients."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from m1agent.backends import VLLM, Completions, MiniMax, ModelRequest, ModelResponse, RetryPolicy, Timeouts
from m1agent.messages import Message, ToolSpec, UserMessage
from m1agent.protocol.types import StreamDelta
from m1agent.testing import Fault, MiniMaxServer, VLLMServer
from m1agent.testing.server import ScriptedServer

KEY = "sk-test-7f3a9c1e5b2d4f6a8c0e"
FAST_RETRY = RetryPolicy(max_retries=3, initial_delay=0.01, max_delay=0.05)
WEATHER = ToolSpec(
    "get_weather",
    "Get the current weather",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@dataclass(frozen=True)
class Pair:
    """One backend and the server that speaks its protocol."""

    kind: str  # "vllm", "vllm-noparser", "completions", "minimax"

    def server(self, script: Sequence[str], counter: Any, faults: dict[int, Fault] | None = None,
               **kw: Any) -> ScriptedServer:
        if self.kind == "minimax":
            return MiniMaxServer(list(script), faults=faults, api_key=KEY, counter=counter, **kw)
        parser = None if self.kind == "vllm-noparser" else "minimax"
        return VLLMServer(list(script), faults=faults, tool_parser=parser, counter=counter, **kw)

    def backend(self, server: ScriptedServer, **kw: Any) -> Any:
        kw.setdefault("retry", FAST_RETRY)
        if self.kind == "minimax":
            assert isinstance(server, MiniMaxServer)
            return MiniMax(api_key=kw.pop("api_key", KEY), host=server.host, **kw)
        assert isinstance(server, VLLMServer)
        if self.kind == "completions":
            return Completions(server.base_url, **kw)
        return VLLM(server.base_url, **kw)

    @property
    def resumes(self) -> bool:
        return self.kind == "completions"


PAIRS = [Pair("vllm"), Pair("vllm-noparser"), Pair("completions"), Pair("minimax")]


@pytest.fixture(params=PAIRS, ids=lambda p: p.kind)
def pair(request: pytest.FixtureRequest) -> Pair:
    return request.param


def ask(*messages: Message | str, **kw: Any) -> ModelRequest:
    """A request with the weather tool; plain strings become user messages."""
    kw.setdefault("tools", [WEATHER])
    history = [UserMessage(m) if isinstance(m, str) else m for m in messages or ("Weather in Paris?",)]
    return ModelRequest(messages=history, **kw)


async def run(backend: Any, request: ModelRequest) -> tuple[list[StreamDelta], ModelResponse]:
    """All deltas and the final response; checks the stream ends with exactly one response."""
    events = [event async for event in backend.stream(request)]
    assert events and isinstance(events[-1], ModelResponse)
    assert not any(isinstance(e, ModelResponse) for e in events[:-1])
    return events[:-1], events[-1]  # type: ignore[return-value]


def quick_timeouts(**kw: float) -> Timeouts:
    return Timeouts(**{"connect": 2.0, "read": 5.0, "stream_idle": 5.0, **kw})
