"""The scripted server with a delay between pieces serves each entry once, in order, run after run."""

from __future__ import annotations

from typing import Any

import pytest

from m1agent import Agent
from m1agent.backends import VLLM, Completions, MiniMax
from m1agent.testing import MiniMaxServer, VLLMServer

KEY = "sk-test-delays-0123"


@pytest.mark.parametrize("kind", ["raw", "chat", "hosted"])
async def test_entries_are_served_once_each_with_a_chunk_delay(kind: str, counter: Any) -> None:
    script = [f"<think>\nAnswer {i}.\n</think>\nanswer {i}" for i in range(4)]
    if kind == "hosted":
        server: Any = MiniMaxServer(script, api_key=KEY, counter=counter, chunk_delay=0.02)
    else:
        server = VLLMServer(script=script, counter=counter, chunk_delay=0.02)
    async with server:
        if kind == "hosted":
            backend: Any = MiniMax(api_key=KEY, host=server.host)
        else:
            backend = (Completions if kind == "raw" else VLLM)(server.base_url)
        agent = Agent(backend)
        outputs = [(await agent.run(f"q{i}")).output for i in range(4)]
        assert server.remaining == 0
    assert outputs == [f"answer {i}" for i in range(4)]
