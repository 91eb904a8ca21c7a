"""The one interface every backend implements: a ``ModelRequest`` in, a stream of events out.

The stream yields the protocol's deltas (thinking, text, tool-call progress, problems) as they become
certain, and ends with exactly one ``ModelResponse`` that holds the whole parsed ``Turn``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from m1agent.backends.profile import FinishReason, ServerProfile
from m1agent.messages import Message, ToolSpec
from m1agent.protocol.types import StreamDelta, Turn
from m1agent.usage import Usage

# The output budget when a request sets none: thinking plus answer of one long M1 turn. A server's own
# default is never relied on (the hosted API's 8192 cuts M1's thinking off).
DEFAULT_MAX_TOKENS = 40_000


@dataclass(slots=True)
class ModelRequest:
    """Everything a backend needs for one generation.

    ``max_tokens`` is the whole output budget (thinking plus answer). ``None`` lets the backend pick
    its own explicit default; no backend leaves it to the server.
    """

    messages: list[Message]
    tools: list[ToolSpec] = field(default_factory=list)
    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 0.95
    tool_choice: Literal["auto", "none"] = "auto"
    stop: list[str] | None = None
    turn_index: int = 0
    # Raw backends only: text appended after the generation prompt, to continue a cut-off answer.
    continuation: str = ""
    extra_body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """The end of one generation: the parsed turn, usage, why it stopped, and the raw M1 text."""

    turn: Turn
    usage: Usage
    finish_reason: FinishReason
    raw_text: str = ""
    model: str = ""
    kind: Literal["model_response"] = "model_response"


ModelEvent = StreamDelta | ModelResponse


class Counter(Protocol):
    """The slice of ``m1agent.tokens.TokenCounter`` the backends and the loop use."""

    def count(self, text: str) -> int: ...


@runtime_checkable
class Backend(Protocol):
    """One way of reaching M1.

    ``profile`` says what its kind of server does. ``token_counter`` is never ``None``: the counter
    given, else the best one found (exact where M1's tokenizer is, else an estimate that over-counts).
    ``max_retries`` bounds the backend's own retries: a failing generation sends at most
    ``1 + max_retries`` requests, and the error it raises says how many (``BackendError.attempts``).
    """

    name: str
    model: str
    context_window: int
    profile: ServerProfile

    @property
    def max_retries(self) -> int: ...

    @property
    def token_counter(self) -> Counter: ...

    def with_model(self, model: str) -> Backend:
        """The same server and settings asked for another model."""
        ...

    def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        """Generate one answer; the last event is always a ``ModelResponse``, or an error is raised."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def output_budget(request: ModelRequest, default: int, context_window: int, prompt_tokens: int | None) -> int:
    """``request.max_tokens``, else ``default`` capped by what the context window leaves after the prompt."""
    if request.max_tokens is not None:
        return request.max_tokens
    if prompt_tokens is None:
        return default
    # A few tokens of margin: the server may count the prompt slightly differently (template, BOS).
    return max(1, min(default, context_window - prompt_tokens - 16))


def count_usage(turn: Turn, prompt_tokens: int, completion_tokens: int, requests: int, counter: Counter,
                reported_thinking: int | None = None) -> Usage:
    """The usage of one generation, the same way for every backend.

    ``thinking_tokens`` is the server's figure when it reports one, else the think block as the model
    wrote it (tags included) counted with the backend's counter, never more than the whole output.
    """
    thinking = reported_thinking
    if thinking is None:
        thinking = counter.count(f"<think>\n{turn.thinking}\n</think>\n") if turn.thinking else 0
        if completion_tokens:
            thinking = min(completion_tokens, thinking)
    return Usage(input_tokens=prompt_tokens, output_tokens=completion_tokens, thinking_tokens=thinking,
                 requests=requests)


__all__ = [
    "DEFAULT_MAX_TOKENS",
    "Backend",
    "Counter",
    "FinishReason",
    "ModelEvent",
    "ModelRequest",
    "ModelResponse",
    "ServerProfile",
    "count_usage",
    "output_budget",
]
