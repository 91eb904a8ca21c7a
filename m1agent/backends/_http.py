"""HTTP plumbing shared by the backends: timeouts, bounded retries, typed errors, secret hygiene.

Every failure leaves this module as one of the typed errors of ``m1agent.errors``. Server-supplied text
that goes into an error message is passed through ``redact`` first, so that a key a server echoes back
never reaches a log line, an exception or a transcript.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import logging
import random
import re
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import certifi
import httpx
import openai

from m1agent.errors import (
    AuthenticationFailed,
    BackendError,
    BackendUnavailable,
    ContextTooLong,
    InsufficientBalance,
    InvalidRequest,
    MalformedResponse,
    RateLimited,
    ServerError,
    StreamInterrupted,
)

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

    def for_openai(self) -> openai.Timeout:
        """The same limits in the form the ``openai`` client takes (2.x and 3.x)."""
        return openai.Timeout(connect=self.connect, read=self.socket_read, write=self.connect, pool=self.connect)

    def for_httpx(self) -> httpx.Timeout:
        """The same limits in the form ``httpx`` takes."""
        return httpx.Timeout(connect=self.connect, read=self.socket_read, write=self.connect, pool=self.connect)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter.

    Retried: 429, 5xx, dropped or refused connections, streams that stall before their first chunk,
    and hosted codes 1000/1001/1002/1013/1024. ``Retry-After`` is honoured when the server sends it;
    one that asks for more than ``max_retry_after`` seconds is not waited for: the error is raised.
    """

    max_retries: int = 3
    initial_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.25
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        if retry_after is not None:
            return retry_after * (1.0 + random.uniform(0.0, self.jitter / 5))
        backoff = min(self.max_delay, self.initial_delay * self.multiplier**attempt)
        return backoff * (1.0 + random.uniform(-self.jitter, self.jitter))


NO_RETRIES = RetryPolicy(max_retries=0)


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


def redact(text: str, secret: Secret | None) -> str:
    """``text`` with every occurrence of the key replaced by ``***``."""
    if secret and secret.reveal() and len(secret.reveal()) >= 4:
        text = text.replace(secret.reveal(), "***")
    return text


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


_CONTEXT_RE = re.compile(
    r"maximum context length|context length|context window|max_model_len|too long|too many tokens"
    r"|exceed\w*.{0,40}(limit|length|token)|token limit",
    re.IGNORECASE,
)


def mentions_context_limit(message: str) -> bool:
    """True when a server's message says the prompt plus output does not fit."""
    return bool(_CONTEXT_RE.search(message))


def error_for_status(status: int, message: str, *, retry_after: float | None = None) -> BackendError:
    """The typed error for an HTTP status and the server's message (already redacted)."""
    text = f"HTTP {status}: {message}" if message else f"HTTP {status}"
    if status in (401, 403):
        return AuthenticationFailed(f"the server rejected the API key ({text})", status=status)
    if status == 402:
        return InsufficientBalance(text, status=status)
    if status == 429:
        return RateLimited(f"rate limited ({text})", retry_after=retry_after, status=status)
    if status in (400, 413, 422) and mentions_context_limit(message):
        return ContextTooLong(text, status=status)
    if status == 404:
        return InvalidRequest(text, status=status, hint="check the base URL and the model name")
    if status >= 500:
        return ServerError(text, status=status)
    return InvalidRequest(text, status=status)


def error_from_openai(err: Exception, secret: Secret | None, *, streaming: bool, timeouts: Timeouts) -> BackendError:
    """Translate an ``openai`` client exception (2.x or 3.x) into a typed error."""
    if isinstance(err, BackendError):
        return err
    if isinstance(err, openai.APIStatusError):
        status = err.status_code
        message = redact(str(err.message or ""), secret)
        retry_after = parse_retry_after(err.response.headers.get("retry-after"))
        return error_for_status(status, message, retry_after=retry_after)
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


def _kind_of(err: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(err).__mro__}


def error_from_httpx(err: Exception, secret: Secret | None, *, streaming: bool, timeouts: Timeouts) -> BackendError:
    """Translate an ``httpx`` (or ``httpx2``) transport exception into a typed error."""
    if isinstance(err, BackendError):
        return err
    detail = redact(f"{type(err).__name__}: {err}", secret)
    kinds = _kind_of(err)
    if kinds & {"ConnectError", "ConnectTimeout"}:
        return BackendUnavailable(f"could not reach the server ({detail})")
    if "TimeoutException" in kinds:
        if streaming:
            return StreamInterrupted(f"the stream went silent ({detail})")
        return BackendUnavailable(f"no response within {timeouts.read:g}s ({detail})")
    if streaming:
        return StreamInterrupted(f"the connection dropped mid-stream ({detail})")
    return BackendUnavailable(f"the connection failed ({detail})")


class Attempts:
    """Bookkeeping of one request's retries: decides, logs and sleeps between attempts."""

    def __init__(self, policy: RetryPolicy, label: Callable[[], str]) -> None:
        self.policy = policy
        self.label = label
        self.count = 0

    async def backoff_or_raise(self, err: BackendError) -> None:
        """Sleep before the next attempt, or raise ``err`` when it must not or may no longer be retried."""
        if not err.retryable or self.count >= self.policy.max_retries:
            raise err
        retry_after = getattr(err, "retry_after", None)
        if retry_after is not None and retry_after > self.policy.max_retry_after:
            raise err
        delay = self.policy.delay(self.count, retry_after)
        self.count += 1
        log.warning(
            "%s: %s; retry %d of %d in %.2fs",
            self.label(), err, self.count, self.policy.max_retries, delay,
        )
        await asyncio.sleep(delay)


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
        yield _decode(text, source)
    if data and data != ["[DONE]"]:
        yield _decode("\n".join(data), source)


def _decode(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedResponse(f"{source} sent a stream event that is not valid JSON ({exc})") from None


def repr_backend(obj: object, **fields: object) -> str:
    """A ``repr`` that lists only the given public fields (never a key)."""
    inner = ", ".join(f"{k}={v!r}" for k, v in fields.items())
    return f"{type(obj).__name__}({inner})"
