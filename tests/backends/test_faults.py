"""Every fault the servers inject ends in a retry that succeeds or in the typed error that names it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from m1agent.backends import RetryPolicy
from m1agent.backends.transport import NO_RETRIES
from m1agent.errors import (
    BackendUnavailable,
    InvalidRequest,
    MalformedResponse,
    RateLimited,
    ServerError,
    StreamInterrupted,
)
from m1agent.protocol.types import TextDelta, ThinkingDelta
from m1agent.testing import Fault

from .conftest import Pair, ask, quick_timeouts, run

ANSWER = (
    "<think>\nA short answer will do; nothing to look up here, so no tool is needed.\n</think>\n"
    "The capital of France is Paris."
)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault.rate_limit(retry_after=None), id="429"),
        pytest.param(Fault.server_error(500), id="500"),
        pytest.param(Fault.server_error(503), id="503"),
        pytest.param(Fault.reset(after_chars=0), id="reset-before-output"),
    ],
)
async def test_retry_succeeds(pair: Pair, counter: Any, fault: Fault) -> None:
    async with pair.server([ANSWER], counter, faults={0: fault}) as server:
        backend = pair.backend(server)
        _, response = await run(backend, ask())
        await backend.aclose()
    assert response.turn.text == "The capital of France is Paris."
    assert response.usage.requests == 2
    assert len(server.bodies) == 2
    assert server.bodies[0] == server.bodies[1]  # the retry is the same request


async def test_retry_after_is_honoured(pair: Pair, counter: Any) -> None:
    async with pair.server([ANSWER], counter, faults={0: Fault.rate_limit(retry_after=1.0)}) as server:
        backend = pair.backend(server)
        started = time.monotonic()
        _, response = await run(backend, ask())
        elapsed = time.monotonic() - started
        await backend.aclose()
    assert response.turn.text == "The capital of France is Paris."
    assert elapsed >= 1.0  # the default backoff would have waited 0.01 s
    assert elapsed < 4.0


async def test_retries_are_bounded(pair: Pair, counter: Any) -> None:
    faults = {n: Fault.server_error(500) for n in range(5)}
    async with pair.server([ANSWER], counter, faults=faults) as server:
        backend = pair.backend(server, retry=RetryPolicy(max_retries=2, initial_delay=0.01))
        with pytest.raises(ServerError) as caught:
            await run(backend, ask())
        await backend.aclose()
    assert len(server.bodies) == 3
    assert caught.value.status == 500


async def test_rate_limit_exhausted_is_typed(pair: Pair, counter: Any) -> None:
    faults = {n: Fault.rate_limit(retry_after=0.05) for n in range(3)}
    async with pair.server([ANSWER], counter, faults=faults) as server:
        backend = pair.backend(server, retry=RetryPolicy(max_retries=1, initial_delay=0.01))
        with pytest.raises(RateLimited) as caught:
            await run(backend, ask())
        await backend.aclose()
    assert caught.value.retry_after == pytest.approx(0.05)
    assert len(server.bodies) == 2


async def test_reset_mid_stream(pair: Pair, counter: Any) -> None:
    async with pair.server([ANSWER], counter, faults={0: Fault.reset(after_chars=30)}) as server:
        backend = pair.backend(server)
        if pair.resumes:
            # Raw completions continue the answer: the second prompt ends with what already arrived.
            deltas, response = await run(backend, ask())
            assert response.raw_text == ANSWER
            assert "".join(d.text for d in deltas if isinstance(d, ThinkingDelta)) == response.turn.thinking
            assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == response.turn.text
            first, second = server.bodies
            partial = second["prompt"][len(first["prompt"]) :]
            assert partial and ANSWER.startswith(partial)
        else:
            # Chat APIs cannot continue a sampled answer: the error keeps what had arrived.
            with pytest.raises(StreamInterrupted) as caught:
                await run(backend, ask())
            assert len(caught.value.partial_text) >= 20
            assert ANSWER.startswith(caught.value.partial_text)
        await backend.aclose()


async def test_idle_stall_interrupts_within_the_idle_timeout(pair: Pair, counter: Any) -> None:
    async with pair.server([ANSWER], counter, faults={0: Fault.stall(after_chars=20)}) as server:
        backend = pair.backend(server, retry=NO_RETRIES, timeouts=quick_timeouts(stream_idle=0.5))
        last = time.monotonic()
        with pytest.raises(StreamInterrupted) as caught:
            async for _event in backend.stream(ask()):
                last = time.monotonic()
        silent = time.monotonic() - last
        await backend.aclose()
    assert 0.45 <= silent < 2.0  # from the last data to the error: the idle timeout, not the read timeout
    assert "0.5s" in str(caught.value)
    assert caught.value.partial_text


async def test_no_first_chunk_within_the_read_timeout(pair: Pair, counter: Any) -> None:
    async with pair.server([ANSWER], counter, faults={0: Fault.stall(after_chars=0)}) as server:
        backend = pair.backend(server, retry=NO_RETRIES, timeouts=quick_timeouts(read=0.6, stream_idle=0.2))
        started = time.monotonic()
        with pytest.raises((StreamInterrupted, BackendUnavailable)):
            await run(backend, ask())
        elapsed = time.monotonic() - started
        await backend.aclose()
    assert elapsed < 3.0


async def test_stall_before_output_is_retried(pair: Pair, counter: Any) -> None:
    async with pair.server([ANSWER], counter, faults={0: Fault.stall(after_chars=0)}) as server:
        backend = pair.backend(server, timeouts=quick_timeouts(read=0.4, stream_idle=0.4))
        _, response = await run(backend, ask())
        await backend.aclose()
    assert response.turn.text == "The capital of France is Paris."


async def test_malformed_sse_is_a_clear_error(pair: Pair, counter: Any) -> None:
    async with pair.server([ANSWER], counter, faults={0: Fault.malformed_sse(after_chars=10)}) as server:
        backend = pair.backend(server, retry=NO_RETRIES)
        with pytest.raises(MalformedResponse) as caught:
            await run(backend, ask())
        await backend.aclose()
    assert "not valid JSON" in str(caught.value) or "not JSON" in str(caught.value)


async def test_malformed_sse_is_retried_before_output(pair: Pair, counter: Any) -> None:
    async with pair.server([ANSWER], counter, faults={0: Fault.malformed_sse(after_chars=0)}) as server:
        backend = pair.backend(server)
        _, response = await run(backend, ask())
        await backend.aclose()
    assert response.turn.text == "The capital of France is Paris."


async def test_unreachable_server(pair: Pair, counter: Any) -> None:
    server = pair.server([ANSWER], counter).start()
    backend = pair.backend(server, retry=NO_RETRIES, timeouts=quick_timeouts(connect=1.0))
    server.stop()  # the port is now closed
    with pytest.raises(BackendUnavailable) as caught:
        await run(backend, ask())
    await backend.aclose()
    assert "reach" in str(caught.value) or "connection" in str(caught.value)
    assert caught.value.hint


async def test_script_exhausted_is_not_retried(pair: Pair, counter: Any) -> None:
    async with pair.server([], counter) as server:
        backend = pair.backend(server)
        with pytest.raises(InvalidRequest, match="script"):
            await run(backend, ask())
        await backend.aclose()
    assert len(server.bodies) == 1


async def test_resumed_answer_counts_usage_once(counter: Any) -> None:
    from m1agent.backends import Completions
    from m1agent.testing import VLLMServer

    async with VLLMServer([ANSWER], counter=counter, faults={0: Fault.reset(after_chars=40)}) as server:
        backend = Completions(server.base_url, token_counter=counter)
        _, response = await run(backend, ask())
        await backend.aclose()
    first, _second = server.bodies
    assert response.usage.input_tokens == counter.count(first["prompt"])
    assert abs(response.usage.output_tokens - (counter.count(ANSWER) + 1)) <= 2
    assert response.usage.requests == 2
