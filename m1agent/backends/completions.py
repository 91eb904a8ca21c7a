"""Raw ``/v1/completions`` (vLLM or SGLang): we render the prompt and parse the output ourselves.

This is the recommended way to serve M1 from vLLM: the prompt is byte-identical to vLLM's M1 chat
template, and tool calls come from our JSON-aware parser instead of the server's streaming parser,
which corrupts arguments. It also works on servers with no M1 tool parser at all (SGLang).

A connection that drops mid-answer is resumed, not restarted: the next request's prompt ends with the
text already received, so the model continues where it stopped and the deltas already yielded stay true.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field

from m1agent.backends.base import (
    DEFAULT_MAX_TOKENS,
    Counter,
    ModelEvent,
    ModelRequest,
    ModelResponse,
    count_usage,
    output_budget,
)
from m1agent.backends.profile import RAW_COMPLETIONS, finish_reason
from m1agent.backends.transport import OpenAIServer, RetryPolicy, Timeouts, repr_backend, retrying
from m1agent.errors import BackendError, StreamInterrupted
from m1agent.protocol.openai_format import to_openai_messages, tools_to_openai
from m1agent.protocol.render import render
from m1agent.protocol.stream import StreamParser

END_OF_SENTENCE = "<end_of_sentence>"
BEGINNING_OF_SENTENCE = "<beginning_of_sentence>"
# M1 ends its turn with <end_of_sentence>; the next turn's header is a guard against a run-on.
STOP = [END_OF_SENTENCE, BEGINNING_OF_SENTENCE]


def build_prompt(request: ModelRequest) -> str:
    """The raw prompt for a request: the rendered history, the generation header, the continuation."""
    tools = tools_to_openai(request.tools) if request.tools else None
    return render(to_openai_messages(request.messages), tools) + request.continuation


@dataclass(slots=True)
class _Run:
    """One generation across its attempts: what arrived so far carries over into a resumed request."""

    prompt: str
    max_tokens: int
    parser: StreamParser
    received: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Completions:
    """M1 through a raw text-completions endpoint, with the client-side M1 parser.

    ``base_url`` is the OpenAI-style root, e.g. ``http://127.0.0.1:8000/v1``. ``model=None`` asks the
    server (``/v1/models``), which also gives ``context_window`` when it is not set. ``max_tokens``
    defaults to ``default_max_tokens``, capped by what the context window leaves after the prompt as
    counted by ``token_counter`` (by default ``m1agent.tokens.load_counter()``, loaded on first use);
    that counter also counts ``usage.thinking_tokens``.
    """

    name = "completions"
    profile = RAW_COMPLETIONS

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        context_window: int | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        token_counter: Counter | None = None,
    ) -> None:
        self.model = model or ""
        self.context_window = context_window or 131_072
        self._context_window_given = context_window is not None
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.default_max_tokens = default_max_tokens
        self._counter = token_counter
        self._server = OpenAIServer(base_url, api_key, self.timeouts)
        self.base_url = self._server.base_url

    @property
    def token_counter(self) -> Counter:
        """The counter given, else the best one found, loaded on first use (never ``None``)."""
        if self._counter is None:
            from m1agent.tokens import load_counter

            self._counter = load_counter()
        return self._counter

    @property
    def max_retries(self) -> int:
        """A failing generation sends at most ``1 + max_retries`` requests."""
        return self.retry.max_retries

    def with_model(self, model: str) -> Completions:
        """The same server and settings asked for ``model``: a copy sharing this one's connections."""
        other = copy.copy(self)
        other.model = model
        return other

    def __repr__(self) -> str:
        return repr_backend(self, model=self.model, base_url=self.base_url)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._server.aclose()

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        """Generate one answer: deltas as they become certain, then one ``ModelResponse``.

        Failures are retried (``retry``); one that strikes after output went out is resumed from the
        text already received, within the same bound.
        """
        prompt = build_prompt(request)
        prompt_tokens = self.token_counter.count(prompt) if request.max_tokens is None else None
        budget = output_budget(request, self.default_max_tokens, self.context_window, prompt_tokens)
        run = _Run(prompt, budget, StreamParser(request.turn_index))
        label = f"{self.name} ({self.model or self.base_url})"
        async for event in retrying(self.retry, label, lambda n: self._attempt(request, run, n),
                                    resumable=self.profile.can_continue):
            yield event

    async def _attempt(self, request: ModelRequest, run: _Run, number: int) -> AsyncGenerator[ModelEvent, None]:
        received = "".join(run.received)
        try:
            if not self.model:
                self.model, window = await self._server.served_model()
                if window and not self._context_window_given:
                    self.context_window = window
            model = self.model
            # A resumed request asks only for what is left of the budget.
            carried = self.token_counter.count(received) if received else 0
            opener = lambda: self._server.client.completions.with_streaming_response.create(  # noqa: E731
                model=model,
                prompt=run.prompt + received,
                max_tokens=max(1, run.max_tokens - carried),
                temperature=request.temperature,
                top_p=request.top_p,
                stop=STOP + list(request.stop or []),
                stream=True,
                stream_options={"include_usage": True},
                # The stop strings are special tokens: without this, vLLM strips them from the text.
                # Never a tool_choice: "required" would make the server decode JSON from the first token.
                extra_body={"skip_special_tokens": False,
                            **{k: v for k, v in request.extra_body.items() if k != "tool_choice"}},
            )
            finish: str | None = None
            async with contextlib.aclosing(self._server.payloads(opener)) as stream:
                async for chunk in stream:
                    usage = chunk.get("usage")
                    if isinstance(usage, dict) and usage:
                        # A resumed answer's prompt carries the text that arrived before the break: that
                        # text is output, not input.
                        run.prompt_tokens = int(usage.get("prompt_tokens") or 0) - carried
                        run.completion_tokens = int(usage.get("completion_tokens") or 0) + carried
                    for choice in chunk.get("choices") or ():
                        text = choice.get("text") or ""
                        if text:
                            run.received.append(text)
                            for delta in run.parser.feed(text):
                                yield delta
                        if choice.get("finish_reason"):
                            finish = choice["finish_reason"]
            if finish is None:
                raise StreamInterrupted("the stream ended without a finish reason")
        except BackendError as err:
            err.partial_text = "".join(run.received)
            raise
        for delta in run.parser.flush():
            yield delta
        turn = run.parser.close()
        usage = count_usage(turn, run.prompt_tokens, run.completion_tokens, number, self.token_counter)
        yield ModelResponse(turn=turn, usage=usage, finish_reason=finish_reason(finish, turn),
                            raw_text="".join(run.received), model=model)


__all__ = ["BEGINNING_OF_SENTENCE", "END_OF_SENTENCE", "STOP", "Completions", "build_prompt"]
