"""What every backend promises the loop: its profile, a counter that is never None, and retries it owns."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from m1agent.backends import (
    HOSTED_NATIVE,
    HOSTED_OPENAI,
    RAW_COMPLETIONS,
    REPLAY,
    SGLANG_CHAT,
    VLLM,
    VLLM_CHAT,
    Backend,
    Completions,
    MiniMax,
    Replay,
    RetryPolicy,
    ServerProfile,
)
from m1agent.backends.profile import finish_reason
from m1agent.errors import InvalidRequest, ServerError, StreamInterrupted
from m1agent.protocol.types import ThinkingDelta, ToolCallPart, Turn
from m1agent.testing import Fault, MiniMaxServer, VLLMServer
from m1agent.tokens import ENV_VAR, TokenizerError

from .conftest import KEY, Pair, ask, run

MODEL = "MiniMaxAI/MiniMax-M1-80k"  # VLLMServer's model: given, so that no /v1/models request is sent
THOUGHT = ("The user wants the weather in Paris, so I should call get_weather with the city set to Paris, "
           "then read the result and answer in one short sentence. ") * 5
ANSWER = f"<think>\n{THOUGHT}\n</think>\nIt is sunny in Paris."


def test_every_backend_has_a_frozen_profile_and_the_typed_members() -> None:
    backends: list[Backend] = [VLLM("http://127.0.0.1:9/v1", model="m"), Completions("http://127.0.0.1:9/v1"),
                               MiniMax("k"), Replay.from_outputs(["ok"])]
    for backend in backends:
        assert isinstance(backend, Backend)
        assert isinstance(backend.profile, ServerProfile)
        assert isinstance(backend.max_retries, int)
        assert backend.profile.can_continue is (backend.profile is RAW_COMPLETIONS)
    assert [b.profile for b in backends] == [VLLM_CHAT, RAW_COMPLETIONS, HOSTED_NATIVE, REPLAY]
    assert VLLM("http://127.0.0.1:9/v1", retry=RetryPolicy(max_retries=5)).max_retries == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        VLLM_CHAT.can_continue = True  # type: ignore[misc]
    with pytest.raises(ValueError, match="hosted"):
        MiniMax("k", profile=VLLM_CHAT)


def test_the_counter_is_loaded_on_first_use_not_at_construction(monkeypatch: Any) -> None:
    # A tokenizer path that does not exist fails when loaded: constructing a backend must not load it.
    monkeypatch.setenv(ENV_VAR, "/nonexistent/m1-tokenizer")
    backends = [VLLM("http://127.0.0.1:9/v1"), Completions("http://127.0.0.1:9/v1"), MiniMax("k"),
                Replay.from_outputs(["ok"])]
    for backend in backends:
        with pytest.raises(TokenizerError):
            _ = backend.token_counter


@pytest.mark.parametrize("kind", ["vllm", "completions"])
async def test_thinking_tokens_are_counted_without_a_counter_given(counter: Any, kind: str) -> None:
    async with VLLMServer([ANSWER], counter=counter) as server:
        backend = VLLM(server.base_url) if kind == "vllm" else Completions(server.base_url)
        _, response = await run(backend, ask())
        await backend.aclose()
    assert response.turn.thinking == THOUGHT.strip()
    block = counter.count(f"<think>\n{response.turn.thinking}\n</think>\n")
    assert block > 100
    assert response.usage.thinking_tokens == min(block, response.usage.output_tokens)
    assert response.usage.thinking_tokens > 0


async def test_the_servers_thinking_figure_wins_when_it_reports_one(counter: Any) -> None:
    async with MiniMaxServer([ANSWER], api_key=KEY, counter=counter) as server:
        backend = MiniMax(KEY, host=server.host)
        _, response = await run(backend, ask())
        await backend.aclose()
    reported = counter.count(THOUGHT)  # the server counts its reasoning_content, trailing space included
    assert response.usage.thinking_tokens == reported
    assert reported != counter.count(f"<think>\n{response.turn.thinking}\n</think>\n")  # not counted locally


def _backend(pair: Pair, server: Any, **kw: Any) -> Any:
    if pair.kind in ("vllm", "vllm-noparser", "completions"):
        kw["model"] = MODEL
    return pair.backend(server, **kw)


async def test_a_failing_generation_sends_one_plus_max_retries_requests(pair: Pair, counter: Any) -> None:
    policy = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.02)
    always = {n: Fault.server_error(500) for n in range(20)}
    async with pair.server([ANSWER], counter, faults=always) as server:
        backend = _backend(pair, server, retry=policy)
        with pytest.raises(ServerError) as caught:
            await run(backend, ask())
        await backend.aclose()
    assert backend.max_retries == 2
    assert len(server.requests) == 1 + backend.max_retries == 3
    assert caught.value.attempts == 3


async def test_an_error_not_worth_retrying_is_raised_after_one_request(pair: Pair, counter: Any) -> None:
    async with pair.server([], counter) as server:  # an empty script: every generation is an HTTP 400
        backend = _backend(pair, server)
        with pytest.raises(InvalidRequest) as caught:
            await run(backend, ask())
        await backend.aclose()
    assert len(server.requests) == 1 and caught.value.attempts == 1


async def test_a_chat_answer_broken_mid_stream_is_not_sent_again(counter: Any) -> None:
    async with VLLMServer([ANSWER], counter=counter, faults={0: Fault.reset(after_chars=40)}) as server:
        backend = VLLM(server.base_url, model=MODEL, retry=RetryPolicy(max_retries=3, initial_delay=0.01))
        with pytest.raises(StreamInterrupted) as caught:
            await run(backend, ask())
        await backend.aclose()
    assert len(server.requests) == 1 and caught.value.attempts == 1
    assert caught.value.partial_text and ANSWER.startswith(caught.value.partial_text)


def test_one_finish_mapping_for_every_server() -> None:
    plain, calling = Turn("", "hi", (), ()), Turn("", "", (ToolCallPart("f", {}, "call_0_0"),), ())
    assert finish_reason("content_filter", plain) == "content_filter"
    assert finish_reason("content_filter", calling) == "content_filter"
    assert finish_reason("length", calling) == "length"
    assert [finish_reason(r, plain) for r in ("stop", "tool_calls", "eos", None)] == ["stop"] * 4
    assert [finish_reason(r, calling) for r in ("stop", "tool_calls")] == ["tool_calls"] * 2
    assert finish_reason("abort", plain) == "error"


CALL = '<tool_calls>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_calls>'


async def test_sglang_chat_splits_the_thinking_and_leaves_calls_to_our_parser(counter: Any) -> None:
    raw = f"<think>\n{THOUGHT}\n</think>\n{CALL}"
    async with VLLMServer([raw], counter=counter, tool_parser=None, reasoning_field="reasoning_content") as server:
        backend = VLLM(server.base_url, profile=SGLANG_CHAT)
        deltas, response = await run(backend, ask())
        await backend.aclose()
    assert "".join(d.text for d in deltas if isinstance(d, ThinkingDelta)) == THOUGHT.strip()
    assert [(c.name, c.arguments) for c in response.turn.tool_calls] == [("get_weather", {"city": "Paris"})]
    assert response.finish_reason == "tool_calls" and response.usage.thinking_tokens > 0


async def test_hosted_openai_route(counter: Any) -> None:
    raw = f"<think>\n{THOUGHT}\n</think>\n{CALL}"
    async with MiniMaxServer([raw], api_key=KEY, counter=counter) as server:
        backend = MiniMax(KEY, host=server.host, profile=HOSTED_OPENAI)
        deltas, response = await run(backend, ask(temperature=0.0))
        await backend.aclose()
    assert server.requests[0].path == "/v1/chat/completions"
    assert server.bodies[0]["temperature"] == 0.01 and server.bodies[0]["max_completion_tokens"] == 40_000
    assert "".join(d.text for d in deltas if isinstance(d, ThinkingDelta)) == THOUGHT.strip()
    assert [(c.name, c.arguments) for c in response.turn.tool_calls] == [("get_weather", {"city": "Paris"})]
    assert response.usage.thinking_tokens == counter.count(f"<think>\n{THOUGHT.strip()}\n</think>\n")
