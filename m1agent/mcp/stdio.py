"""The stdio transport: a server subprocess in its own process group, JSON-RPC one line at a time.

We keep our own instead of the SDK's ``stdio_client`` for two reasons. Its line reader copies the
whole pending buffer on every chunk, so one 10 MB result takes tens of seconds (quadratic); this one
scans each byte once. And on shutdown we stop the whole process group even when the server itself
exits cleanly, so a wrapper's or a server's own children are not left behind.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, TextIO

import anyio
import anyio.abc
from mcp import types as mcp_types
from mcp.client.stdio import get_default_environment
from mcp.shared.message import SessionMessage

logger = logging.getLogger("m1agent.mcp")

# The spec's shutdown: close stdin, give the server time to exit, then terminate, then kill.
EXIT_GRACE = 2.0
TERM_GRACE = 1.0
_POLL = 0.02


def parse_line(line: bytes) -> SessionMessage | Exception:
    """One stdout line as a message, or the error that says why it is not one (for the session)."""
    try:
        return SessionMessage(mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        return exc


def server_environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    """The SDK's allow-listed environment plus the config's own; keys are never inherited silently."""
    return get_default_environment() | dict(extra or {})


@asynccontextmanager
async def stdio_transport(
    command: str,
    args: list[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    errlog: TextIO | None = None,
) -> AsyncIterator[tuple[Any, Any]]:
    """Start the server and yield (read, write) streams of ``SessionMessage``s; stop it on exit."""
    full_env = server_environment(env)
    executable = shutil.which(command, path=full_env.get("PATH")) or command
    process = await anyio.open_process(
        [executable, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errlog if errlog is not None else subprocess.DEVNULL,
        env=full_env,
        cwd=cwd,
        start_new_session=True,
    )
    _live_groups.add(process.pid)
    read_send, read_recv = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_send, write_recv = anyio.create_memory_object_stream[SessionMessage](0)

    async def read_stdout() -> None:
        assert process.stdout is not None
        buffer = bytearray()
        async with read_send:
            try:
                while True:
                    chunk = await process.stdout.receive()
                    scan_from = len(buffer)
                    buffer += chunk
                    start = 0
                    while (end := buffer.find(b"\n", max(start, scan_from))) != -1:
                        line = bytes(buffer[start:end]).strip()
                        start = end + 1
                        if line:
                            await read_send.send(parse_line(line))
                    if start:
                        del buffer[:start]
            except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                return

    async def write_stdin() -> None:
        assert process.stdin is not None
        try:
            async with write_recv:
                async for message in write_recv:
                    data = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    await process.stdin.send(data.encode() + b"\n")
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            await read_send.aclose()  # the session sees the end instead of waiting forever

    async with anyio.create_task_group() as tg:
        tg.start_soon(read_stdout)
        tg.start_soon(write_stdin)
        try:
            yield read_recv, write_send
        finally:
            with anyio.CancelScope(shield=True):
                await write_send.aclose()
                await stop_process(process)
            tg.cancel_scope.cancel()


async def stop_process(process: anyio.abc.Process) -> None:
    """Close stdin and wait; then SIGTERM, then SIGKILL the whole process group. Always bounded."""
    if process.stdin is not None:
        with contextlib.suppress(Exception):
            await process.stdin.aclose()
    if not await _exited(process, EXIT_GRACE):
        _signal_group(process.pid, signal.SIGTERM)
        if not await _exited(process, TERM_GRACE):
            _signal_group(process.pid, signal.SIGKILL)
            await _exited(process, TERM_GRACE)
    # The server is gone; children it started in its group (wrappers, helpers) go with it.
    _signal_group(process.pid, signal.SIGKILL)
    _live_groups.discard(process.pid)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(Exception):
                await stream.aclose()
    if process.returncode is None:
        logger.warning("MCP server process %d survived SIGKILL", process.pid)


async def _exited(process: anyio.abc.Process, timeout: float) -> bool:
    # Polling the return code, not wait(): wait() also waits for pipe EOF, which a child holding
    # the pipes would delay.
    with anyio.move_on_after(timeout):
        while process.returncode is None:
            await anyio.sleep(_POLL)
        return True
    return process.returncode is not None


# Process groups of servers still running, killed at interpreter exit if nothing stopped them
# (an event loop torn down without closing its toolsets).
_live_groups: set[int] = set()


@atexit.register
def _kill_leftovers() -> None:
    for pid in list(_live_groups):
        _signal_group(pid, signal.SIGKILL)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
