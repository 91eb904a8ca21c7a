"""Published servers, installed by the test setup: mcp-server-time and mcp-server-git (PyPI),
server-everything and server-filesystem (npm). All four share one toolset for the module."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from mcp_helpers import node_server

from m1agent.mcp import MCPProgress, MCPToolset
from m1agent.tool import RunContext

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("repo")
    env = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    (path / "hello.txt").write_text("hello\n")
    subprocess.run(["git", "-C", str(path), "add", "hello.txt"], check=True, env=env)
    subprocess.run(["git", "-C", str(path), "commit", "-q", "-m", "first commit"], check=True, env=env)
    (path / "hello.txt").write_text("hello, world\n")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files")
    (path / "notes.md").write_text("# Notes\nfirst line\n")
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def published(installed: Path, repo: Path, files: Path) -> AsyncIterator[MCPToolset]:
    venv = installed / "venv" / "bin"
    servers = {
        "time": {"command": str(venv / "mcp-server-time"), "args": ["--local-timezone", "UTC"]},
        "git": {"command": str(venv / "mcp-server-git"), "args": ["--repository", str(repo)],
                "approval": "writes"},
        "everything": node_server(installed, "server-everything"),
        "fs": node_server(installed, "server-filesystem", str(files)),
    }
    async with MCPToolset(servers) as toolset:
        yield toolset


async def test_all_connect_in_both_protocol_eras(published: MCPToolset) -> None:
    assert published.failed == {}
    versions = {name: published.connection(name).info.protocol_version for name in published.servers}
    assert versions["time"] == versions["git"] == "2026-07-28"
    assert versions["everything"] == versions["fs"] == "2025-11-25"
    names = {t.name for t in await published.list_tools()}
    assert {"time__get_current_time", "git__git_status", "everything__get-tiny-image", "fs__read_text_file"} <= names


async def test_time(published: MCPToolset) -> None:
    now = await published.call("time", "get_current_time", {"timezone": "Europe/Paris"})
    assert not now.is_error and '"timezone":"Europe/Paris"' in now.content
    converted = await published.call("time", "convert_time",
                                     {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"})
    assert "21:00" in converted.content
    bad = await published.call("time", "get_current_time", {"timezone": "Mars/Olympus"})
    assert bad.is_error and bad.content.startswith("MCP tool 'time__get_current_time' failed:")


async def test_git_against_a_temporary_repository(published: MCPToolset, repo: Path) -> None:
    status = await published.call("git", "git_status", {"repo_path": str(repo)})
    assert "hello.txt" in status.content and not status.is_error
    diff = await published.call("git", "git_diff_unstaged", {"repo_path": str(repo)})
    assert "+hello, world" in diff.content
    log = await published.call("git", "git_log", {"repo_path": str(repo)})
    assert "first commit" in log.content
    tools = {t.name: t for t in await published.list_tools()}
    needing = {name for name, tool in tools.items() if name.startswith("git__") and tool.needs_approval}
    assert needing == {"git__git_commit", "git__git_add", "git__git_reset", "git__git_create_branch",
                       "git__git_checkout"}


async def test_everything_progress_images_structured_and_resources(published: MCPToolset) -> None:
    events: list[Any] = []
    ctx: RunContext[None] = RunContext(deps=None, emit=events.append)
    long = await published.call("everything", "trigger-long-running-operation", {"duration": 1, "steps": 4}, ctx=ctx)
    assert not long.is_error
    for _ in range(500):
        if len(events) >= 4:
            break
        await asyncio.sleep(0.02)
    assert [e.progress for e in events if isinstance(e, MCPProgress)] == [1, 2, 3, 4]

    image = await published.call("everything", "get-tiny-image", {})
    assert "[image image/png" in image.content and image.metadata["media"][0]["data"]
    structured = await published.call("everything", "get-structured-content", {"location": "New York"})
    assert structured.metadata.get("structured") and "temperature" in structured.content
    links = await published.call("everything", "get-resource-links", {"count": 2})
    assert links.content.count("[resource ") == 2 and "<demo://resource/" in links.content

    resources = await published.list_resources("everything")
    assert resources
    text = await published.read_resource("everything", resources[0].uri)
    assert text
    prompts = await published.list_prompts("everything")
    assert prompts
    # filesystem has neither capability: asked nothing, answers empty
    assert await published.list_resources("fs") == [] and await published.list_prompts("fs") == []


async def test_filesystem_read_write_and_refusal(published: MCPToolset, files: Path) -> None:
    read = await published.call("fs", "read_text_file", {"path": str(files / "notes.md")})
    assert "first line" in read.content
    wrote = await published.call("fs", "write_file", {"path": str(files / "new.txt"), "content": "made by the agent"})
    assert not wrote.is_error and (files / "new.txt").read_text() == "made by the agent"
    outside = await published.call("fs", "read_text_file", {"path": "/etc/hostname"})
    assert outside.is_error and "denied" in outside.content.lower()
