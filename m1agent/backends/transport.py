"""The wire under every HTTP backend: timeouts, the one retry loop, typed errors, SSE, key hygiene.

Every failure leaves this module as one of the typed errors of ``m1agent.errors``. Server-supplied text
that goes into an error message is passed through ``redact`` first, so that a key a server echoes back
never reaches a log line, an exception or a transcript. Retries happen here and nowhere else: the loop
above a backend does not retry a generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import json
import logging
import os
import random
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import certifi
import httpx
import openai

from m1agent.backends.base import ModelEvent
from m1agent.backends.profile import error_for_status
from m1agent.errors import BackendError, BackendUnavailable, MalformedResponse, StreamInterrupted

log = logging.getLogger("m1agent.backends")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long to wait, in seconds.

    ``connect``: to open the TCP/TLS connection. ``read``: for the response headers and the *first*
    chunk of a stream; a long prompt can take minutes to prefill, so this one is generous.
    ``stream_idle``: the longest silence between two chunks once a stream has started.
    """

    connect: float = 10.0
    read: float = 600.0
    stream_idle: float = 120.0

    @property
    def socket_read(self) -> float:
        # The socket-level read timeout must never fire before our own first-chunk/idle watchdogs.
        return max(self.read, self.stream_idle) + 5.0

    def for_openai(self, read: float | None = None) -> openai.Timeout:
        """The same limits in the form the ``openai`` client takes (2.x and 3.x)."""
        return openai.Timeout(connect=self.connect, read=read or self.socket_read, write=self.connect,
                              pool=self.connect)

    def for_httpx(self) -> httpx.Timeout:
        """The same limits in the form ``httpx`` takes."""
        return httpx.Timeout(connect=self.connect, read=self.socket_read, write=self.connect, pool=self.connect)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter: at most ``1 + max_retries`` requests.

    Retried: errors whose ``retryable`` is set (429, 5xx, dropped or refused connections, streams that
    stall, malformed streams, and the hosted API's transient codes). ``Retry-After`` is honoured when
    the server sends it; one that asks for more than ``max_retry_after`` seconds is not waited for.
    """

    max_retries: int = 3
    initial_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.25
    max_retry_after: float = 120.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        if retry_after is not None:
            return retry_after * (1.0 + random.uniform(0.0, self.jitter / 5))
        backoff = min(self.max_delay, self.initial_delay * self.multiplier**retry)
        return backoff * (1.0 + random.uniform(-self.jitter, self.jitter))

    async def pause_or_raise(self, err: BackendError, retry: int, label: str) -> None:
        """Sleep before retry number ``retry`` (0-based), or raise ``err`` when it may not be retried."""
        if not err.retryable or retry >= self.max_retries:
            raise err
        retry_after = getattr(err, "retry_after", None)
        if retry_after is not None and retry_after > self.max_retry_after:
            raise err
        delay = self.delay(retry, retry_after)
        log.warning("%s: %s; retry %d of %d in %.2fs", label, err, retry + 1, self.max_retries, delay)
        await asyncio.sleep(delay)


NO_RETRIES = RetryPolicy(max_retries=0)


async def retrying(policy: RetryPolicy, label: str, attempt: Callable[[int], AsyncGenerator[ModelEvent, None]], *,
                   resumable: bool) -> AsyncGenerator[ModelEvent, None]:
    """One generation, with the backend's retries: ``attempt(n)`` streams the ``n``-th request (from 1).

    A failure before any output went out is retried. A failure after output went out is retried only
    when ``resumable`` (the next attempt continues the text; the deltas already yielded stay true), and
    raised otherwise. The error finally raised says how many requests were sent (``attempts``).
    """
    sent = 0
    while True:
        sent += 1
        yielded = False
        try:
            # aclosing: a consumer that stops early must not leave the HTTP stream open.
            async with contextlib.aclosing(attempt(sent)) as events:
                async for event in events:
                    yielded = True
                    yield event
            return
        except BackendError as err:
            err.attempts = sent
            if yielded and not resumable:
                raise
            await policy.pause_or_raise(err, sent - 1, label)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client: building one costs ~0.1 s of CPU each time."""
    return ssl.create_default_context(cafile=certifi.where())


class Secret:
    """An API key that never shows itself in ``repr``, ``str`` or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The key itself; only for the ``Authorization`` header."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("an API key is not picklable")


def secret_from(api_key: str | None, env: str | None = None) -> Secret | None:
    """The key given, else the environment variable's value, wrapped so that it never prints."""
    value = api_key if api_key is not None else (os.environ.get(env) if env else None)
    return Secret(value) if value else None


def redact(text: str, secret: Secret | None) -> str:
    """``text`` with every occurrence of the key replaced by ``***``."""
    if secret and len(secret.reveal()) >= 4:
        text = text.replace(secret.reveal(), "***")
    return text


def repr_backend(obj: object, **fields: object) -> str:
    """A ``repr`` that lists only the given public fields (never a key)."""
    inner = ", ".join(f"{k}={v!r}" for k, v in fields.items())
    return f"{type(obj).__name__}({inner})"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_from_openai(err: Exception, secret: Secret | None, *, streaming: bool, timeouts: Timeouts) -> BackendError:
    """Translate an ``openai`` client exception (2.x or 3.x) into a typed error."""
    if isinstance(err, BackendError):
        return err
    if isinstance(err, openai.APIStatusError):
        message = redact(str(err.message or ""), secret)
        retry_after = parse_retry_after(err.response.headers.get("retry-after"))
        return error_for_status(err.status_code, message, retry_after=retry_after)
    if isinstance(err, openai.APITimeoutError):
        if streaming:
            return StreamInterrupted(f"the stream went silent for more than {timeouts.socket_read:g}s")
        return BackendUnavailable(f"no response within {timeouts.read:g}s")
    if isinstance(err, openai.APIConnectionError):
        cause = redact(str(err.__cause__ or err), secret)
        if streaming:
            return StreamInterrupted(f"the connection dropped mid-stream ({cause})")
        return BackendUnavailable(f"could not reach the server ({cause})")
    return BackendError(redact(f"{type(err).__name__}: {err}", secret))


def _transport_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [httpx.HTTPError]
    try:  # openai 3.x runs on httpx2, whose exceptions mirror httpx's
        import httpx2  # type: ignore[import-not-found, unused-ignore]

        errors.append(httpx2.HTTPError)
    except ImportError:
        pass
    return tuple(errors)


TRANSPORT_ERRORS = _transport_errors()


def error_from_httpx(err: BaseException, secret: Secret | None, *, streaming: bool, timeouts: Timeouts) -> BackendError:
    """Translate an ``httpx`` (or ``httpx2``) transport exception into a typed error."""
    if isinstance(err, BackendError):
        return err
    detail = redact(f"{type(err).__name__}: {err}", secret)
    kinds = {cls.__name__ for cls in type(err).__mro__}  # by name: httpx and httpx2 share no classes
    if kinds & {"ConnectError", "ConnectTimeout"}:
        return BackendUnavailable(f"could not reach the server ({detail})")
    if "TimeoutException" in kinds:
        if streaming:
            return StreamInterrupted(f"the stream went silent ({detail})")
        return BackendUnavailable(f"no response within {timeouts.read:g}s ({detail})")
    if streaming:
        return StreamInterrupted(f"the connection dropped mid-stream ({detail})")
    return BackendUnavailable(f"the connection failed ({detail})")


async def next_chunk(iterator: AsyncIterator[T], timeout: float, *, first: bool) -> T:
    """The next item of a stream, or ``StreamInterrupted`` after ``timeout`` seconds of silence.

    Raises ``StopAsyncIteration`` at the end of the stream.
    """
    try:
        async with asyncio.timeout(timeout):
            return await anext(iterator)
    except TimeoutError:
        what = "the first chunk" if first else "the next chunk"
        raise StreamInterrupted(f"no data for {timeout:g}s while waiting for {what}") from None


async def sse_payloads(lines: AsyncIterator[str], timeouts: Timeouts, source: str) -> AsyncIterator[Any]:
    """The JSON payloads of a server-sent-event stream, with the first-chunk and idle timeouts enforced.

    Ends at ``data: [DONE]`` or at the end of the stream. A payload that is not JSON raises
    ``MalformedResponse``.
    """
    data: list[str] = []
    first = True
    while True:
        try:
            line = await next_chunk(lines, timeouts.read if first else timeouts.stream_idle, first=first)
        except StopAsyncIteration:
            break
        first = False
        if line.startswith("data:"):
            data.append(line[5:].strip())
            continue
        if line.strip() or not data:
            continue  # comments, other fields, keep-alive blank lines
        text, data = "\n".join(data), []
        if text == "[DONE]":
            return
        yield decode_json(text, source)
    if data and data != ["[DONE]"]:
        yield decode_json("\n".join(data), source)


def decode_json(text: str | bytes, source: str) -> Any:
    """``text`` as JSON, or ``MalformedResponse`` naming ``source``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedResponse(f"{source} sent something that is not valid JSON ({exc})") from None


# vLLM accepts any key when started without --api-key, but the openai client insists on one.
_NO_KEY = "EMPTY"


class OpenAIServer:
    """A vLLM or SGLang server reached through the official ``openai`` client, failures typed.

    The client's own retries are off: retries are ``retrying``'s, bounded, logged, and aware of what
    already streamed.
    """

    def __init__(self, base_url: str, api_key: str | None, timeouts: Timeouts) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts
        self.secret = secret_from(api_key)
        self.client = openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=self.secret.reveal() if self.secret else _NO_KEY,
            timeout=timeouts.for_openai(),
            max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(verify=tls_context(), timeout=timeouts.for_openai()),
        )

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run one client call; failures come out as typed errors."""
        try:
            return await make()
        except openai.OpenAIError as exc:
            # ``from None``: the client's exception text can quote what the server echoed, key included.
            raise error_from_openai(exc, self.secret, streaming=False, timeouts=self.timeouts) from None

    async def served_model(self) -> tuple[str, int | None]:
        """The first model of ``/v1/models``, and its context size when the server says it."""
        page = await self.call(lambda: self.client.models.list())
        if not page.data:
            raise MalformedResponse(f"{self.base_url}/models lists no model")
        card = page.data[0]
        max_len = (card.model_extra or {}).get("max_model_len")
        return card.id, max_len if isinstance(max_len, int) else None

    async def payloads(self, open_stream: Callable[[], Any]) -> AsyncGenerator[dict[str, Any], None]:
        """The JSON chunks of one streamed request, as plain dicts.

        ``open_stream`` returns a ``with_streaming_response`` context manager: the ``openai`` client
        sends the request, checks the status and handles auth, and we read the SSE lines ourselves.
        Its per-chunk pydantic models cost about 0.2 ms of CPU each, five times our whole reading of
        a chunk: 16 s of CPU on an 80K-token answer.
        """
        entered = False
        try:
            async with open_stream() as response:
                entered = True
                async for payload in sse_payloads(response.iter_lines(), self.timeouts, self.base_url):
                    if isinstance(payload, dict):
                        yield payload
        except BackendError:
            raise
        except openai.OpenAIError as exc:
            raise error_from_openai(exc, self.secret, streaming=entered, timeouts=self.timeouts) from None
        except TRANSPORT_ERRORS as exc:
            raise error_from_httpx(exc, self.secret, streaming=entered, timeouts=self.timeouts) from None

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.client.close()
