"""An agent with a scripted M1 (a loopback vLLM server) uses MCP tools end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcp_helpers import node_server, ours

from m1agent import Agent
from m1agent.backends.vllm import VLLM
from m1agent.mcp import MCPProgress, MCPToolset
from m1agent.testing import VLLMServer


def calls(*pairs: tuple[str, dict[str, Any]]) -> str:
    lines = "\n".join(json.dumps({"name": n, "arguments": a}) for n, a in pairs)
    return f"<think>\nI will use the tools.\n</think>\n<tool_calls>\n{lines}\n</tool_calls>"


def answer(text: str) -> str:
    return f"<think>\nDone.\n</think>\n{text}"


async def test_agent_calls_published_and_own_servers(installed: Path, tmp_path: Path) -> None:
    (tmp_path / "todo.txt").write_text("buy milk\n")
    toolset = MCPToolset({
        "time": {"command": str(installed / "venv/bin/mcp-server-time"), "args": ["--local-timezone", "UTC"]},
        "fs": node_server(installed, "server-filesystem", str(tmp_path)),
        "p": ours("progress.py"),
        "calc": ours("well_behaved.py", approval=["echo"]),
    })
    script = [
        calls(("time__get_current_time", {"timezone": "UTC"}),
              ("fs__read_text_file", {"path": str(tmp_path / "todo.txt")})),
        calls(("p__count", {"steps": 3}), ("calc__add", {"a": "two", "b": 3})),
        calls(("calc__echo", {"text": "needs a yes"}), ("calc__fail", {"message": "out of paper"})),
        answer("It is a UTC day and you should buy milk."),
    ]
    approvals: list[str] = []

    async def approver(request: Any) -> bool:
        approvals.append(request.name)
        return True

    async with VLLMServer(script=script) as server:
        agent = Agent(VLLM(server.base_url), tools=[toolset], approver=approver)
        events = [event async for event in agent.stream("What should I do today?")]
        bodies = server.bodies

    finished = events[-1]
    assert finished.kind == "run_finished" and finished.stop_reason == "completed", finished
    assert finished.output == "It is a UTC day and you should buy milk."
    offered = {t["function"]["name"] for t in bodies[0]["tools"]}
    assert {"time__get_current_time", "fs__read_text_file", "p__count", "calc__distance"} <= offered
    assert all("$ref" not in json.dumps(t) for t in bodies[0]["tools"])
    results = {e.name: e for e in events if e.kind == "tool_call_finished"}
    assert '"timezone":"UTC"' in results["time__get_current_time"].content
    assert "buy milk" in results["fs__read_text_file"].content
    assert "counted to 3" in results["p__count"].content
    assert results["calc__add"].status == "invalid_arguments" and "'two' is not of type 'integer'" in (
        results["calc__add"].content)
    assert results["calc__fail"].status == "error" and "out of paper" in results["calc__fail"].content
    assert results["calc__echo"].status == "ok" and approvals == ["calc__echo"]
    progress = [e for e in events if isinstance(e, MCPProgress)]
    assert [p.progress for p in progress][:2] == [1, 2] and progress[0].tool == "count"
    # the tool results reached the model
    assert "buy milk" in json.dumps(bodies[1]["messages"])
