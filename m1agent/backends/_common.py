"""The part every HTTP backend shares: the retry loop around one streamed generation."""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Protocol, Self

from m1agent.backends._http import Attempts, RetryPolicy, Secret, Timeouts, repr_backend
from m1agent.backends.base import Counter, ModelEvent, ModelRequest
from m1agent.backends.profile import ServerProfile
from m1agent.errors import BackendError
from m1agent.protocol.types import Turn
from m1agent.usage import Usage

DEFAULT_MAX_TOKENS = 40_000


def extra_body(request: ModelRequest) -> dict[str, Any]:
    """The request's extra body fields, never ``tool_choice``: "required" would stop M1 from thinking."""
    return {k: v for k, v in request.extra_body.items() if k != "tool_choice"}


class Run(Protocol):
    """Per-request state kept across attempts."""

    resumable: bool  # an attempt that fails after output went out can be continued, not restarted
    attempts: int

    @property
    def partial_text(self) -> str: ...


def secret_from(api_key: str | None, env: str | None) -> Secret | None:
    """The key given, else the environment variable's value, wrapped so that it never prints."""
    value = api_key if api_key is not None else (os.environ.get(env) if env else None)
    return Secret(value) if value else None


class HTTPBackend:
    """Retries, timeouts, secrets and ``repr`` for the backends; subclasses implement ``_attempt``."""

    name: str = "http"
    profile: ServerProfile

    def __init__(
        self,
        *,
        model: str,
        context_window: int,
        timeouts: Timeouts | None,
        retry: RetryPolicy | None,
        default_max_tokens: int,
        token_counter: Counter | None,
    ) -> None:
        self.model = model
        self.context_window = context_window
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.default_max_tokens = default_max_tokens
        self._counter = token_counter

    @property
    def token_counter(self) -> Counter:
        """The counter given, else the best one found, loaded on first use (never ``None``)."""
        if self._counter is None:
            from m1agent.tokens import load_counter

            self._counter = load_counter()
        return self._counter

    def with_model(self, model: str) -> Self:
        """The same server and settings asked for ``model``: a copy sharing this one's connections."""
        other = copy.copy(self)
        other.model = model
        return other

    @property
    def max_retries(self) -> int:
        """How many times a failing generation is retried: it sends at most ``1 + max_retries`` requests."""
        return self.retry.max_retries

    def __repr__(self) -> str:
        return repr_backend(self, model=self.model, **self._repr_fields())

    def _repr_fields(self) -> dict[str, Any]:
        return {}

    def _new_run(self, request: ModelRequest) -> Run:
        raise NotImplementedError

    def _attempt(self, request: ModelRequest, run: Any) -> AsyncGenerator[ModelEvent, None]:
        raise NotImplementedError

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        """Generate one answer: deltas as they become certain, then one ``ModelResponse``.

        Failures before any output went out are retried (bounded, with backoff). A failure after
        output went out is resumed where the backend can continue a text (raw completions) and
        raised otherwise, with what had arrived in ``partial_text``.
        """
        run = self._new_run(request)
        attempts = Attempts(self.retry, lambda: f"{self.name} ({self.model})")
        while True:
            yielded = False
            try:
                # aclosing: a consumer that stops early must not leave the HTTP stream open.
                async with contextlib.aclosing(self._attempt(request, run)) as events:
                    async for event in events:
                        yielded = True
                        yield event
                return
            except BackendError as err:
                err.partial_text, err.attempts = run.partial_text, run.attempts
                if yielded and not run.resumable:
                    raise
                await attempts.backoff_or_raise(err)
                run.attempts += 1

    def max_tokens_for(self, request: ModelRequest, prompt: str | None) -> int:
        """``request.max_tokens``, or the default capped by what the context window leaves."""
        if request.max_tokens is not None:
            return request.max_tokens
        budget = self.default_max_tokens
        if prompt is not None:
            room = self.context_window - self.token_counter.count(prompt) - 16
            budget = max(1, min(budget, room))
        return budget

    def usage_for(self, turn: Turn, prompt_tokens: int, completion_tokens: int, attempts: int,
                  thinking_tokens: int | None = None) -> Usage:
        """Usage; thinking tokens from the server, else counted with the backend's counter."""
        if thinking_tokens is None:
            thinking_tokens = 0
            if turn.thinking:  # the think block as the model wrote it, tags included
                thinking_tokens = self.token_counter.count(f"<think>\n{turn.thinking}\n</think>\n")
                if completion_tokens:
                    thinking_tokens = min(completion_tokens, thinking_tokens)
        return Usage(
            input_tokens=prompt_tokens,
            output_tokens=completion_tokens,
            thinking_tokens=thinking_tokens,
            requests=attempts,
        )
