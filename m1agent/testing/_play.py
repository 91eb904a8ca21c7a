"""Cutting output into streamed pieces, and playing a stream of events with a fault injected."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from m1agent.testing._wire import Abort, Reply
from m1agent.testing.faults import Fault

# Roughly how M1's o200k-style pre-tokenizer cuts text: a word with one leading space or punctuation
# mark, a newline, a run of spaces, or a single punctuation mark. ``<think>`` becomes ``<think`` ``>``
# and ``src/app`` becomes ``src`` ``/app``, so tags and paths arrive split as they do on the wire.
_PIECE = re.compile(r"[^\n\w]?\w+|\n|[^\S\n]+|[^\w\s]", re.UNICODE)


def pieces(text: str, chunk_chars: int | None = None) -> list[str]:
    """``text`` cut into the pieces a server would stream; joined, they give ``text`` back."""
    if chunk_chars:
        return [text[i : i + chunk_chars] for i in range(0, len(text), chunk_chars)]
    return _PIECE.findall(text)


@dataclass(frozen=True, slots=True)
class Event:
    """One SSE event and how many characters of the output have been sent once it is out."""

    sent_chars: int
    data: bytes


MALFORMED_EVENT = b'data: {"choices": [{"index": 0, "delta": {"content": "trunc\n\n'


async def play(
    events: list[Event],
    fault: Fault | None,
    *,
    delay: float,
    stopping: asyncio.Event | None,
    on_complete: Callable[[], None],
    error_event: bytes = b"",
) -> AsyncIterator[bytes]:
    """Yield the events; at the fault's point reset, stall or send garbage instead of the rest.

    ``error_event`` is what an in-stream ``base_resp`` fault sends before the stream ends.
    """
    strikes = fault is not None and (fault.kind in ("reset", "stall", "malformed_sse") or fault.in_stream)
    for position, event in enumerate(events):
        if strikes and fault is not None and event.sent_chars > fault.after_chars:
            async for chunk in _strike(fault, stopping, error_event):
                yield chunk
            return
        last = position == len(events) - 1
        if last and not strikes:
            # Used up before the last piece goes out: a client that reads it may ask again at once, and
            # must get the next entry, not this one again.
            on_complete()
        yield event.data
        if delay and not last:
            await asyncio.sleep(delay)
    if strikes and fault is not None:
        async for chunk in _strike(fault, stopping, error_event):
            yield chunk
        return
    if not events:
        on_complete()


async def _strike(fault: Fault, stopping: asyncio.Event | None, error_event: bytes = b"") -> AsyncIterator[bytes]:
    if fault.kind == "reset":
        raise Abort
    if fault.kind == "malformed_sse":
        yield MALFORMED_EVENT
        return
    if fault.kind == "base_resp":
        yield error_event
        return
    if stopping is not None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), fault.seconds)
    else:
        await asyncio.sleep(fault.seconds)
    raise Abort


async def fail_whole(fault: Fault, stopping: asyncio.Event | None) -> Reply:
    """A stream fault met by a request that did not ask to stream: broken JSON, a stall, or a reset."""
    if fault.kind == "malformed_sse":
        return Reply(200, b'{"id": "cmpl-broken", "choices": [{"index": 0, "mess')
    async for _ in _strike(fault, stopping):
        pass
    raise Abort
