"""The client against our well-behaved servers: names, schemas, validation, results, progress, resources."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from mcp_helpers import ours

from m1agent.errors import ToolArgumentsInvalid, UnknownTool
from m1agent.mcp import MCPProgress, MCPToolset
from m1agent.tool import RunContext, Tool, Toolset


async def test_tools_are_prefixed_normalized_and_called() -> None:
    async with MCPToolset({"calc": ours("well_behaved.py")}) as toolset:
        assert isinstance(toolset, Toolset)
        tools = {t.name: t for t in await toolset.list_tools()}
        assert set(tools) == {"calc__echo", "calc__add", "calc__fail", "calc__distance"}
        assert all(isinstance(t, Tool) for t in tools.values())
        distance = tools["calc__distance"]
        assert "$ref" in str(distance.input_schema) and "$ref" not in str(distance.parameters)
        assert distance.parameters["properties"]["start"]["properties"]["x"]["type"] == "integer"
        assert toolset.resolve("calc__distance") == ("calc", "distance")

        ctx: RunContext[None] = RunContext(deps=None)
        result = await distance.invoke({"start": {"x": 1, "y": 2}, "end": {"x": 4, "y": 0}}, ctx)
        assert not result.is_error and "5" in result.content
        added = await tools["calc__add"].invoke({"a": 2, "b": 3}, ctx)
        assert added.content == '{"sum":5}' and added.metadata["structured"]


async def test_arguments_are_checked_locally_against_the_original_schema() -> None:
    async with MCPToolset({"calc": ours("well_behaved.py")}) as toolset:
        tools = {t.name: t for t in await toolset.list_tools()}
        with pytest.raises(ToolArgumentsInvalid, match=r"start/x: 'one' is not of type 'integer'"):
            await tools["calc__distance"].invoke(
                {"start": {"x": "one", "y": 2}, "end": {"x": 4, "y": 0}}, RunContext(deps=None)
            )
        with pytest.raises(ToolArgumentsInvalid, match="'text' is a required property"):
            await tools["calc__echo"].invoke({}, RunContext(deps=None))


async def test_both_error_shapes_become_one_model_readable_failure(installed: Any) -> None:
    servers = {"calc": ours("well_behaved.py"), "time": {"command": str(installed / "venv/bin/mcp-server-time")}}
    async with MCPToolset(servers) as toolset:
        # is_error result, from a ToolError in the server
        failed = await toolset.call("calc", "fail", {"message": "disk is full"})
        assert failed.is_error
        assert failed.content == "MCP tool 'calc__fail' failed: Error executing tool fail: disk is full"
        # a raised MCPError: the Python server answers a bad timezone with is_error, an unknown tool with -32602;
        # reach the latter by calling the wire name of a tool it does not have through the connection.
        tools = {t.name: t for t in await toolset.list_tools()}
        tool = tools["time__get_current_time"]
        tool.original_name = "no_such_tool"
        raised = await tool.invoke({"timezone": "UTC"}, RunContext(deps=None))
        assert raised.is_error
        assert raised.content.startswith("MCP tool 'time__get_current_time' failed: Unknown tool: no_such_tool")
        assert "MCP error -32602" in raised.content
        with pytest.raises(UnknownTool):
            await toolset.call("calc", "nope", {})


async def test_progress_notifications_become_events() -> None:
    events: list[Any] = []
    async with MCPToolset({"p": ours("progress.py")}) as toolset:
        ctx: RunContext[None] = RunContext(deps=None, call_id="c1", emit=events.append)
        result = await toolset.call("p", "count", {"steps": 4}, ctx=ctx)
        assert result.content == "counted to 4"
        for _ in range(500):  # over stdio the last notification may land just after the result
            if len(events) == 4:
                break
            await asyncio.sleep(0.01)
    assert [e.progress for e in events] == [1, 2, 3, 4]
    assert all(isinstance(e, MCPProgress) and e.server == "p" and e.tool == "count" for e in events)
    assert events[-1].total == 4 and events[-1].message == "step 4" and events[0].call_id == "c1"


async def test_per_call_timeout_cancels_and_the_server_stays_usable() -> None:
    async with MCPToolset({"p": ours("progress.py", call_timeout=30)}) as toolset:
        loop = asyncio.get_running_loop()
        started = loop.time()
        result = await toolset.call("p", "slow", {"seconds": 30}, timeout=0.5)
        assert loop.time() - started < 10
        assert result.is_error and "within 0.5 s" in result.content and result.metadata["timed_out"]
        again = await toolset.call("p", "slow", {"seconds": 0})
        assert again.content == "slept 0.0"


async def test_per_tool_timeout_from_config() -> None:
    config = ours("progress.py", toolTimeouts={"slow": 0.3})
    async with MCPToolset({"p": config}) as toolset:
        tools = {t.name: t for t in await toolset.list_tools()}
        assert tools["p__slow"].call_timeout == 0.3 and tools["p__count"].call_timeout == 300
        result = await tools["p__slow"].invoke({"seconds": 10}, RunContext(deps=None))
        assert result.is_error and result.metadata["timed_out"]


async def test_fifty_concurrent_calls_from_many_tasks() -> None:
    async with MCPToolset({"calc": ours("well_behaved.py")}) as toolset:
        tools = {t.name: t for t in await toolset.list_tools()}
        add = tools["calc__add"]
        results = await asyncio.gather(*(add.invoke({"a": i, "b": 1}, RunContext(deps=None)) for i in range(50)))
    assert [r.content for r in results] == [f'{{"sum":{i + 1}}}' for i in range(50)]


async def test_allow_and_block_lists_and_approval_rules() -> None:
    servers = {"calc": ours("well_behaved.py", allowedTools=["echo", "add", "fail"], blockedTools=["fail"],
                            approval=["add"])}
    async with MCPToolset(servers) as toolset:
        tools = {t.name: t for t in await toolset.list_tools()}
        assert set(tools) == {"calc__echo", "calc__add"}
        assert tools["calc__add"].needs_approval is True and tools["calc__echo"].needs_approval is False
        with pytest.raises(UnknownTool):
            await toolset.call("calc", "fail", {"message": "x"})


async def test_resources_and_prompts_listed_and_attached() -> None:
    async with MCPToolset({"notes": ours("well_behaved.py")}) as toolset:
        resources = await toolset.list_resources("notes")
        assert [r.uri for r in resources] == ["notes://readme"]
        message = await toolset.resource_message("notes", "notes://readme")
        assert message.content.startswith("[resource notes://readme from MCP server notes]")
        assert "readme of the well-behaved server" in message.content
        prompts = await toolset.list_prompts("notes")
        assert [p.name for p in prompts] == ["greet"]
        assert "Say hello to Ada." in await toolset.get_prompt("notes", "greet", {"name": "Ada"})


async def test_toolset_is_reentrant_and_reusable_across_runs() -> None:
    toolset = MCPToolset({"calc": ours("well_behaved.py")})
    async with toolset:
        first = toolset.connection("calc")
        async with toolset:  # the agent entering it for a run: the same connection
            assert toolset.connection("calc") is first
            assert (await toolset.call("calc", "echo", {"text": "run 1"})).content == "run 1"
        assert first.healthy
    assert not first.healthy
    async with toolset:  # entered again later: connected anew, names unchanged
        assert toolset.connection("calc") is not first
        assert (await toolset.call("calc", "echo", {"text": "run 2"})).content == "run 2"
        assert "calc__echo" in {t.name for t in await toolset.list_tools()}
