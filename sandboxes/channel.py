"""The host side of the line protocol with the in-container agent, over one exec's raw socket.

Docker multiplexes the exec's stdout and stderr into frames (8-byte header: stream, 3 zero bytes,
big-endian length); stdin goes in raw. A reader thread splits stdout into JSON lines and resolves
the request with the matching ``id``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from concurrent.futures import Future, InvalidStateError
from typing import Any

from m1agent.errors import M1AgentError


class AgentLost(M1AgentError):
    """The in-container agent stopped answering (it was killed, or the container went away)."""

    hint = "the sandbox restarts its agent on the next command"


class AgentChannel:
    """Requests out, replies in, matched by ``id``. Thread-safe; many requests may be in flight."""

    def __init__(self, sock: Any) -> None:
        self._sock: socket.socket = getattr(sock, "_sock", sock)
        self._sock.settimeout(None)
        self._send_lock = threading.Lock()
        self._pending: dict[int, Future[dict[str, Any]]] = {}
        self._pending_lock = threading.Lock()
        self._next_id = 0
        self._closed = False
        self.stderr_tail = b""
        self.oom_kills_seen = -1  # the container's OOM-kill count in the agent's last message
        self.modules: set[str] = set()  # keys of the resident modules this agent has loaded
        self.ready: Future[dict[str, Any]] = Future()
        self._reader = threading.Thread(target=self._read_loop, name="sandbox-agent-reader", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return not self._closed

    def request(self, op: str, **fields: Any) -> tuple[int, Future[dict[str, Any]]]:
        """Send one request; the future resolves with the reply or fails with ``AgentLost``."""
        future: Future[dict[str, Any]] = Future()
        with self._pending_lock:
            if self._closed:
                raise AgentLost("the sandbox agent is gone")
            self._next_id += 1
            request_id = self._next_id
            self._pending[request_id] = future
        line = json.dumps({"id": request_id, "op": op, **fields}).encode() + b"\n"
        try:
            with self._send_lock:
                self._sock.sendall(line)
        except OSError as exc:
            self._fail_all(f"could not write to the sandbox agent: {exc}")
        return request_id, future

    def close(self) -> None:
        """Drop the connection; pending requests fail with ``AgentLost``."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._fail_all("the sandbox was closed")

    def _read_loop(self) -> None:
        buffer = bytearray()  # grows in place: a large reply arrives in many chunks
        line = bytearray()  # the reply being received; a large file's text comes as one long line
        try:
            while True:
                chunk = self._sock.recv(262144)
                if not chunk:
                    break
                buffer += chunk
                start = 0
                while len(buffer) - start >= 8:
                    stream, size = buffer[start], struct.unpack(">I", buffer[start + 4 : start + 8])[0]
                    if len(buffer) - start < 8 + size:
                        break
                    payload, start = buffer[start + 8 : start + 8 + size], start + 8 + size
                    if stream == 2:
                        self.stderr_tail = (self.stderr_tail + bytes(payload))[-4096:]
                        continue
                    # Only a frame holding a newline ends a reply: search the frame, not the whole line.
                    if b"\n" not in payload:
                        line += payload
                        continue
                    *complete, rest = (bytes(line) + payload).split(b"\n")
                    line = bytearray(rest)
                    for one in complete:
                        if one.strip():
                            self._dispatch(json.loads(one))
                del buffer[:start]
        except (OSError, ValueError):
            pass
        detail = self.stderr_tail.decode("utf-8", "replace").strip()
        self._fail_all("the sandbox agent stopped" + (f": {detail[-500:]}" if detail else ""))

    def _dispatch(self, message: dict[str, Any]) -> None:
        if isinstance(message.get("ooms"), int):
            self.oom_kills_seen = message["ooms"]
        if message.get("ready"):
            if not self.ready.done():
                self.ready.set_result(message)
            return
        with self._pending_lock:
            future = self._pending.pop(message.get("id", -1), None)
        if future is not None and not future.done():
            with contextlib.suppress(InvalidStateError):  # the waiter may have given up meanwhile
                future.set_result(message)

    def _fail_all(self, reason: str) -> None:
        with self._pending_lock:
            self._closed = True
            pending, self._pending = self._pending, {}
        for future in [*pending.values(), self.ready]:
            if not future.done():
                future.set_exception(AgentLost(reason))
