"""``m1agent mcp serve``, driven by the SDK's own ``mcp.Client`` over stdio and over HTTP."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from mcp import Client, StdioServerParameters
from mcp import types as mcp_types
from mcp_helpers import ROOT, SERVERS, free_port

from m1agent.testing import VLLMServer

SERVE = [sys.executable, "-m", "m1agent", "mcp", "serve"]


def env(**extra: str) -> dict[str, str]:
    return {"PYTHONPATH": f"{SERVERS}{os.pathsep}{ROOT}", **extra}


def text(result: mcp_types.CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, mcp_types.TextContent))


def run_agent_script() -> list[str]:
    call = json.dumps({"name": "shout", "arguments": {"text": "hello"}})
    return [
        f"<think>\nShout it.\n</think>\n<tool_calls>\n{call}\n</tool_calls>",
        "<think>\nDone.\n</think>\nThe answer is HELLO.",
    ]


async def test_serve_over_stdio_run_agent_and_tools() -> None:
    async with VLLMServer(script=run_agent_script()) as model:
        params = StdioServerParameters(
            command=SERVE[0],
            args=[*SERVE[1:], "--agent", "served:make_agent", "--tool", "served:shout", "--tool", "served:refuse"],
            env=env(M1AGENT_TEST_VLLM_URL=model.base_url),
            cwd=str(ROOT),
        )
        async with Client(params) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {"run_agent", "shout", "refuse"}
            assert tools["shout"].input_schema["properties"]["text"]["type"] == "string"

            assert text(await client.call_tool("shout", {"text": "hi"})) == "HI"
            bad = await client.call_tool("shout", {"txt": "hi"})
            assert bad.is_error and "text" in text(bad)
            refused = await client.call_tool("refuse", {"reason": "not today"})
            assert refused.is_error and "not today" in text(refused)

            progress: list[tuple[float, str | None]] = []

            async def on_progress(value: float, total: float | None, message: str | None) -> None:
                progress.append((value, message))

            result = await client.call_tool("run_agent", {"task": "Shout hello"}, progress_callback=on_progress)
            assert not result.is_error, text(result)
            assert result.structured_content is not None
            assert result.structured_content["output"] == "The answer is HELLO."
            assert result.structured_content["stop_reason"] == "completed"
            assert any(message == "calling shout" for _, message in progress)

            empty = await client.call_tool("run_agent", {"task": "  "})
            assert empty.is_error and "the task is empty" in text(empty)


async def test_serve_over_http(http_server: Any) -> None:
    port = free_port()
    http_server([*SERVE, "--http", "--port", str(port), "--tool", "served:shout"], port)
    async with Client(f"http://127.0.0.1:{port}/mcp") as client:
        assert [t.name for t in (await client.list_tools()).tools] == ["shout"]
        assert text(await client.call_tool("shout", {"text": "over http"})) == "OVER HTTP"


async def test_serve_the_docker_sandbox_tools() -> None:
    params = StdioServerParameters(command=SERVE[0], args=[*SERVE[1:], "--sandbox"], env=env(), cwd=str(ROOT))
    async with Client(params) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"run_python", "run_shell", "write_file", "read_file"} <= names
        ran = await client.call_tool("run_python", {"code": "print(6 * 7)"})
        assert not ran.is_error and "42" in text(ran)
        failed = await client.call_tool("run_shell", {"command": "exit 3"})
        assert failed.is_error and "exit code: 3" in text(failed)
