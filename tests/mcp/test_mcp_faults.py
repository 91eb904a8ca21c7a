"""Faults: a server killed mid-call, one that never answers, garbage on stdout, 10 MB of output,
clashing names, a missing server, and no process left behind."""

from __future__ import annotations

import asyncio
import time

from mcp_helpers import ours, processes_with

from m1agent.mcp import MCPToolset, ServerState
from m1agent.tool import RunContext


async def wait_until(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_server_killed_mid_call_goes_unhealthy_then_reconnects(marker: str) -> None:
    servers = {"c": ours("crashing.py", env={"M1AGENT_TEST_MARKER": marker})}
    async with MCPToolset(servers) as toolset:
        assert {t.name for t in await toolset.list_tools()} == {"c__echo", "c__crash"}
        result = await toolset.call("c", "crash", {})
        assert result.is_error
        assert "closed the connection" in result.content
        conn = toolset.connection("c")
        assert conn.state in (ServerState.UNHEALTHY, ServerState.CONNECTING)
        # its tools leave the next turn...
        if not conn.healthy:
            assert await toolset.list_tools() == []

        # ...and come back after the reconnect with backoff
        async def back() -> bool:
            return {t.name for t in await toolset.list_tools()} == {"c__echo", "c__crash"}

        await wait_until(back)
        assert conn.counters.reconnects == 1
        assert (await toolset.call("c", "echo", {"text": "alive"})).content == "alive"
    assert processes_with(marker) == []


async def test_server_that_never_answers_is_dropped_within_its_timeout(marker: str) -> None:
    servers = {
        "mute": ours("hanging.py", "--at-start", connect_timeout=1.0, env={"M1AGENT_TEST_MARKER": marker}),
        "ok": ours("well_behaved.py"),
        "gone": {"command": "/nonexistent/mcp-server"},
    }
    started = time.monotonic()
    async with MCPToolset(servers) as toolset:
        assert time.monotonic() - started < 25  # the 1 s handshake timeout, not the 30 s default
        assert set(toolset.failed) == {"mute", "gone"}
        assert "no answer to the handshake within 1 s" in toolset.failed["mute"]
        assert "command not found: /nonexistent/mcp-server" in toolset.failed["gone"]
        assert {t.server for t in await toolset.list_tools()} == {"ok"}
        assert (await toolset.call("ok", "echo", {"text": "hi"})).content == "hi"
        statuses = {s.name: s.state for s in await toolset.status()}
        assert statuses == {"ok": "healthy", "mute": "failed", "gone": "failed"}
    assert processes_with(marker) == []


async def test_hung_tool_times_out_and_the_agent_goes_on(marker: str) -> None:
    servers = {"h": ours("hanging.py", call_timeout=0.5, env={"M1AGENT_TEST_MARKER": marker})}
    async with MCPToolset(servers) as toolset:
        result = await toolset.call("h", "hang", {})
        assert result.is_error and "gave no answer within 0.5 s; the call was cancelled" in result.content
        assert (await toolset.call("h", "echo", {"text": "still here"})).content == "still here"
    assert processes_with(marker) == []


async def test_garbage_on_stdout_is_logged_not_fatal(caplog) -> None:  # type: ignore[no-untyped-def]
    async with MCPToolset({"g": ours("garbage.py")}) as toolset:
        assert (await toolset.call("g", "noisy", {"text": "fine"})).content == "fine"
        assert (await toolset.call("g", "noisy", {"text": "again"})).content == "again"
        conn = toolset.connection("g")
        assert conn.healthy and conn.counters.garbage_lines == 2
    assert "wrote a line that is not JSON-RPC" in caplog.text


async def test_ten_megabytes_of_output_are_capped_head_and_tail() -> None:
    async with MCPToolset({"m": ours("media.py", maxOutputChars=5000)}) as toolset:
        result = await toolset.call("m", "big", {"size": 10_000_000})
    assert not result.is_error and result.metadata["truncated"]
    assert result.metadata["full_chars"] == 10_000_000
    assert len(result.content) < 5200
    assert result.content.startswith("HEAD-MARKER") and result.content.endswith("TAIL-MARK")
    assert "characters cut from the middle of 10,000,000" in result.content


async def test_images_and_resources_become_short_text_with_uri() -> None:
    async with MCPToolset({"m": ours("media.py")}) as toolset:
        picture = await toolset.call("m", "picture", {})
        linked = await toolset.call("m", "linked", {})
    assert picture.content == "a tiny picture\n[image image/png, 68 bytes, attachment #1]"
    assert picture.metadata["media"][0]["mime_type"] == "image/png"
    assert "[resource report <file:///tmp/report.txt>, text/plain]" in linked.content
    assert "[resource <memo://1>, text/plain]\nmemo body" in linked.content


async def test_clashing_tool_and_server_names_stay_unique_and_map_back() -> None:
    servers = {"a": ours("well_behaved.py"), "my.server": ours("crashing.py"), "my server": ours("crashing.py")}
    async with MCPToolset(servers) as toolset:
        names = sorted(t.name for t in await toolset.list_tools())
        assert "a__echo" in names
        assert "my_server__echo" in names and "my_server__echo_2" in names
        assert len(names) == len(set(names))
        assert {toolset.resolve("my_server__echo"), toolset.resolve("my_server__echo_2")} == {
            ("my.server", "echo"), ("my server", "echo")}
        tools = {t.name: t for t in await toolset.list_tools()}
        for name in ("a__echo", "my_server__echo", "my_server__echo_2"):
            result = await tools[name].invoke({"text": name}, RunContext(deps=None))
            assert result.content == name
        # names survive a refresh unchanged
        assert sorted(t.name for t in await toolset.list_tools()) == names
