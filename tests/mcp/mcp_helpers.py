"""Helpers for the MCP tests: entries for our own servers and the installed ones, ports, processes."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVERS = HERE / "servers"
ROOT = HERE.parents[1]
INSTALLED = ROOT / ".m1agent-test" / "mcp"


def ours(script: str, *args: str, **extra: Any) -> dict[str, Any]:
    """An ``mcpServers`` entry that runs one of our test servers over stdio."""
    return {"command": sys.executable, "args": [str(SERVERS / script), *args], **extra}


def node_server(installed: Path, package: str, *args: str) -> dict[str, Any]:
    """An entry that runs an installed npm server with node directly (no npx, no wrapper process)."""
    entry = installed / "node_modules" / "@modelcontextprotocol" / package / "dist" / "index.js"
    return {"command": "node", "args": [str(entry), *args]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            detail = proc.stderr.read() if proc.stderr else b""
            raise RuntimeError(f"server exited early with {proc.returncode}: {detail!r}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def start_http(cmd: list[str], port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start an HTTP server process and wait until it listens."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        wait_for_port(port, proc)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def processes_with(marker: str) -> list[int]:
    """Pids of live processes whose environment holds ``M1AGENT_TEST_MARKER=<marker>``."""
    found = []
    needle = f"M1AGENT_TEST_MARKER={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            status = (entry / "status").read_text()
        except OSError:
            continue
        if needle in environ and "State:\tZ" not in status:
            found.append(int(entry.name))
    return found
