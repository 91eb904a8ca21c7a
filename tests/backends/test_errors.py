"""Typed errors for keys, balance, context length and hosted codes; the key never shows anywhere."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest

from m1agent.backends import VLLM, Completions, MiniMax, RetryPolicy
from m1agent.backends.transport import NO_RETRIES
from m1agent.errors import (
    AuthenticationFailed,
    BackendError,
    ContextTooLong,
    InsufficientBalance,
    InvalidRequest,
    RateLimited,
)
from m1agent.testing import Fault, MiniMaxServer, VLLMServer

from .conftest import KEY, Pair, ask, run

ANSWER = "<think>\nEasy.\n</think>\nParis."


def assert_key_hidden(*texts: str) -> None:
    for text in texts:
        assert KEY not in text


def everything_about(err: BaseException) -> str:
    return "".join(traceback.format_exception(err)) + repr(err) + str(err)


@pytest.mark.parametrize(
    "code, error",
    [(1002, RateLimited), (1004, AuthenticationFailed), (1008, InsufficientBalance), (2013, ContextTooLong),
     (1039, ContextTooLong)],
)
@pytest.mark.parametrize("in_stream", [False, True], ids=["body", "in-stream"])
async def test_base_resp_codes(counter: Any, code: int, error: type[BackendError], in_stream: bool) -> None:
    faults = {0: Fault.base_resp(code, in_stream=in_stream)}
    async with MiniMaxServer([ANSWER], faults=faults, api_key=KEY, counter=counter) as server:
        backend = MiniMax(api_key=KEY, host=server.host, retry=NO_RETRIES)
        with pytest.raises(error) as caught:
            await run(backend, ask())
        await backend.aclose()
    assert caught.value.code == code
    assert str(code) in str(caught.value)


async def test_base_resp_rate_limit_is_retried(counter: Any) -> None:
    faults = {0: Fault.base_resp(1002)}
    async with MiniMaxServer([ANSWER], faults=faults, api_key=KEY, counter=counter) as server:
        backend = MiniMax(api_key=KEY, host=server.host, retry=RetryPolicy(initial_delay=0.01))
        _, response = await run(backend, ask())
        await backend.aclose()
    assert response.turn.text == "Paris."


async def test_invalid_params_2013_without_context_words_is_invalid_request(counter: Any) -> None:
    faults = {0: Fault.base_resp(2013, "invalid params, tool_choice")}
    async with MiniMaxServer([ANSWER], faults=faults, api_key=KEY, counter=counter) as server:
        backend = MiniMax(api_key=KEY, host=server.host, retry=NO_RETRIES)
        with pytest.raises(InvalidRequest) as caught:
            await run(backend, ask())
        await backend.aclose()
    assert not isinstance(caught.value, ContextTooLong)


@pytest.mark.parametrize("kind", ["vllm", "completions"])
async def test_vllm_context_too_long(counter: Any, kind: str) -> None:
    # A real overflow: a prompt plus max_tokens beyond max_model_len gets vLLM's HTTP 400.
    async with VLLMServer([ANSWER], max_model_len=300, counter=counter) as server:
        backend = (VLLM if kind == "vllm" else Completions)(server.base_url, retry=NO_RETRIES)
        with pytest.raises(ContextTooLong) as caught:
            await run(backend, ask(max_tokens=1000))
        await backend.aclose()
    assert caught.value.status == 400
    assert "maximum context length" in str(caught.value)
    assert "compact" in caught.value.hint


async def test_wrong_key_on_vllm(counter: Any) -> None:
    async with VLLMServer([ANSWER], api_key="the-right-key", counter=counter) as server:
        backend = VLLM(server.base_url, model="MiniMaxAI/MiniMax-M1-80k", api_key=KEY, retry=NO_RETRIES)
        with pytest.raises(AuthenticationFailed) as caught:
            await run(backend, ask())
        await backend.aclose()
    assert caught.value.status == 401
    assert_key_hidden(everything_about(caught.value))


async def test_wrong_key_on_hosted_api(counter: Any) -> None:
    async with MiniMaxServer([ANSWER], api_key="the-right-key", counter=counter) as server:
        backend = MiniMax(api_key=KEY, host=server.host)
        with pytest.raises(AuthenticationFailed) as caught:
            await run(backend, ask())
        await backend.aclose()
    assert caught.value.code == 1004
    assert len(server.bodies) == 1  # not retried: a wrong key stays wrong


async def test_missing_key_fails_without_contacting_the_server(counter: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("MINIMAX_API_KEY", raising=False)
    async with MiniMaxServer([ANSWER], counter=counter) as server:
        backend = MiniMax(host=server.host)
        with pytest.raises(AuthenticationFailed, match="MINIMAX_API_KEY"):
            await run(backend, ask())
        await backend.aclose()
    assert server.requests == []


async def test_key_comes_from_the_environment(counter: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("MINIMAX_API_KEY", KEY)
    async with MiniMaxServer([ANSWER], api_key=KEY, counter=counter) as server:
        backend = MiniMax(host=server.host)
        _, response = await run(backend, ask())
        await backend.aclose()
    assert response.turn.text == "Paris."
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_key_never_in_repr_errors_or_logs(pair: Pair, counter: Any, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the clients' own included
    # The server even echoes the key in its error message: it must come out redacted.
    faults = {0: Fault.rate_limit(retry_after=0.01), 1: Fault.http(400, f"bad request from key {KEY}")}
    if pair.kind == "minimax":
        server = MiniMaxServer([ANSWER], faults=faults, api_key=KEY, counter=counter)
    else:
        server = VLLMServer([ANSWER], faults=faults, api_key=KEY, counter=counter)
    async with server:
        backend = pair.backend(server, api_key=KEY)
        with pytest.raises(InvalidRequest) as caught:
            await run(backend, ask())
        assert_key_hidden(repr(backend), str(backend), everything_about(caught.value))
        assert "***" in str(caught.value)
        await backend.aclose()
    assert len(server.bodies) == 2
    assert any("retry 1 of 3" in r.getMessage() for r in caplog.records)
    assert_key_hidden(caplog.text, *(r.getMessage() for r in caplog.records))


def test_retry_after_header_forms() -> None:
    from m1agent.backends.transport import parse_retry_after

    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT")
    assert later == 0.0  # a date in the past: no wait
