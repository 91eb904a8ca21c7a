"""The sandbox tools as the model uses them."""

from __future__ import annotations

from typing import Any

import pytest
from m1agent.sandboxes import DockerSandbox, SandboxConfig
from m1agent.sandboxes.tools import SandboxToolset

from m1agent.errors import ToolArgumentsInvalid
from m1agent.tool import RunContext, Tool, Toolset

CTX: RunContext[None] = RunContext(deps=None)


async def tools_of(box: DockerSandbox) -> dict[str, Tool]:
    toolset = SandboxToolset(box)
    assert isinstance(toolset, Toolset)
    await toolset.__aenter__()
    return {t.name: t for t in await toolset.list_tools()}


async def test_tools_have_clear_schemas(box: DockerSandbox) -> None:
    tools = await tools_of(box)
    assert set(tools) == {"run_shell", "run_python", "write_file", "read_file", "list_files"}
    for tool in tools.values():
        assert isinstance(tool, Tool)
        spec = tool.spec()
        assert spec.parameters["type"] == "object" and spec.description


async def test_shell_python_and_files_through_tools(box: DockerSandbox) -> None:
    tools = await tools_of(box)
    wrote = await tools["write_file"].invoke({"path": "src/x.py", "content": "print('from file')\n"}, CTX)
    assert not wrote.is_error and "19 bytes" in wrote.content
    ran = await tools["run_shell"].invoke({"command": "python3 src/x.py"}, CTX)
    assert not ran.is_error and "exit code: 0" in ran.content and "from file" in ran.content
    await tools["run_python"].invoke({"code": "total = 40"}, CTX)
    assert "42" in (await tools["run_python"].invoke({"code": "total + 2"}, CTX)).content
    assert (await tools["read_file"].invoke({"path": "src/x.py"}, CTX)).content == "print('from file')\n"
    listing = await tools["list_files"].invoke({}, CTX)
    assert "src/" in listing.content and "src/x.py (19 bytes)" in listing.content
    missing = await tools["read_file"].invoke({"path": "nope.txt"}, CTX)
    assert missing.is_error and "no such file" in missing.content


async def test_failures_are_worded_for_the_model(box: DockerSandbox) -> None:
    tools = await tools_of(box)
    slow = await tools["run_shell"].invoke({"command": "sleep 30", "timeout": 1}, CTX)
    assert slow.is_error and slow.content.startswith("timed out after 1 s")
    hog = await tools["run_python"].invoke({"code": "b = bytearray(1 << 30)"}, CTX)
    assert hog.is_error and "killed: out of memory (limit 192m)" in hog.content
    with pytest.raises(ToolArgumentsInvalid):
        await tools["run_shell"].invoke({"command": "true", "timeout": 10_000}, CTX)
    with pytest.raises(ToolArgumentsInvalid):
        await tools["write_file"].invoke({"path": "a"}, CTX)


async def test_toolset_starts_and_removes_its_own_sandbox(engine: Any) -> None:
    async with SandboxToolset(config=SandboxConfig()) as toolset:
        tools = {t.name: t for t in await toolset.list_tools()}
        result = await tools["run_shell"].invoke({"command": "echo hi"}, CTX)
        assert "hi" in result.content
        box: Any = toolset.sandbox
    assert await toolset.list_tools() == []
    assert box._closed and toolset.sandbox is None
