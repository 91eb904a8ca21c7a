"""vLLM's tool calls: streamed arguments are checked, corrupt ones are reported and never run."""

from __future__ import annotations

from typing import Any

import pytest

from m1agent.backends import VLLM, Completions
from m1agent.backends.vllm import WITHHELD
from m1agent.protocol.types import ProblemFound, ProblemKind, ThinkingDelta, ToolCallDone
from m1agent.testing import VLLMServer

from .conftest import ask, run

# A `}` inside a string (second call) and a `<` inside a string (third call) are what the second
# generation of vLLM's streaming parser gets wrong; the path shows its character shift.
TRICKY = (
    "<think>\nThree calls.\n</think>\n<tool_calls>\n"
    '{"name": "read_file", "arguments": {"path": "src/app/models.py"}}\n'
    '{"name": "write_file", "arguments": {"path": "a.py", "content": "def f():\\n    return {}\\n"}}\n'
    '{"name": "run", "arguments": {"command": "test 1 < 2 && echo ok"}}\n'
    "</tool_calls>"
)
EXPECTED = [
    ("read_file", {"path": "src/app/models.py"}),
    ("write_file", {"path": "a.py", "content": "def f():\n    return {}\n"}),
    ("run", {"command": "test 1 < 2 && echo ok"}),
]


async def test_streamed_calls_are_right_when_the_server_streams_them_right(counter: Any) -> None:
    async with VLLMServer([TRICKY], counter=counter) as server:
        backend = VLLM(server.base_url)
        _, response = await run(backend, ask())
        await backend.aclose()
    assert [(c.name, c.arguments) for c in response.turn.tool_calls] == EXPECTED
    assert response.turn.problems == ()


async def test_corrupted_streamed_arguments_are_reported_not_run(counter: Any) -> None:
    async with VLLMServer([TRICKY], counter=counter, streaming_defects=True) as server:
        backend = VLLM(server.base_url)
        deltas, response = await run(backend, ask())
        await backend.aclose()
    run_calls = [d.call.name for d in deltas if isinstance(d, ToolCallDone)]
    assert "write_file" not in run_calls and "run" not in run_calls
    assert [c.name for c in response.turn.tool_calls] == ["read_file"]
    bad = [p for p in response.turn.problems if p.kind == ProblemKind.INVALID_TOOL_CALL_JSON]
    assert len(bad) == 2
    assert all("Completions backend" in p.detail and "skipped" in p.detail for p in bad)
    reported = [d for d in deltas if isinstance(d, ProblemFound)]
    assert {d.call_index for d in reported if d.problem.kind == ProblemKind.INVALID_TOOL_CALL_JSON} == {1, 2}
    # The argument text the server diverted into `content` is not passed off as the answer.
    assert "echo ok" not in response.turn.text
    withheld = [p for p in response.turn.problems if p.kind == WITHHELD]
    assert withheld and "echo ok" in withheld[0].raw
    # A shifted character keeps the JSON valid: no client can see it. This is why the docs point to
    # stream=False or the Completions backend.
    assert response.turn.tool_calls[0].arguments == {"path": "src//appmodels.py"}


async def test_non_streaming_mode_gets_every_call_right(counter: Any) -> None:
    async with VLLMServer([TRICKY], counter=counter, streaming_defects=True) as server:
        backend = VLLM(server.base_url, stream=False)
        deltas, response = await run(backend, ask())
        await backend.aclose()
    assert [(c.name, c.arguments) for c in response.turn.tool_calls] == EXPECTED
    assert [d.call for d in deltas if isinstance(d, ToolCallDone)] == list(response.turn.tool_calls)
    assert response.turn.thinking == "Three calls."
    assert "stream" not in server.bodies[0]


async def test_completions_backend_is_immune(counter: Any) -> None:
    async with VLLMServer([TRICKY], counter=counter, streaming_defects=True) as server:
        backend = Completions(server.base_url)
        _, response = await run(backend, ask())
        await backend.aclose()
    assert [(c.name, c.arguments) for c in response.turn.tool_calls] == EXPECTED


async def test_close_tag_inside_an_argument_without_streaming(counter: Any) -> None:
    # vLLM's non-streaming parser drops every call here and returns the whole output as content:
    # our own parser then reads the calls from that content.
    raw = (
        "<think>\nWrite the docs.\n</think>\n<tool_calls>\n"
        '{"name": "write_file", "arguments": {"path": "m1.md", "content": "end a block with </tool_calls>"}}\n'
        "</tool_calls>"
    )
    async with VLLMServer([raw], counter=counter) as server:
        backend = VLLM(server.base_url, stream=False)
        _, response = await run(backend, ask())
        await backend.aclose()
    assert [(c.name, c.arguments["content"]) for c in response.turn.tool_calls] == [
        ("write_file", "end a block with </tool_calls>")
    ]


async def test_model_and_context_window_come_from_the_server(counter: Any) -> None:
    async with VLLMServer(["<think>\nok\n</think>\nok"], counter=counter, model="m1-local",
                          max_model_len=65_536) as server:
        backend = VLLM(server.base_url)
        _, response = await run(backend, ask())
        await backend.aclose()
    assert backend.model == "m1-local" == response.model
    assert backend.context_window == 65_536
    assert server.bodies[0]["model"] == "m1-local"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
async def test_reasoning_fields_are_read_defensively(counter: Any, field: str, stream: bool) -> None:
    async with VLLMServer([TRICKY], counter=counter, reasoning_field=field) as server:
        backend = VLLM(server.base_url, stream=stream)
        deltas, response = await run(backend, ask())
        await backend.aclose()
    assert response.turn.thinking == "Three calls."
    assert "".join(d.text for d in deltas if isinstance(d, ThinkingDelta)) == "Three calls."
    assert [(c.name, c.arguments) for c in response.turn.tool_calls] == EXPECTED
    assert response.turn.text == ""


async def test_first_generation_resends_are_reported(counter: Any) -> None:
    async with VLLMServer([TRICKY], counter=counter, streaming_defects="gen1") as server:
        backend = VLLM(server.base_url)
        deltas, response = await run(backend, ask())
        await backend.aclose()
    assert response.turn.tool_calls == ()
    assert not [d for d in deltas if isinstance(d, ToolCallDone)]
    assert [p.kind for p in response.turn.problems] == [ProblemKind.INVALID_TOOL_CALL_JSON] * 3


def test_backends_implement_the_protocol() -> None:
    from m1agent.backends import Backend, MiniMax

    for backend in (VLLM("http://127.0.0.1:9/v1", model="m"), Completions("http://127.0.0.1:9/v1", model="m"),
                    MiniMax("k")):
        assert isinstance(backend, Backend)
        assert backend.name and backend.model and backend.context_window > 0
