"""The cached tool list is refreshed when the server says it changed, in both protocol eras."""

from __future__ import annotations

import asyncio
import time

import pytest
from mcp_helpers import ours

from m1agent.mcp import MCPToolset


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_list_changed_refreshes_the_cached_tools(mode: str) -> None:
    async with MCPToolset({"lc": ours("list_changed.py", mode=mode)}) as toolset:
        conn = toolset.connection("lc")
        assert conn.info.protocol_version == ("2026-07-28" if mode == "auto" else "2025-11-25")
        assert [t.name for t in await toolset.list_tools()] == ["lc__unlock"]
        assert (await toolset.call("lc", "unlock", {})).content == "unlocked"
        deadline = time.monotonic() + 15
        while conn.counters.list_changed == 0:
            assert time.monotonic() < deadline, "no list_changed arrived"
            await asyncio.sleep(0.02)
        assert sorted(t.name for t in await toolset.list_tools()) == ["lc__secret", "lc__unlock"]
        assert (await toolset.call("lc", "secret", {})).content == "the secret is 42"
