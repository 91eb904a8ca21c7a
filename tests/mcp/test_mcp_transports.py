"""Streamable HTTP (headers, bearer token) and legacy SSE, against our server run on 127.0.0.1."""

from __future__ import annotations

import sys
from typing import Any

from mcp_helpers import SERVERS, free_port

from m1agent.mcp import MCPToolset


async def test_streamable_http_with_bearer_token(http_server: Any) -> None:
    port = free_port()
    http_server([sys.executable, str(SERVERS / "well_behaved.py"), "--http", str(port), "--token", "s3cret"], port)
    url = f"http://127.0.0.1:{port}/mcp"
    servers = {
        "authed": {"url": url, "bearerToken": "s3cret", "headers": {"X-Client": "tests"}},
        "anon": {"url": url, "connectTimeout": 10},
    }
    async with MCPToolset(servers) as toolset:
        assert set(toolset.failed) == {"anon"}
        assert "401" in toolset.failed["anon"] or "nauthorized" in toolset.failed["anon"]
        conn = toolset.connection("authed")
        assert conn.config.transport == "http" and conn.info.server_name == "well-behaved"
        assert (await toolset.call("authed", "echo", {"text": "over http"})).content == "over http"
        assert (await toolset.call("authed", "add", {"a": 1, "b": 2})).content == '{"sum":3}'
        assert "s3cret" not in repr(conn.config)


async def test_legacy_sse(http_server: Any) -> None:
    port = free_port()
    http_server([sys.executable, str(SERVERS / "well_behaved.py"), "--sse", str(port)], port)
    async with MCPToolset({"old": {"url": f"http://127.0.0.1:{port}/sse"}}) as toolset:
        assert toolset.connection("old").config.transport == "sse"
        assert (await toolset.call("old", "echo", {"text": "over sse"})).content == "over sse"
        failed = await toolset.call("old", "fail", {"message": "nope"})
        assert failed.is_error and "nope" in failed.content


async def test_http_server_gone_mid_session_fails_the_call_not_the_agent(http_server: Any) -> None:
    port = free_port()
    proc = http_server([sys.executable, str(SERVERS / "well_behaved.py"), "--http", str(port)], port)
    async with MCPToolset({"web": {"url": f"http://127.0.0.1:{port}/mcp", "reconnect": False}}) as toolset:
        assert (await toolset.call("web", "echo", {"text": "x"})).content == "x"
        proc.kill()
        proc.wait()
        result = await toolset.call("web", "echo", {"text": "y"}, timeout=20)
        assert result.is_error and "MCP tool 'web__echo' failed" in result.content


async def test_big_result_over_http_is_received_then_capped(http_server: Any) -> None:
    port = free_port()
    http_server([sys.executable, str(SERVERS / "media.py"), "--http", str(port)], port)
    async with MCPToolset({"web": {"url": f"http://127.0.0.1:{port}/mcp", "maxOutputChars": 2000}}) as toolset:
        result = await toolset.call("web", "big", {"size": 3_000_000}, timeout=60)
    assert not result.is_error, result.content
    assert result.metadata["full_chars"] == 3_000_000
    assert result.content.startswith("HEAD-MARKER") and result.content.endswith("TAIL-MARK")
