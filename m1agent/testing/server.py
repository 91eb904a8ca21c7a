"""The base of every scripted server: a real socket on 127.0.0.1, a background thread, a script.

A script is a list of raw M1 outputs, one per generation request, each the exact text M1 would write
after the ``<beginning_of_sentence>ai name=…`` header. An entry may also be a callable that gets the
request body and returns that text, for agents whose prompts vary.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from m1agent.testing._wire import HTTPRequest, Reply, StreamReply, json_reply, serve_connection
from m1agent.testing.faults import Fault

ScriptEntry = str | Callable[[Any], str]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the server received. ``body`` is the decoded JSON body (``None`` if empty)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True, slots=True)
class Generation:
    """What the scripted model produced for one request, after ``stop`` and ``max_tokens`` applied."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    stop_reason: str | None = None


class ScriptExhausted(Exception):
    """More generation requests arrived than the script has entries."""


class ScriptedServer:
    """Shared machinery; use ``VLLMServer`` or ``MiniMaxServer``.

    ``faults`` maps the 0-based number of a generation request (counting every one received, failed or
    not) to the fault it meets. ``counter`` counts tokens for ``usage`` and ``max_tokens``; by default
    ``m1agent.tokens.load_counter()``. ``chunk_chars`` sets the size of streamed pieces; by default the
    output is cut into token-like pieces (words, spaces, single punctuation marks), so tags such as
    ``<think>`` arrive split as they do from a real server. ``chunk_delay`` pauses between pieces.
    """

    generation_paths: frozenset[str] = frozenset()

    def __init__(
        self,
        script: Sequence[ScriptEntry] = (),
        *,
        faults: Mapping[int, Fault] | None = None,
        api_key: str | None = None,
        counter: Any = None,
        chunk_chars: int | None = None,
        chunk_delay: float = 0.0,
    ) -> None:
        self.script: list[ScriptEntry] = list(script)
        self.faults = dict(faults or {})
        self.api_key = api_key
        self.chunk_chars = chunk_chars
        self.chunk_delay = chunk_delay
        self.requests: list[RecordedRequest] = []
        self.generation_count = 0
        self._counter = counter
        self._next_entry = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._port = 0
        self.stopping: asyncio.Event | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port chosen by the OS when the server started."""
        if not self._port:
            raise RuntimeError("the server is not running: use it as a context manager or call start()")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no path)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        """Bind a free port on 127.0.0.1 and serve from a background thread."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._open())
            except BaseException as exc:  # reported to start() below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._close())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"{type(self).__name__}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread = None
            raise RuntimeError(f"{type(self).__name__} could not start") from failure[0]
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and join the thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread = None
        self._port = 0

    async def _open(self) -> None:
        self.stopping = asyncio.Event()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self.stopping is not None:
            self.stopping.set()
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await serve_connection(self._dispatch, reader, writer)
        finally:
            self._tasks.discard(task)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    # --- requests ------------------------------------------------------------------------------

    @property
    def bodies(self) -> list[Any]:
        """The JSON bodies of the generation requests, in arrival order."""
        return [r.body for r in self.requests if r.path in self.generation_paths]

    def add_script(self, *outputs: ScriptEntry) -> None:
        """Append outputs to the script."""
        self.script.extend(outputs)

    @property
    def remaining(self) -> int:
        """Script entries not yet used."""
        return len(self.script) - self._next_entry

    async def _dispatch(self, request: HTTPRequest) -> Reply | StreamReply:
        try:
            body = request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return json_reply({"error": {"message": "the body is not valid JSON", "code": 400}}, 400)
        self.requests.append(RecordedRequest(request.method, request.path, dict(request.headers), body))
        return await self.handle(request, body)

    async def handle(self, request: HTTPRequest, body: Any) -> Reply | StreamReply:
        """Answer one request (subclasses route by path)."""
        raise NotImplementedError

    def bearer_ok(self, request: HTTPRequest) -> bool:
        """True when no key is required, or the request carries ``Authorization: Bearer <key>``."""
        return self.api_key is None or request.headers.get("authorization") == f"Bearer {self.api_key}"

    def begin_generation(self) -> tuple[int, Fault | None]:
        """Number this generation request and return the fault it meets, if any."""
        number = self.generation_count
        self.generation_count += 1
        return number, self.faults.get(number)

    def peek_output(self, body: Any) -> str:
        """The scripted output for the current request (the entry is used up by ``commit_output``)."""
        if self._next_entry >= len(self.script):
            raise ScriptExhausted(
                f"m1agent.testing: generation request {self.generation_count} arrived but the script has "
                f"only {len(self.script)} entries ({self._next_entry} used)"
            )
        entry = self.script[self._next_entry]
        return entry(body) if callable(entry) else entry

    def commit_output(self) -> None:
        """Mark the current script entry as used (called once its answer went out in full)."""
        self._next_entry += 1

    # --- tokens --------------------------------------------------------------------------------

    @property
    def counter(self) -> Any:
        """The token counter (loaded on first use)."""
        if self._counter is None:
            from m1agent.tokens import load_counter

            self._counter = load_counter()
        return self._counter

    def count(self, text: str) -> int:
        """Tokens in ``text`` by the M1 counter."""
        return int(self.counter.count(text)) if text else 0

    def generate(self, output: str, prompt: str, *, max_tokens: int | None, stop: Sequence[str] = ()) -> Generation:
        """Apply stop strings, then the ``max_tokens`` limit, the way an inference server does."""
        finish, stop_reason = "stop", None
        cut = min((i for i in (output.find(s) for s in stop if s) if i >= 0), default=-1)
        if cut >= 0:
            stop_reason = next(s for s in stop if s and output.find(s) == cut)
            output = output[:cut]
        tokens = self.count(output)
        if max_tokens is not None and tokens > max_tokens:
            output, tokens, finish, stop_reason = self._truncate(output, max_tokens), max_tokens, "length", None
        elif stop_reason is None:
            tokens += 1  # the end-of-sentence token the model emitted is counted, not shown
        return Generation(output, finish, self.count(prompt), tokens, stop_reason)

    def _truncate(self, text: str, max_tokens: int) -> str:
        low, high = 0, len(text)
        while low < high:  # the longest prefix that fits
            mid = (low + high + 1) // 2
            if self.count(text[:mid]) <= max_tokens:
                low = mid
            else:
                high = mid - 1
        return text[:low]


def exhausted_reply(err: ScriptExhausted) -> Reply:
    """An HTTP 400 that tells the test author the script ran out (not retried by clients)."""
    return json_reply({"error": {"message": str(err), "type": "BadRequestError", "code": 400}}, 400)
