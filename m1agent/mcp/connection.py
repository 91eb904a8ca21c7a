"""One MCP server connection, owned by one task.

The SDK's ``Client`` must be entered and exited in the same task, so a dedicated owner task holds it
and serves requests sent through a queue; any task may call ``request``. Each request runs as a
child of the owner, so calls go in parallel and one can be cancelled (the SDK then tells the server).
A crash (end of stream, ``-32000``) marks the connection unhealthy and, if allowed, a reconnect with
backoff follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

import anyio
from mcp import Client
from mcp import types as mcp_types
from mcp.client.session import IncomingMessage
from mcp.shared.exceptions import MCPError as _MCPError

from m1agent.errors import ToolTimeout
from m1agent.mcp.config import MCPServerConfig
from m1agent.mcp.connection_state import (
    ConnectionInfo,
    MCPConnectError,
    NullLog,
    ServerState,
    ServerUnavailable,
    describe_exception,
    plain_exception,
    supports_listen,
)
from m1agent.mcp.transport import open_transport

logger = logging.getLogger("m1agent.mcp")

T = TypeVar("T")
CONNECTION_CLOSED = -32000
_STDERR_TAIL_CHARS = 2000
_CLOSE_GRACE = 6.0  # the SDK's stdio shutdown waits 2 s, then kills the process group
_BACKOFF_FIRST, _BACKOFF_MAX = 0.5, 30.0


@dataclass(slots=True, eq=False)
class _Request:
    op: Callable[[Client], Awaitable[Any]]
    future: asyncio.Future[Any]
    scope: anyio.CancelScope | None = None


@dataclass(slots=True)
class _Counters:
    garbage_lines: int = 0
    reconnects: int = 0
    list_changed: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class MCPConnection:
    """A connection to one server. ``connect`` starts it, ``request`` runs an operation on the client.

    ``on_change`` is called (in the owner's task) when the server's tool list may have changed: a
    ``tools/list_changed`` notification, or a reconnect.
    """

    def __init__(self, config: MCPServerConfig, *, on_change: Callable[[], None] | None = None) -> None:
        self.config = config
        self.state = ServerState.IDLE
        self.error: str = ""
        self.info = ConnectionInfo()
        self.counters = _Counters()
        self._on_change = on_change or (lambda: None)
        self._queue: asyncio.Queue[_Request | None] = asyncio.Queue()
        self._owner: asyncio.Task[None] | None = None
        self._reconnector: asyncio.Task[None] | None = None
        self._closing = False
        self._stream_ended: asyncio.Event | None = None
        self._errlog: IO[str] | None = None
        self.last_http_status: int | None = None
        self._inflight: set[_Request] = set()

    def __repr__(self) -> str:
        return f"MCPConnection({self.config.name!r}, state={self.state.value})"

    @property
    def healthy(self) -> bool:
        """Whether requests can be sent now."""
        return self.state is ServerState.HEALTHY

    def stderr_tail(self, limit: int = _STDERR_TAIL_CHARS) -> str:
        """The end of what a stdio server wrote to stderr (for diagnostics)."""
        if self._errlog is None:
            return ""
        try:
            self._errlog.flush()
            self._errlog.seek(0, 2)
            size = self._errlog.tell()
            self._errlog.seek(max(0, size - limit * 4))
            return self._errlog.read()[-limit:]
        except (OSError, ValueError):
            return ""

    # --- lifecycle --------------------------------------------------------------------------

    async def connect(self) -> None:
        """Start the owner task and wait for the handshake, at most ``connect_timeout`` seconds."""
        if self._closing:
            raise MCPConnectError(f"MCP server {self.config.name!r} is closed")
        self.state = ServerState.CONNECTING
        if self._errlog is None and self.config.transport == "stdio":
            # Kept open for the connection's life (stderr tail for diagnostics); closed in close().
            self._errlog = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")  # noqa: SIM115
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue = asyncio.Queue()
        self._stream_ended = ended = asyncio.Event()
        self.last_http_status = None
        self._owner = asyncio.create_task(self._own(ready), name=f"mcp-owner-{self.config.name}")
        ended_waiter: asyncio.Future[Any] = asyncio.ensure_future(ended.wait())
        try:
            async with asyncio.timeout(self.config.connect_timeout):
                waiters: set[asyncio.Future[Any]] = {ready, ended_waiter}
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                if not ready.done():  # the server went away before the handshake finished
                    raise ConnectionError("the server closed the connection during the handshake")
                await ready
        except TimeoutError:
            await self._stop_owner()
            self._fail(f"no answer to the handshake within {self.config.connect_timeout:g} s")
            raise MCPConnectError(self._describe_failure()) from None
        except asyncio.CancelledError:
            await self._stop_owner()
            raise
        except BaseException as exc:
            await self._stop_owner()
            if isinstance(exc, ConnectionError) and ready.done() and ready.exception() is not None:
                exc = ready.exception() or exc  # the SDK's own reason is more precise
            self._fail(describe_exception(exc))
            raise MCPConnectError(self._describe_failure()) from None
        finally:
            ended_waiter.cancel()

    def _http_error(self, status: int) -> None:
        self.last_http_status = status

    def _describe_failure(self) -> str:
        message = f"MCP server {self.config.name!r} failed to connect: {self.error}"
        if self.last_http_status in (401, 403):
            message += f" (HTTP {self.last_http_status}: set a valid bearerToken or Authorization header)"
        elif self.last_http_status:
            message += f" (HTTP {self.last_http_status} from {self.config.url})"
        tail = self.stderr_tail(600).strip()
        return f"{message}\nstderr (last lines):\n{tail}" if tail else message

    async def close(self) -> None:
        """Stop the server (no process is left behind) and fail what is still waiting."""
        self._closing = True
        if self._reconnector is not None:
            self._reconnector.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reconnector
        await self._stop_owner()
        self.state = ServerState.CLOSED
        if self._errlog is not None:
            self._errlog.close()
            self._errlog = None

    async def _stop_owner(self) -> None:
        owner, self._owner = self._owner, None
        if owner is None or owner.done():
            return
        if self.state is ServerState.HEALTHY:  # serving: let it finish its exit in its own task
            self._queue.put_nowait(None)
            done, _ = await asyncio.wait({owner}, timeout=_CLOSE_GRACE)
            if done:
                return
        owner.cancel()  # the SDK's stdio shutdown is shielded, so the process is still stopped
        await asyncio.wait({owner}, timeout=_CLOSE_GRACE)

    def _fail(self, reason: str) -> None:
        self.error = reason
        if not self._closing:
            self.state = ServerState.UNHEALTHY

    # --- the owner task ---------------------------------------------------------------------

    async def _own(self, ready: asyncio.Future[None]) -> None:
        stream_ended = self._stream_ended or asyncio.Event()
        transport = open_transport(
            self.config,
            errlog=self._errlog or NullLog(),  # type: ignore[arg-type]
            on_end=stream_ended.set,
            on_garbage=self._garbage,
            on_http_error=self._http_error,
        )
        client = Client(transport, mode=self.config.mode, message_handler=self._on_message)
        try:
            async with client:
                self._record_info(client)
                self.state = ServerState.HEALTHY
                self.error = ""
                ready.set_result(None)
                await self._serve(client, stream_ended)
        except BaseException as exc:  # the owner must never leak an exception group into the loop
            if not ready.done():
                plain = plain_exception(exc)
                if isinstance(plain, asyncio.CancelledError):
                    ready.cancel()
                else:
                    ready.set_exception(plain)
            elif not self._closing and not isinstance(exc, asyncio.CancelledError):
                self._fail(describe_exception(exc))
            if isinstance(exc, asyncio.CancelledError) and not ready.done():
                raise
        finally:
            self._drain_queue()
            if self.state is ServerState.HEALTHY and not self._closing:
                self._fail(self.error or "the connection ended")
            if self.state is ServerState.UNHEALTHY:
                self._schedule_reconnect()

    async def _serve(self, client: Client, stream_ended: asyncio.Event) -> None:
        async with anyio.create_task_group() as tg:

            async def watch_end() -> None:
                await stream_ended.wait()
                self._fail("the server closed the connection (it crashed or exited)")
                # Answer the callers now: the SDK's teardown of a dead transport can take a while.
                for request in list(self._inflight):
                    if not request.future.done():
                        request.future.set_exception(self._unavailable())
                tg.cancel_scope.cancel()

            tg.start_soon(watch_end)
            if supports_listen(client):
                tg.start_soon(self._listen, client)
            while True:
                request = await self._queue.get()
                if request is None:
                    break
                tg.start_soon(self._run, client, request)
            tg.cancel_scope.cancel()

    async def _run(self, client: Client, request: _Request) -> None:
        if request.future.done():
            return
        self._inflight.add(request)
        request.future.add_done_callback(lambda _f: self._inflight.discard(request))
        with anyio.CancelScope() as scope:
            request.scope = scope
            try:
                result = await request.op(client)
            except _MCPError as exc:
                if exc.code == CONNECTION_CLOSED:
                    self._fail(f"connection closed ({exc.message})")
                    if self._stream_ended is not None:
                        self._stream_ended.set()
                if not request.future.done():
                    request.future.set_exception(exc)
            except Exception as exc:
                if not request.future.done():
                    request.future.set_exception(plain_exception(exc))
            else:
                if not request.future.done():
                    request.future.set_result(result)
        if not request.future.done():  # the owner is shutting down under this call
            request.future.set_exception(self._unavailable())

    def _drain_queue(self) -> None:
        while not self._queue.empty():
            request = self._queue.get_nowait()
            if request is not None and not request.future.done():
                request.future.set_exception(self._unavailable())

    def _unavailable(self) -> ServerUnavailable:
        reason = f": {self.error}" if self.error else ""
        hint = None if self.config.reconnect and not self._closing else "restart the agent once the server is fixed"
        return ServerUnavailable(f"MCP server {self.config.name!r} is {self.state.value}{reason}", hint=hint)

    def _record_info(self, client: Client) -> None:
        server = client.server_info
        self.info = ConnectionInfo(
            protocol_version=client.protocol_version,
            server_name=server.name if server else "",
            server_version=server.version if server else "",
            capabilities=client.server_capabilities,
            instructions=client.instructions,
        )

    # --- notifications ----------------------------------------------------------------------

    async def _on_message(self, message: IncomingMessage) -> None:
        if isinstance(message, Exception):
            return  # counted by the watched stream
        if isinstance(message, mcp_types.ToolListChangedNotification):
            self.counters.list_changed += 1
            self._on_change()
        elif isinstance(message, mcp_types.LoggingMessageNotification):
            logger.debug("mcp server %s: %s", self.config.name, message.params.data)

    async def _listen(self, client: Client) -> None:
        """On 2026-era connections, change events come on a ``subscriptions/listen`` stream."""
        try:
            async with client.listen(tools_list_changed=True) as subscription:
                async for _event in subscription:
                    self.counters.list_changed += 1
                    self._on_change()
        except Exception as exc:  # losing the stream only loses change events, not the connection
            logger.debug("mcp server %s: listen stream ended: %s", self.config.name, exc)

    def _garbage(self, exc: Exception) -> None:
        self.counters.garbage_lines += 1
        logger.warning(
            "mcp server %s wrote a line that is not JSON-RPC to stdout (ignored): %s",
            self.config.name,
            str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        )

    # --- reconnect --------------------------------------------------------------------------

    def _schedule_reconnect(self) -> None:
        if self._closing or not self.config.reconnect:
            return
        if self._reconnector is not None and not self._reconnector.done():
            return
        with contextlib.suppress(RuntimeError):  # no running loop: the process is shutting down
            self._reconnector = asyncio.get_running_loop().create_task(
                self._reconnect_loop(), name=f"mcp-reconnect-{self.config.name}"
            )

    async def _reconnect_loop(self) -> None:
        delay = _BACKOFF_FIRST
        while not self._closing:
            await asyncio.sleep(delay)
            logger.info("mcp server %s: reconnecting (%s)", self.config.name, self.error)
            try:
                await self.connect()
            except MCPConnectError as exc:
                logger.warning("%s", exc)
                delay = min(delay * 2, _BACKOFF_MAX)
                continue
            self.counters.reconnects += 1
            self._on_change()
            return

    # --- requests ---------------------------------------------------------------------------

    async def request(self, op: Callable[[Client], Awaitable[T]], *, timeout: float | None = None) -> T:
        """Run ``op(client)`` in the owner task; cancelled (and the server told) after ``timeout``."""
        if not self.healthy:
            raise self._unavailable()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        request = _Request(op, future)
        future.add_done_callback(lambda f: request.scope.cancel() if f.cancelled() and request.scope else None)
        self._queue.put_nowait(request)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise ToolTimeout(
                f"MCP server {self.config.name!r} gave no answer within {timeout:g} s; the call was cancelled",
                hint="raise call_timeout for this server if the tool is just slow",
            ) from None


__all__ = ["ConnectionInfo", "MCPConnectError", "MCPConnection", "ServerState", "ServerUnavailable"]
