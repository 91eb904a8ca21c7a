"""The replay backend: a recorded cassette played back through the real loop, with real tools.

Each request gets the next recorded generation, streamed event by event as it was recorded. In
strict mode each request must match the recorded one (same length, same new messages, same tool
names), so a regression test fails at the first turn where the agent behaves differently.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from m1agent.backends.base import Counter, FinishReason, ModelEvent, ModelRequest, ModelResponse
from m1agent.backends.profile import REPLAY
from m1agent.errors import BackendError
from m1agent.protocol.types import Turn
from m1agent.testing.cassette import Cassette, Interaction, RequestPrint, cassette_from_outputs, fingerprint
from m1agent.usage import Usage


class CassetteMismatch(BackendError):
    """A request differs from the recorded one: the agent no longer behaves as it did."""

    hint = "re-record the cassette if the change is intended"


class CassetteExhausted(BackendError):
    """The run asked for more generations than the cassette holds."""

    hint = "re-record the cassette, or check why the agent takes more turns than before"


class Replay:
    """Plays a cassette back. Build it from a file, a ``Cassette``, raw M1 outputs or ready turns."""

    name = "replay"
    profile = REPLAY
    max_retries = 0  # a recording has nothing to retry

    def __init__(self, cassette: Cassette | str | Path, *, strict: bool = True, position: int = 0) -> None:
        self.cassette = cassette if isinstance(cassette, Cassette) else Cassette.load(cassette)
        self.model = self.cassette.model or "replay"
        self.context_window = self.cassette.context_window
        self.strict = strict
        self.position = position
        self._counter: Counter | None = None

    def with_model(self, model: str) -> Replay:
        """The same recording under another model name (what it plays back does not change)."""
        other = copy.copy(self)
        other.model = model
        return other

    @property
    def token_counter(self) -> Counter:
        """The best counter found, loaded on first use: recorded usage needs no counting, the governor may."""
        if self._counter is None:
            from m1agent.tokens import load_counter

            self._counter = load_counter()
        return self._counter

    @classmethod
    def from_outputs(cls, outputs: Sequence[str], *, model: str = "MiniMax-M1") -> Replay:
        """Replay raw M1 outputs, one per turn, parsed and streamed as a server would (not strict)."""
        return cls(cassette_from_outputs(outputs, model=model), strict=False)

    @classmethod
    def from_turns(cls, turns: Sequence[Turn], *, model: str = "scripted") -> Replay:
        """Replay ready-made turns, each as a single final response (the cheapest scripted model)."""
        cassette = Cassette("scripted", model)
        for turn in turns:
            finish: FinishReason = "tool_calls" if turn.tool_calls else "stop"
            response = ModelResponse(turn, Usage(requests=1), finish, model=model)
            cassette.interactions.append(Interaction(RequestPrint(-1, 0, ""), [response]))
        return cls(cassette, strict=False)

    @property
    def remaining(self) -> int:
        """Generations not played yet."""
        return len(self.cassette.interactions) - self.position

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        """Yield the next recorded generation's events."""
        if self.position >= len(self.cassette.interactions):
            held = len(self.cassette.interactions)
            raise CassetteExhausted(f"the cassette holds {held} generations; a further one was asked for")
        interaction = self.cassette.interactions[self.position]
        if self.strict and interaction.request.messages >= 0:
            got = fingerprint(request, interaction.request.since)
            if got != interaction.request:
                raise CassetteMismatch(
                    f"request {self.position} differs from the recording: recorded {interaction.request}, got {got}"
                )
        self.position += 1
        for event in interaction.events:
            yield event

    async def aclose(self) -> None:
        """Nothing to release."""


__all__ = ["CassetteExhausted", "CassetteMismatch", "Replay"]
