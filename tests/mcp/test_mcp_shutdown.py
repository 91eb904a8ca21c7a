"""No server process, nor a child it started, outlives its toolset or the program."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from mcp_helpers import ROOT, SERVERS, ours, processes_with

from m1agent.mcp import MCPToolset

# Connects, then exits without closing the toolset or the loop: only the exit hook is left.
PROGRAM = """
import asyncio, sys
from m1agent.mcp import MCPToolset

toolset = MCPToolset({"p": {"command": sys.executable, "args": [sys.argv[1], "--spawn-child"],
                            "env": {"M1AGENT_TEST_MARKER": sys.argv[2]}}})
loop = asyncio.new_event_loop()
loop.run_until_complete(toolset.connect())
print("connected", flush=True)
sys.exit(0)
"""


def wait_gone(marker: str, timeout: float = 15.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


async def test_close_stops_the_server_and_its_children(marker: str) -> None:
    async with MCPToolset({"p": ours("hanging.py", "--spawn-child", env={"M1AGENT_TEST_MARKER": marker})}) as ts:
        assert (await ts.call("p", "echo", {"text": "x"})).content == "x"
        assert len(processes_with(marker)) == 2  # the server and its sleeping child
    assert wait_gone(marker) == []


def test_servers_left_open_are_stopped_at_exit(marker: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(SERVERS / "hanging.py"), marker],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert "connected" in done.stdout, done.stderr
    assert wait_gone(marker) == []
