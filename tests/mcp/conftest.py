"""Fixtures for the MCP tests: the published servers the setup installs, HTTP server processes."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp_helpers import INSTALLED, ROOT, SERVERS, start_http, stop


@pytest.fixture(scope="session")
def installed() -> Path:
    """Where ``scripts/setup.d/30-mcp-servers.sh`` put the published servers."""
    needed = [INSTALLED / "venv" / "bin" / "mcp-server-time", INSTALLED / "venv" / "bin" / "mcp-server-git"]
    needed += [INSTALLED / "node_modules" / "@modelcontextprotocol" / name / "package.json"
               for name in ("server-everything", "server-filesystem")]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        pytest.fail(f"published MCP servers missing ({missing}); run: bash scripts/setup.d/30-mcp-servers.sh")
    return INSTALLED


@pytest.fixture
def marker() -> str:
    """A value put in the server's environment, to find its processes afterwards."""
    return uuid.uuid4().hex


@pytest.fixture
def http_server() -> Iterator[Any]:
    """Start HTTP servers for a test and stop them after it."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(cmd: list[str], port: int) -> subprocess.Popen[bytes]:
        proc = start_http(cmd, port, env={**os.environ, "PYTHONPATH": f"{SERVERS}{os.pathsep}{ROOT}"})
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        stop(proc)
