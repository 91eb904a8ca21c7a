"""Opening a config's transport, watched: the end of the stream and garbage lines are seen at once.

The SDK turns a dead server into errors only for requests in flight; watching the read stream lets
an idle connection notice the crash too, without reaching into the SDK's private state.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, TextIO

import anyio
import httpx2
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from m1agent.mcp.config import MCPServerConfig
from m1agent.mcp.stdio import stdio_transport

logger = logging.getLogger("m1agent.mcp")

# Streams stay open for long tool calls; the connect phase has its own timeout around the handshake.
_HTTP_READ_TIMEOUT = 600.0


class WatchedReadStream:
    """Delegates to the transport's read stream; reports its end and counts unparsable lines."""

    def __init__(self, inner: Any, on_end: Callable[[], None], on_garbage: Callable[[Exception], None]) -> None:
        self._inner = inner
        self._on_end = on_end
        self._on_garbage = on_garbage

    @property
    def last_context(self) -> Any:
        """The sender's context snapshot, when the inner stream keeps one (the SDK reads it)."""
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> Any:
        try:
            item = await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._on_end()
            raise
        if isinstance(item, Exception):
            self._on_garbage(item)
        return item

    def __aiter__(self) -> WatchedReadStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> WatchedReadStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class _WatchedHTTPTransport(httpx2.AsyncHTTPTransport):
    """Reports a server that stopped accepting connections.

    The SDK logs such an error in its writer task and leaves the request waiting; reporting it
    lets the connection fail what is pending at once and reconnect.
    """

    def __init__(self, on_dead: Callable[[], None]) -> None:
        super().__init__()
        self._on_dead = on_dead

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await super().handle_async_request(request)
        except (httpx2.ConnectError, httpx2.RemoteProtocolError):
            self._on_dead()
            raise


@asynccontextmanager
async def open_transport(
    config: MCPServerConfig,
    *,
    errlog: TextIO,
    on_end: Callable[[], None],
    on_garbage: Callable[[Exception], None],
    on_http_error: Callable[[int], None] = lambda _status: None,
) -> AsyncIterator[tuple[Any, Any]]:
    """Enter the transport the config names and yield its (watched read, write) streams."""
    if config.transport == "stdio":
        async with stdio_transport(
            config.command, list(config.args), env=config.env, cwd=config.cwd, errlog=errlog
        ) as (read, write):
            yield WatchedReadStream(read, on_end, on_garbage), write
    elif config.transport == "http":
        timeout = httpx2.Timeout(config.connect_timeout, read=max(_HTTP_READ_TIMEOUT, config.call_timeout))

        async def record_status(response: httpx2.Response) -> None:
            # The SDK reports any non-2xx as a bare -32603; the status is what tells a user what to fix.
            if response.status_code >= 400:
                on_http_error(response.status_code)

        client = httpx2.AsyncClient(
            headers=config.http_headers(),
            timeout=timeout,
            event_hooks={"response": [record_status]},
            transport=_WatchedHTTPTransport(on_end),
        )
        async with (
            client as http_client,
            streamable_http_client(config.url, http_client=http_client) as (read, write),
        ):
            yield WatchedReadStream(read, on_end, on_garbage), write
    else:
        def client_factory(
            headers: dict[str, str] | None = None,
            timeout: httpx2.Timeout | None = None,
            auth: httpx2.Auth | None = None,
        ) -> httpx2.AsyncClient:
            return httpx2.AsyncClient(
                headers=headers, timeout=timeout, auth=auth, transport=_WatchedHTTPTransport(on_end)
            )

        async with sse_client(
            config.url,
            headers=config.http_headers(),
            httpx_client_factory=client_factory,
            timeout=config.connect_timeout,
            sse_read_timeout=max(_HTTP_READ_TIMEOUT, config.call_timeout),
        ) as (read, write):
            yield WatchedReadStream(read, on_end, on_garbage), write
