"""Cassettes: a real session's model traffic, recorded to replay it later through the real loop.

A cassette is JSONL: a header line, then one line per generation holding a fingerprint of the request
(the messages added since the previous request, and the tool names) and every event the backend
streamed, ending with its ``ModelResponse``. Wrap any backend in ``RecordingBackend`` to record one.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from m1agent.backends.base import Backend, Counter, ModelEvent, ModelRequest, ModelResponse
from m1agent.messages import Message

CASSETTE_VERSION = 1
_EVENT: TypeAdapter[Any] = TypeAdapter(Annotated[ModelEvent, Field(discriminator="kind")])
_MESSAGE: TypeAdapter[Any] = TypeAdapter(Message)


@dataclass(frozen=True, slots=True)
class RequestPrint:
    """What identifies a request cheaply: its length, a hash of its messages from index ``since`` on
    (those new since the previous request), and the tool names offered."""

    messages: int
    since: int
    new_digest: str
    tools: tuple[str, ...] = ()


def fingerprint(request: ModelRequest, previous_length: int) -> RequestPrint:
    """The print of ``request``, hashing only messages from ``previous_length`` on (cheap per turn)."""
    h = hashlib.sha256()
    start = previous_length if previous_length <= len(request.messages) else 0
    for message in request.messages[start:]:
        h.update(_MESSAGE.dump_json(message))
        h.update(b"\n")
    return RequestPrint(len(request.messages), start, h.hexdigest()[:16], tuple(t.name for t in request.tools))


@dataclass(slots=True)
class Interaction:
    """One recorded generation."""

    request: RequestPrint
    events: list[ModelEvent]

    @property
    def response(self) -> ModelResponse:
        last = self.events[-1]
        assert isinstance(last, ModelResponse)
        return last


@dataclass(slots=True)
class Cassette:
    """A backend's name and model, and its generations in order."""

    backend: str = ""
    model: str = ""
    context_window: int = 1_000_000
    interactions: list[Interaction] = field(default_factory=list)

    def save(self, path: str | Path) -> None:
        """Write the whole cassette to ``path``."""
        with open(path, "wb") as f:
            f.write(_header(self) + b"\n")
            for interaction in self.interactions:
                f.write(_interaction_line(interaction) + b"\n")

    @classmethod
    def load(cls, path: str | Path) -> Cassette:
        """Read a cassette written by ``save`` or ``RecordingBackend``."""
        lines = [line for line in Path(path).read_bytes().splitlines() if line.strip()]
        head = json.loads(lines[0])
        if head.get("cassette") != CASSETTE_VERSION:
            raise ValueError(f"{path}: not a version-{CASSETTE_VERSION} m1agent cassette")
        cassette = cls(head.get("backend", ""), head.get("model", ""), head.get("context_window", 1_000_000))
        for line in lines[1:]:
            data = json.loads(line)
            req = data["request"]
            events = [_EVENT.validate_python(e) for e in data["events"]]
            cassette.interactions.append(
                Interaction(RequestPrint(req["messages"], req["since"], req["new_digest"], tuple(req["tools"])), events)
            )
        return cassette

    @property
    def responses(self) -> list[ModelResponse]:
        """The final response of every generation."""
        return [i.response for i in self.interactions]


def _header(cassette: Cassette) -> bytes:
    return json.dumps({
        "cassette": CASSETTE_VERSION, "backend": cassette.backend, "model": cassette.model,
        "context_window": cassette.context_window,
    }).encode()


def _interaction_line(interaction: Interaction) -> bytes:
    r = interaction.request
    events = [json.loads(_EVENT.dump_json(e)) for e in interaction.events]
    request = {"messages": r.messages, "since": r.since, "new_digest": r.new_digest, "tools": list(r.tools)}
    body = {"request": request, "events": events}
    return json.dumps(body, ensure_ascii=False).encode()


class RecordingBackend:
    """A backend that passes everything through and appends each generation to a cassette file."""

    def __init__(self, inner: Backend, path: str | Path) -> None:
        self.inner = inner
        self.name = f"recording:{inner.name}"
        self.model = inner.model
        self.context_window = inner.context_window
        self.profile = inner.profile
        self.max_retries = inner.max_retries
        self.path = Path(path)
        self.cassette = Cassette(inner.name, inner.model, inner.context_window)
        self._previous_length = 0
        self.path.write_bytes(b"")

    def with_model(self, model: str) -> RecordingBackend:
        """Recording on into the same file, with the inner backend asked for ``model``."""
        other = copy.copy(self)
        other.inner = self.inner.with_model(model)
        other.model = model
        return other

    @property
    def token_counter(self) -> Counter:
        """The inner backend's counter."""
        return self.inner.token_counter

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        """Stream from the inner backend; the generation is written once its response arrives."""
        print_ = fingerprint(request, self._previous_length)
        events: list[ModelEvent] = []
        async for event in self.inner.stream(request):
            events.append(event)
            yield event
        self._previous_length = len(request.messages)
        interaction = Interaction(print_, events)
        self.cassette.interactions.append(interaction)
        with open(self.path, "ab") as f:
            if len(self.cassette.interactions) == 1:  # the model name may be known only now
                self.cassette.model = self.inner.model or interaction.response.model
                self.cassette.context_window = self.inner.context_window
                f.write(_header(self.cassette) + b"\n")
            f.write(_interaction_line(interaction) + b"\n")

    async def aclose(self) -> None:
        await self.inner.aclose()


def record(backend: Backend, path: str | Path) -> RecordingBackend:
    """Wrap ``backend`` so that every generation is recorded to the cassette at ``path``."""
    return RecordingBackend(backend, path)


def cassette_from_outputs(outputs: Sequence[str], *, model: str = "MiniMax-M1") -> Cassette:
    """A cassette scripted from raw M1 outputs (one per turn), parsed as a server's output would be."""
    from m1agent.protocol import StreamParser
    from m1agent.usage import Usage

    cassette = Cassette("scripted", model)
    for index, raw in enumerate(outputs):
        parser = StreamParser(index)
        events: list[ModelEvent] = [*parser.feed(raw), *parser.flush()]
        turn = parser.close()
        finish = "tool_calls" if turn.tool_calls else ("length" if turn.truncated else "stop")
        usage = Usage(output_tokens=max(1, len(raw) // 4), requests=1)
        events.append(ModelResponse(turn, usage, finish, raw, model))  # type: ignore[arg-type]
        cassette.interactions.append(Interaction(RequestPrint(-1, 0, ""), events))
    return cassette


__all__ = [
    "CASSETTE_VERSION",
    "Cassette",
    "Interaction",
    "RecordingBackend",
    "RequestPrint",
    "cassette_from_outputs",
    "fingerprint",
    "record",
]
