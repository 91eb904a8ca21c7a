"""Limits and cancellation end the run with a RunResult; usage and cost per turn and per run."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from loop_helpers import answer, call

from m1agent import Agent, LimitHit, Limits, Price, PriceTable, PriceTier, tool
from m1agent.backends.base import ModelResponse
from m1agent.backends.replay import Replay
from m1agent.pricing import MINIMAX_M1
from m1agent.testing.cassette import cassette_from_outputs
from m1agent.usage import Usage

ROOT = Path(__file__).resolve().parents[2]


@tool
def ping(n: int) -> str:
    """Ping."""
    return f"pong {n}"


def replay_with_usage(outputs: list[str], usages: list[Usage], model: str = "MiniMax-M1") -> Replay:
    cassette = cassette_from_outputs(outputs, model=model)
    for interaction, usage in zip(cassette.interactions, usages, strict=True):
        response = interaction.events[-1]
        assert isinstance(response, ModelResponse)
        interaction.events[-1] = dataclasses.replace(response, usage=usage)
    return Replay(cassette, strict=False)


@pytest.mark.parametrize(
    ("limits", "stop"),
    [
        (Limits(max_turns=2), "max_turns"),
        (Limits(max_tool_calls=3), "max_tool_calls"),
        (Limits(max_tokens=2_500), "max_tokens"),
        (Limits(max_cost=0.0015), "max_cost"),
    ],
    ids=["turns", "tool_calls", "tokens", "cost"],
)
async def test_each_limit_ends_with_a_result(limits: Limits, stop: str) -> None:
    outputs = [call("ping", n=i) for i in range(10)] + [answer("never")]
    usages = [Usage(input_tokens=1_000, output_tokens=100, requests=1)] * 11
    events = []
    agent = Agent(replay_with_usage(outputs, usages), tools=[ping], limits=limits, pricing=PriceTable.hosted_m1())
    async for event in agent.stream("go"):
        events.append(event)
    finished = events[-1]
    assert finished.kind == "run_finished" and finished.stop_reason == stop
    hit = [e for e in events if isinstance(e, LimitHit)]
    assert hit and hit[0].limit == stop
    result = await Agent(replay_with_usage(outputs, usages), tools=[ping], limits=limits,
                         pricing=PriceTable.hosted_m1()).run("go")
    assert result.stop_reason == stop and result.turns  # the work done so far is in the result
    assert result.usage.input_tokens == 1_000 * len(result.turns)


async def test_wall_time_limit_interrupts_a_hanging_tool() -> None:
    @tool
    async def hang() -> str:
        """Hangs."""
        await asyncio.sleep(30)
        return ""

    agent = Agent(Replay.from_outputs([call("hang"), answer("x")]), tools=[hang], limits=Limits(max_wall_time=0.3))
    started = time.monotonic()
    result = await agent.run("go")
    assert time.monotonic() - started < 5
    assert result.stop_reason == "max_wall_time"
    last = result.messages[-1]
    assert "wall-time limit" in getattr(last, "content", "")


async def test_task_cancel_ends_cleanly_with_the_session_kept(tmp_path: Path) -> None:
    started = asyncio.Event()

    @tool
    async def hang() -> str:
        """Hangs."""
        started.set()
        await asyncio.sleep(30)
        return ""

    agent = Agent(Replay.from_outputs([call("hang"), answer("x")]), tools=[hang], sessions=tmp_path)
    task = asyncio.create_task(agent.run("go", session_id="s1"))
    await started.wait()
    task.cancel()
    result = await task
    assert result.stop_reason == "cancelled"
    kinds = [e.kind for e in agent.sessions.load("s1")]
    assert kinds[-2:] == ["tool_call_finished", "run_finished"]


def test_ctrl_c_in_run_sync_ends_cleanly(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    script = textwrap.dedent(f"""
        import asyncio
        from m1agent import Agent, tool
        from m1agent.backends.replay import Replay

        @tool
        async def hang() -> str:
            open({str(marker)!r}, "w").close()
            await asyncio.sleep(60)
            return "done"

        out = '<think>\\nx\\n</think>\\n<tool_calls>\\n{{"name": "hang", "arguments": {{}}}}\\n</tool_calls>'
        backend = Replay.from_outputs([out, "<think>\\nx\\n</think>\\nok"])
        agent = Agent(backend, tools=[hang], sessions={str(tmp_path)!r})
        result = agent.run_sync("go", session_id="s1")
        print("STOP", result.stop_reason)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert "STOP cancelled" in out, err
    assert proc.returncode == 0


async def test_usage_and_cost_per_turn_and_per_run_with_two_tiers() -> None:
    usages = [
        Usage(input_tokens=100_000, output_tokens=2_000, thinking_tokens=1_500, requests=1),
        Usage(input_tokens=300_000, output_tokens=1_000, thinking_tokens=500, requests=1),
    ]
    agent = Agent(replay_with_usage([call("ping", n=1), answer("ok")], usages), tools=[ping],
                  pricing=PriceTable.hosted_m1())
    result = await agent.run("go")
    assert result.usage_per_turn == usages
    assert result.usage.thinking_tokens == 2_000 and result.usage.input_tokens == 400_000
    low = (100_000 * 0.40 + 2_000 * 2.20) / 1e6
    high = (300_000 * 1.30 + 1_000 * 2.20) / 1e6
    assert result.turns[0].cost == pytest.approx(low) and result.turns[1].cost == pytest.approx(high)
    assert result.cost == pytest.approx(low + high)
    assert MINIMAX_M1.tiers[0].max_input_tokens == 200_000

    # A self-hosted model without a price costs None, never a made-up zero.
    selfhosted = Agent(replay_with_usage([answer("ok")], usages[:1], model="my-vllm"), pricing=PriceTable.hosted_m1())
    assert (await selfhosted.run("go")).cost is None
    custom = PriceTable({"my-vllm": Price((PriceTier(1_000_000, 0.1, 0.2),))})
    priced = Agent(replay_with_usage([answer("ok")], usages[:1], model="my-vllm"), pricing=custom)
    assert (await priced.run("go")).cost == pytest.approx((100_000 * 0.1 + 2_000 * 0.2) / 1e6)
