"""Parallel calls under a cap, sequential tools, results in call order, big outputs capped and readable back."""

from __future__ import annotations

import asyncio
import time

from loop_helpers import answer, call, calls

from m1agent import Agent, RunContext, tool
from m1agent.backends.replay import Replay
from m1agent.messages import ToolResultMessage


def tool_results(messages: list[object]) -> list[ToolResultMessage]:
    return [m for m in messages if isinstance(m, ToolResultMessage)]


async def test_calls_run_concurrently_under_the_cap_and_come_back_in_call_order() -> None:
    running = 0
    peak = 0

    @tool
    async def wait(ms: int) -> str:
        """Sleep."""
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(ms / 1000)
        running -= 1
        return f"slept {ms}"

    durations = [120, 20, 80, 40, 60, 10]
    script = [calls(*[("wait", {"ms": ms}) for ms in durations]), answer("ok")]
    started = time.perf_counter()
    result = await Agent(Replay.from_outputs(script), tools=[wait], max_concurrency=3).run("go")
    elapsed = time.perf_counter() - started
    assert peak == 3
    assert elapsed < sum(durations) / 1000  # not one after another
    assert [r.content for r in tool_results(result.messages)] == [f"[wait] slept {ms}" for ms in durations]


async def test_a_sequential_tool_runs_alone() -> None:
    log: list[str] = []

    @tool
    async def read(k: str) -> str:
        """Read."""
        log.append(f"start {k}")
        await asyncio.sleep(0.03)
        log.append(f"end {k}")
        return k

    @tool(sequential=True)
    async def write(k: str) -> str:
        """Write."""
        log.append(f"start W{k}")
        await asyncio.sleep(0.01)
        log.append(f"end W{k}")
        return k

    turn = calls(("read", {"k": "a"}), ("read", {"k": "b"}), ("write", {"k": "c"}), ("read", {"k": "d"}))
    script = [turn, answer("x")]
    result = await Agent(Replay.from_outputs(script), tools=[read, write]).run("go")
    assert log[:4] == ["start a", "start b", "end a", "end b"]
    assert log[4:] == ["start Wc", "end Wc", "start d", "end d"]
    assert [r.name for r in tool_results(result.messages)] == ["read", "read", "write", "read"]


async def test_big_output_is_capped_head_and_tail_and_read_back_by_id(tmp_path: object) -> None:
    body = "".join(f"line {i}\n" for i in range(5_000))

    @tool
    def dump() -> str:
        """A long output."""
        return body

    script = [call("dump"), call("read_output", id="call_0_0", offset=1_200, limit=500), answer("seen")]
    agent = Agent(Replay.from_outputs(script), tools=[dump], max_result_chars=2_000, sessions=str(tmp_path))
    result = await agent.run("go")
    first, second = tool_results(result.messages)
    assert first.content.startswith("[dump] line 0\n") and first.content.endswith("line 4999\n")
    assert 'read_output(id="call_0_0", offset=1200)' in first.content
    assert len(first.content) < 2_200
    full = "[dump] " + body
    assert second.content.startswith("[read_output] " + full[1_200:1_700])
    assert f"continue at offset {1_700}" in second.content
    saved = next(iter((tmp_path / result.session_id / "outputs").glob("*.txt")))  # type: ignore[operator]
    assert saved.read_text() == full


async def test_tools_report_progress_through_the_context_from_any_thread() -> None:
    @tool
    def crunch(ctx: RunContext[None], n: int) -> str:
        """Runs in a worker thread and reports progress."""
        for i in range(n):
            ctx.emit({"progress": i, "of": n, "call": ctx.call_id})
        return "crunched"

    agent = Agent(Replay.from_outputs([call("crunch", n=3), answer("ok")]), tools=[crunch])
    seen = [e async for e in agent.stream("go")]
    progress = [e for e in seen if isinstance(e, dict)]
    assert progress == [{"progress": i, "of": 3, "call": "call_0_0"} for i in range(3)]
    assert seen[-1].kind == "run_finished"
