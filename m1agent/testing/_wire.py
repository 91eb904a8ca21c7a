"""A small HTTP/1.1 server on asyncio streams, with the control a fault injector needs.

A hand-written server (rather than an ASGI stack) lets a handler reset the TCP connection with an RST,
stall mid-body, or send bytes that are not valid SSE: things a well-behaved framework refuses to do.
Every response closes its connection (``Connection: close``), which keeps the state machine trivial.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

MAX_BODY = 256 * 1024 * 1024


@dataclass(slots=True)
class HTTPRequest:
    """One request as received: method, path (without query), lower-cased headers and the raw body."""

    method: str
    path: str
    headers: dict[str, str]
    raw_body: bytes

    def json(self) -> Any:
        """The body decoded as JSON (``None`` when it is empty)."""
        return json.loads(self.raw_body) if self.raw_body else None


@dataclass(slots=True)
class Reply:
    """A complete response."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class Abort(Exception):
    """Raised inside a stream body: reset the connection now (TCP RST)."""


@dataclass(slots=True)
class StreamReply:
    """A chunked response whose body comes from an async iterator (SSE, usually)."""

    chunks: AsyncIterator[bytes]
    status: int = 200
    content_type: str = "text/event-stream; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """A JSON response; non-ASCII text is sent as UTF-8, as real servers do."""
    return Reply(status, json.dumps(obj, ensure_ascii=False).encode(), headers=headers or {})


def sse(obj: Any) -> bytes:
    """One server-sent event carrying ``obj`` as JSON."""
    return b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


async def _read_request(reader: asyncio.StreamReader) -> HTTPRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
        raw = bytes(body)
    else:
        length = int(headers.get("content-length", "0"))
        if length > MAX_BODY:
            return None
        raw = await reader.readexactly(length) if length else b""
    return HTTPRequest(method.upper(), target.split("?", 1)[0], headers, raw)


def _head(status: int, content_type: str, headers: dict[str, str], length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", f"content-type: {content_type}",
             "connection: close"]
    lines.append(f"content-length: {length}" if length is not None else "transfer-encoding: chunked")
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        # Linger 0 turns close() into an RST: the peer sees "connection reset", not a clean end.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


Handler = Callable[[HTTPRequest], Awaitable[Reply | StreamReply]]


async def serve_connection(handler: Handler, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer one request on this connection, then close it."""
    try:
        request = await _read_request(reader)
        if request is None:
            return
        try:
            reply = await handler(request)
        except Abort:
            _reset(writer)
            return
        if isinstance(reply, Reply):
            writer.write(_head(reply.status, reply.content_type, reply.headers, len(reply.body)) + reply.body)
            await writer.drain()
            return
        writer.write(_head(reply.status, reply.content_type, reply.headers, None))
        try:
            async for chunk in reply.chunks:
                if chunk:
                    writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    await writer.drain()
        except Abort:
            _reset(writer)
            return
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        if not writer.transport.is_closing():
            writer.close()
