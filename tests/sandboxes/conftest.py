"""Sandbox tests run against the real Docker engine; without one they fail and say what to do."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from m1agent.sandboxes import DEFAULT_IMAGE, DockerSandbox, SandboxConfig, SandboxUnavailable, docker_client
from m1agent.sandboxes.lifecycle import LABEL, OWNER_PID


@pytest.fixture(scope="session")
def engine() -> Iterator[Any]:
    """The Docker client; at the end of the session, no sandbox of this process may be left."""
    try:
        client = docker_client()
    except SandboxUnavailable as exc:
        pytest.fail(f"{exc}. Run scripts/setup.d/10-docker.sh (as root) and try again.")
    try:
        client.images.get(DEFAULT_IMAGE)
    except Exception:
        pytest.fail(f"the image {DEFAULT_IMAGE} is missing: run scripts/setup.d/20-sandbox-image.sh")
    yield client
    mine = {"label": [LABEL, f"{OWNER_PID}={os.getpid()}"]}
    left = [c.name for c in client.containers.list(all=True, filters=mine)]
    left_volumes = [v.name for v in client.volumes.list(filters=mine)]
    assert not left and not left_volumes, f"sandboxes left behind: {left} {left_volumes}"


@pytest.fixture
async def box(engine: Any) -> AsyncIterator[DockerSandbox]:
    """A fresh sandbox with small limits, so the hostile tests end quickly."""
    config = SandboxConfig(memory="192m", work_size="64m", tmp_size="16m", pids_limit=128, watchdog_grace=3.0)
    async with DockerSandbox(config, client=engine) as sandbox:
        yield sandbox
