"""The loopback servers themselves: limits, stop strings, token counts, hosted-API quirks, lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from m1agent.backends import Completions, MiniMax
from m1agent.protocol.types import ProblemKind, ThinkingDelta
from m1agent.testing import Fault, MiniMaxServer, VLLMServer

from .conftest import KEY, ask, run

LONG = "<think>\n" + "Let me think this through carefully, step by step. " * 40 + "\n</think>\nDone."


async def test_completions_max_tokens_cuts_with_finish_length(counter: Any) -> None:
    async with VLLMServer([LONG], counter=counter) as server:
        backend = Completions(server.base_url)
        _, response = await run(backend, ask(max_tokens=50))
        await backend.aclose()
    assert response.finish_reason == "length"
    assert response.usage.output_tokens == 50
    assert counter.count(response.raw_text) <= 50 < counter.count(LONG)
    assert response.turn.truncated
    assert ProblemKind.UNCLOSED_THINK in response.turn.problem_kinds
    assert response.usage.input_tokens == counter.count(server.bodies[0]["prompt"])


async def test_completions_stop_string_ends_the_output(counter: Any) -> None:
    raw = "<think>\nshort\n</think>\nAnswer.<end_of_sentence>\n<beginning_of_sentence>user name=user\nnever"
    async with VLLMServer([raw], counter=counter) as server:
        backend = Completions(server.base_url)
        _, response = await run(backend, ask())
        await backend.aclose()
    assert response.raw_text == "<think>\nshort\n</think>\nAnswer."
    assert response.finish_reason == "stop"


async def test_thinking_tokens_counted_when_a_counter_is_given(counter: Any) -> None:
    async with VLLMServer([LONG], counter=counter) as server:
        backend = Completions(server.base_url, token_counter=counter)
        _, response = await run(backend, ask())
        await backend.aclose()
    assert 0 < response.usage.thinking_tokens <= response.usage.output_tokens
    assert response.usage.thinking_tokens >= counter.count(response.turn.thinking)


async def test_continuation_is_appended_to_the_prompt(counter: Any) -> None:
    async with VLLMServer([LONG], counter=counter) as server:
        backend = Completions(server.base_url)
        _, response = await run(backend, ask(continuation="<think>\nLet me think"))
        await backend.aclose()
    assert server.bodies[0]["prompt"].endswith("<beginning_of_sentence>ai name=assistant\n<think>\nLet me think")
    # The server continues the scripted output from there, as a model would.
    assert response.raw_text == LONG[len("<think>\nLet me think") :]


def test_sync_context_manager_models_and_tokenize(counter: Any, tokenizer_dir: Path) -> None:
    with VLLMServer([], counter=counter, max_model_len=4096) as server:
        models = httpx.get(f"{server.base_url}/models").json()
        assert models["data"][0]["id"] == "MiniMaxAI/MiniMax-M1-80k"
        assert models["data"][0]["max_model_len"] == 4096
        counted = httpx.post(f"{server.url}/tokenize", json={"model": "x", "prompt": "<think>\nhello"}).json()
        assert counted["count"] == counter.count("<think>\nhello")
        assert counted["max_model_len"] == 4096
        port = server.port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/models")


def test_vllm_server_through_the_sync_openai_client(counter: Any) -> None:
    with VLLMServer(["<think>\nok\n</think>\nHi there."], counter=counter, api_key=KEY) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key=KEY)
        reply = client.chat.completions.create(model="MiniMaxAI/MiniMax-M1-80k",
                                               messages=[{"role": "user", "content": "hi"}])
        client.close()
    assert reply.choices[0].message.content == "<think>\nok\n</think>\nHi there."
    assert reply.usage is not None and reply.usage.completion_tokens > 0


@pytest.mark.parametrize("send_done", [False, True])
async def test_hosted_final_chunk_is_not_appended_twice(counter: Any, send_done: bool) -> None:
    raw = "<think>\nThe user says hello.\n</think>\nHello! Nice to meet you."
    async with MiniMaxServer([raw], api_key=KEY, counter=counter, send_done=send_done) as server:
        backend = MiniMax(api_key=KEY, host=server.host)
        deltas, response = await run(backend, ask())
        await backend.aclose()
    assert response.turn.text == "Hello! Nice to meet you."
    assert response.turn.thinking == "The user says hello."
    assert "".join(d.text for d in deltas if isinstance(d, ThinkingDelta)) == "The user says hello."
    assert response.usage.thinking_tokens == counter.count("The user says hello.")


async def test_hosted_think_block_in_content_is_split_off(counter: Any) -> None:
    raw = "<think>\nThinking in the wrong field.\n</think>\nThe answer."
    async with MiniMaxServer([raw], api_key=KEY, counter=counter, think_in_content=True) as server:
        backend = MiniMax(api_key=KEY, host=server.host)
        _, response = await run(backend, ask())
        await backend.aclose()
    assert response.turn.thinking == "Thinking in the wrong field."
    assert response.turn.text == "The answer."


async def test_hosted_request_fields(counter: Any) -> None:
    async with MiniMaxServer(["<think>\nok\n</think>\nok"] * 2, api_key=KEY, counter=counter) as server:
        backend = MiniMax(api_key=KEY, host=server.host)
        await run(backend, ask(temperature=0.0, top_p=1.5, tool_choice="none"))
        await run(backend, ask(temperature=1.7, max_tokens=1234))
        await backend.aclose()
    cold, hot = server.bodies
    assert cold["temperature"] == 0.01 and cold["top_p"] == 1.0 and cold["tool_choice"] == "none"
    assert cold["max_completion_tokens"] == 40_000 and cold["stream"] is True
    assert hot["temperature"] == 1.0 and hot["max_completion_tokens"] == 1234
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_hosted_default_limit_truncates_thinking(counter: Any) -> None:
    # Without max_completion_tokens the hosted API stops at 8192 tokens: why the backend always sets it.
    raw = "<think>\n" + "step " * 9000 + "\n</think>\nDone."
    with MiniMaxServer([raw], api_key=KEY, counter=counter) as server:
        reply = httpx.post(f"{server.host}/v1/text/chatcompletion_v2", headers={"Authorization": f"Bearer {KEY}"},
                           json={"model": "MiniMax-M1", "messages": [{"role": "user", "content": "go"}]}).json()
    assert reply["choices"][0]["finish_reason"] == "length"
    assert reply["usage"]["completion_tokens"] == 8192
    assert reply["choices"][0]["message"]["content"] == ""


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="MiniMaxServer"):
        VLLMServer([], faults={0: Fault.base_resp(1004)})
    with pytest.raises(RuntimeError, match="not running"):
        _ = VLLMServer([]).port
