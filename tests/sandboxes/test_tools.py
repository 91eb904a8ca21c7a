"""The sandbox's tools as the model uses them: the built-in family, rooted at the work dir."""

from __future__ import annotations

from typing import Any

import pytest
from m1agent.sandboxes import DockerSandbox, SandboxConfig
from m1agent.sandboxes.tools import SandboxToolset
from m1agent.tools.coding import FAMILY

from m1agent.errors import ToolArgumentsInvalid
from m1agent.function_tool import FunctionTool
from m1agent.tool import RunContext, Tool, Toolset

CTX: RunContext[None] = RunContext(deps=None)


async def tools_of(box: DockerSandbox, prefix: str = "") -> dict[str, Tool]:
    toolset = SandboxToolset(box, prefix=prefix)
    assert isinstance(toolset, Toolset)
    await toolset.__aenter__()
    return {t.name: t for t in await toolset.list_tools()}


async def test_the_sandbox_offers_the_one_tool_family(box: DockerSandbox) -> None:
    tools = await tools_of(box)
    assert list(tools) == [fn.__name__ for fn in FAMILY]
    for tool in tools.values():
        assert isinstance(tool, Tool) and isinstance(tool, FunctionTool)
        spec = tool.spec()
        assert spec.parameters["type"] == "object" and spec.description
        assert "repo" not in spec.parameters["properties"]  # the bound root is not the model's
    assert set(await tools_of(box, prefix="box_")) == {f"box_{fn.__name__}" for fn in FAMILY}


async def test_shell_python_and_files_through_tools(box: DockerSandbox) -> None:
    tools = await tools_of(box)
    wrote = await tools["write_file"].invoke({"path": "src/x.py", "content": "print('from file')\n"}, CTX)
    assert wrote.content == "created src/x.py (19 bytes)"
    ran = await tools["run_shell"].invoke({"command": "python3 src/x.py; pwd"}, CTX)
    assert not ran.is_error and "exit code: 0" in ran.content and "from file\n/work" in ran.content
    await tools["run_python"].invoke({"code": "total = 40"}, CTX)
    assert "42" in (await tools["run_python"].invoke({"code": "total + 2"}, CTX)).content
    read = await tools["read_file"].invoke({"path": "src/x.py"}, CTX)
    assert read.content == "src/x.py: lines 1-1 of 1\n     1\tprint('from file')"
    listing = await tools["list_files"].invoke({}, CTX)
    assert "src/" in listing.content and "src/x.py (19 bytes)" in listing.content
    missing = await tools["read_file"].invoke({"path": "nope.txt"}, CTX)
    assert missing.is_error and missing.content.startswith("nope.txt does not exist")
    outside = await tools["read_file"].invoke({"path": "/etc/passwd"}, CTX)
    assert outside.is_error and "outside" in outside.content


async def test_failures_are_worded_for_the_model_and_typed(box: DockerSandbox) -> None:
    tools = await tools_of(box)
    slow = await tools["run_shell"].invoke({"command": "sleep 100", "timeout": 2}, CTX)
    assert slow.is_error and slow.content.startswith("timed out after 2 s")
    assert slow.metadata["timed_out"] is True and slow.metadata["exit_code"] != 0
    assert slow.metadata["duration"] < 10
    hog = await tools["run_python"].invoke({"code": "b = bytearray(1 << 30)"}, CTX)
    assert hog.is_error and "killed: out of memory (limit 192m)" in hog.content
    assert hog.metadata["oom_killed"] is True
    with pytest.raises(ToolArgumentsInvalid, match="timeout"):
        await tools["run_shell"].invoke({"command": "true", "timeout": 10_000}, CTX)
    with pytest.raises(ToolArgumentsInvalid, match="content"):
        await tools["write_file"].invoke({"path": "a"}, CTX)


async def test_toolset_starts_and_removes_its_own_sandbox(engine: Any) -> None:
    async with SandboxToolset(config=SandboxConfig()) as toolset:
        tools = {t.name: t for t in await toolset.list_tools()}
        result = await tools["run_shell"].invoke({"command": "echo hi"}, CTX)
        assert "hi" in result.content
        box: Any = toolset.sandbox
    assert await toolset.list_tools() == []
    assert box._closed and toolset.sandbox is None
