"""MCP round trip: ``get_current_time`` over stdio through m1agent against the raw ``mcp.Client`` (the floor).

Both talk to the same installed ``mcp-server-time`` (``scripts/setup.d/30-mcp-servers.sh``), each
with its own server process, in the same run, rounds interleaved so machine noise hits both alike.
m1agent's figure is one ``MCPTool.invoke`` as the agent loop makes it: local schema check, the hop
to the connection's owner task, the call, result conversion and capping. Then 50 concurrent calls
through m1agent, which must all succeed. Figures go to the "MCP" section of ``benchmarks/RESULTS.md``.

    .venv/bin/python benchmarks/bench_mcp.py [--calls 200] [--rounds 7] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVER = ROOT / ".m1agent-test" / "mcp" / "venv" / "bin" / "mcp-server-time"
ARGS = {"timezone": "UTC"}
SERVER_ARGS = ["--local-timezone", "UTC"]
TARGET_RATIO = 1.2


async def paired_round(client: Any, tool: Any, ctx: Any, calls: int) -> dict[str, float]:
    """Calls interleaved one by one (order alternating), so machine noise hits both sides alike.

    Returns the median wall time per call of each side, and the client process's CPU time per call.
    """
    wall: dict[str, list[float]] = {"floor": [], "ours": []}
    cpu: dict[str, float] = {"floor": 0.0, "ours": 0.0}

    async def floor_call() -> None:
        result = await client.call_tool("get_current_time", ARGS)
        assert not result.is_error

    async def ours_call() -> None:
        result = await tool.invoke(ARGS, ctx)
        assert not result.is_error, result.content

    for i in range(calls):
        order = (("floor", floor_call), ("ours", ours_call))
        for side, call in order if i % 2 else order[::-1]:
            started, cpu_started = time.perf_counter(), time.process_time()
            await call()
            wall[side].append(time.perf_counter() - started)
            cpu[side] += time.process_time() - cpu_started
    return {
        "floor": statistics.median(wall["floor"]),
        "ours": statistics.median(wall["ours"]),
        "floor_cpu": cpu["floor"] / calls,
        "ours_cpu": cpu["ours"] / calls,
    }


async def concurrent(tool: Any, ctx: Any, n: int) -> tuple[int, float]:
    """How many of ``n`` simultaneous calls failed, and the wall time of the batch."""
    started = time.perf_counter()
    results = await asyncio.gather(*(tool.invoke(ARGS, ctx) for _ in range(n)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    failures = sum(1 for r in results if isinstance(r, BaseException) or r.is_error)
    return failures, elapsed


async def run(calls: int, rounds: int) -> dict[str, Any]:
    from mcp import Client, StdioServerParameters

    from m1agent.mcp import MCPToolset
    from m1agent.tool import RunContext

    ctx: RunContext[None] = RunContext(deps=None)
    params = StdioServerParameters(command=str(SERVER), args=SERVER_ARGS)
    rounds_out: list[dict[str, float]] = []
    servers = {"time": {"command": str(SERVER), "args": SERVER_ARGS}}
    async with Client(params) as client, MCPToolset(servers) as toolset:
        tool = next(t for t in await toolset.list_tools() if t.name == "time__get_current_time")
        await paired_round(client, tool, ctx, 20)  # warm both paths
        for _ in range(rounds):
            rounds_out.append(await paired_round(client, tool, ctx, calls))
        failures, batch = await concurrent(tool, ctx, 50)
        version = toolset.connection("time").info.server_version

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds_out)

    return {
        "floor": median("floor"),
        "ours": median("ours"),
        "floor_cpu": median("floor_cpu"),
        "ours_cpu": median("ours_cpu"),
        "ratios": [r["ours"] / r["floor"] for r in rounds_out],
        "failures": failures,
        "batch": batch,
        "server_version": version,
    }


def section(figures: dict[str, Any], calls: int, rounds: int) -> str:
    import mcp

    ratio = figures["ours"] / figures["floor"]
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    return "\n".join([
        "## MCP",
        "",
        f"`benchmarks/bench_mcp.py` on CPython {platform.python_version()}, mcp {mcp_version(mcp)}, "
        f"mcp-server-time {figures['server_version']} over stdio, one server process per side; median of "
        f"{rounds} rounds of {calls} sequential calls per side, interleaved call by call. Floor: the SDK's "
        "`mcp.Client` calling the same server directly. Client CPU is this process's CPU time per call "
        "(what m1agent adds, without the scheduler's noise).",
        "",
        "| measure | m1agent (`MCPTool.invoke`) | raw `mcp.Client` (floor) | ratio | target |",
        "|---|---|---|---|---|",
        f"| `get_current_time` round trip | {figures['ours'] * 1e3:.2f} ms | {figures['floor'] * 1e3:.2f} ms "
        f"| {ratio:.2f}× | ≤ {TARGET_RATIO}× ({verdict}) |",
        f"| client CPU per call | {figures['ours_cpu'] * 1e3:.2f} ms | {figures['floor_cpu'] * 1e3:.2f} ms "
        f"| {figures['ours_cpu'] / figures['floor_cpu']:.2f}× | — |",
        f"| 50 concurrent calls | {50 - figures['failures']}/50 ok in {figures['batch'] * 1e3:.0f} ms | — | — "
        "| all succeed |",
        "",
        "Per-round ratios: " + ", ".join(f"{r:.2f}" for r in figures["ratios"]),
        "",
    ])


def mcp_version(module: Any) -> str:
    from importlib.metadata import version

    return version("mcp")


def write_results(text: str) -> None:
    """Replace the "MCP" section of RESULTS.md with ``text``."""
    path = HERE / "RESULTS.md"
    current = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(r"## MCP\n.*?(?=\n## |\Z)", re.DOTALL)
    if pattern.search(current):
        current = pattern.sub(lambda _m: text.rstrip() + "\n", current)
    else:
        current = current.rstrip() + "\n\n" + text
    path.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    if not SERVER.exists():
        sys.exit(f"{SERVER} is missing: run bash scripts/setup.d/30-mcp-servers.sh")
    figures = asyncio.run(run(args.calls, args.rounds))
    text = section(figures, args.calls, args.rounds)
    print(text)
    if not args.no_write:
        write_results(text)


if __name__ == "__main__":
    main()
