"""Coding tools run against a real Docker sandbox holding a copy of a small repository."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from m1agent.sandboxes import DEFAULT_IMAGE, DockerSandbox, SandboxConfig, docker_client
from m1agent.tools.coding import SandboxRepo, coding_tools

from m1agent.function_tool import FunctionTool
from m1agent.tool import RunContext, ToolReturn


@pytest.fixture(scope="session")
def engine() -> Any:
    try:
        client = docker_client()
        client.images.get(DEFAULT_IMAGE)
    except Exception as exc:
        pytest.fail(f"{exc}: run scripts/setup.d/10-docker.sh and 20-sandbox-image.sh")
    return client


def make_repo(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "calc.py").write_text(
        "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
    )
    (root / "README.md").write_text("# demo\nSome words.\n")
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o755)
    return root


@pytest.fixture
async def repo(engine: Any, tmp_path: Path) -> AsyncIterator[SandboxRepo]:
    source = make_repo(tmp_path / "src")
    async with DockerSandbox(SandboxConfig(memory="192m", work_size="64m"), client=engine) as box:
        await box.open_repo(source)
        yield SandboxRepo(box)


class Tools:
    """Call coding tools by name, as the loop would."""

    def __init__(self, repo: SandboxRepo) -> None:
        self.by_name: dict[str, FunctionTool] = {t.name: t for t in coding_tools(repo)}

    async def __call__(self, name: str, **arguments: Any) -> ToolReturn:
        return await self.by_name[name].invoke(dict(arguments), RunContext(deps=None))


@pytest.fixture
def call(repo: SandboxRepo) -> Tools:
    return Tools(repo)
