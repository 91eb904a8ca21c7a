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
TARGET_RATIO = 1.2


async def floor_round(client: Any, calls: int) -> float:
    """Median seconds per call with the SDK's Client."""
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        result = await client.call_tool("get_current_time", ARGS)
        times.append(time.perf_counter() - started)
        assert not result.is_error
    return statistics.median(times)


async def ours_round(tool: Any, ctx: Any, calls: int) -> float:
    """Median seconds per call through m1agent's MCP tool."""
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        result = await tool.invoke(ARGS, ctx)
        times.append(time.perf_counter() - started)
        assert not result.is_error, result.content
    return statistics.median(times)


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
    params = StdioServerParameters(command=str(SERVER), args=["--local-timezone", "UTC"])
    floors: list[float] = []
    ours: list[float] = []
    async with Client(params) as client, MCPToolset({"time": {"command": str(SERVER)}}) as toolset:
        tool = next(t for t in await toolset.list_tools() if t.name == "time__get_current_time")
        await floor_round(client, 20)  # warm both paths
        await ours_round(tool, ctx, 20)
        for i in range(rounds):
            # alternate which goes first so drift does not favour one side
            if i % 2:
                ours.append(await ours_round(tool, ctx, calls))
                floors.append(await floor_round(client, calls))
            else:
                floors.append(await floor_round(client, calls))
                ours.append(await ours_round(tool, ctx, calls))
        failures, batch = await concurrent(tool, ctx, 50)
        version = toolset.connection("time").info.server_version
    return {
        "floor": statistics.median(floors),
        "ours": statistics.median(ours),
        "ratios": [o / f for o, f in zip(ours, floors, strict=True)],
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
        f"mcp-server-time {figures['server_version']} over stdio; median of {rounds} rounds of {calls} "
        "sequential calls (each round's median), rounds interleaved. Floor: the SDK's `mcp.Client` "
        "calling the same server directly.",
        "",
        "| measure | m1agent (`MCPTool.invoke`) | raw `mcp.Client` (floor) | ratio | target |",
        "|---|---|---|---|---|",
        f"| `get_current_time` round trip | {figures['ours'] * 1e3:.2f} ms | {figures['floor'] * 1e3:.2f} ms "
        f"| {ratio:.2f}× | ≤ {TARGET_RATIO}× ({verdict}) |",
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
