"""M1 through an OpenAI chat API: vLLM's (the default), or SGLang's (``profile=SGLANG_CHAT``).

vLLM has no working M1 reasoning parser, so the thinking arrives inside ``content``; our own M1 parser
runs over it. ``reasoning_content``/``reasoning`` are read too, for a server that does split it (SGLang
with its ``minimax`` reasoning parser).

Tool calls: with ``--tool-call-parser minimax`` vLLM sends them as ``tool_calls``, and its *streamed*
arguments are known to be wrong (the first parser generation resends whole strings; the second shifts
characters at delta boundaries, ends a call at a ``}`` inside a string, and diverts text after a ``<``
into ``content``). The chat reader validates the joined arguments of every call, reports a call that
fails instead of running it, and holds back content that arrives after a failed call. Some corruption
leaves valid JSON with wrong values, which no client can detect: ``stream=False`` (the server's
non-streaming parser is right) or, better, the ``Completions`` backend with our own parser are the ways
to get calls you can trust. Without a tool parser on the server (SGLang has none for M1), the
``<tool_calls>`` block stays in ``content`` and our parser reads it.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from m1agent.backends.base import (
    DEFAULT_MAX_TOKENS,
    Counter,
    ModelEvent,
    ModelRequest,
    output_budget,
)
from m1agent.backends.chat import WITHHELD, ChatReader, chat_body, extra_body
from m1agent.backends.profile import VLLM_CHAT, ServerProfile
from m1agent.backends.transport import OpenAIServer, RetryPolicy, Timeouts, repr_backend, retrying
from m1agent.errors import BackendError
from m1agent.protocol.openai_format import to_openai_messages, tools_to_openai
from m1agent.protocol.render import render

# Nothing arrives until a non-streamed answer is whole: up to 80K tokens, so its read waits far longer.
NON_STREAMING_READ = 3600.0


class VLLM:
    """M1 through ``/v1/chat/completions`` of vLLM (or, with ``profile=SGLANG_CHAT``, of SGLang).

    ``base_url`` is the OpenAI-style root, e.g. ``http://127.0.0.1:8000/v1``; ``model=None`` asks the
    server (``/v1/models``), which also gives ``context_window`` when it is not set. ``stream=False``
    makes one non-streamed request per turn (deltas then all arrive at the end, and the read timeout is
    at least an hour) so that tool calls come from vLLM's correct non-streaming parser.
    ``token_counter`` (by default ``m1agent.tokens.load_counter()``, loaded on first use) caps the
    default ``max_tokens`` by the context window and counts ``usage.thinking_tokens``.
    """

    name = "vllm"

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        stream: bool = True,
        context_window: int | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        token_counter: Counter | None = None,
        profile: ServerProfile = VLLM_CHAT,
    ) -> None:
        self.model = model or ""
        self.context_window = context_window or 131_072
        self._context_window_given = context_window is not None
        self.streaming = stream
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.default_max_tokens = default_max_tokens
        self.profile = profile
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

    def with_model(self, model: str) -> VLLM:
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

        Failures before any output are retried (``retry``); a chat answer cannot be continued, so a
        failure after output went out is raised, with what had arrived in ``partial_text``.
        """
        label = f"{self.name} ({self.model or self.base_url})"
        async for event in retrying(self.retry, label, lambda n: self._attempt(request, n),
                                    resumable=self.profile.can_continue):
            yield event

    async def _attempt(self, request: ModelRequest, number: int) -> AsyncGenerator[ModelEvent, None]:
        if not self.model:
            self.model, window = await self._server.served_model()
            if window and not self._context_window_given:
                self.context_window = window
        model = self.model
        messages = to_openai_messages(request.messages)
        tools = tools_to_openai(request.tools) if request.tools else None
        prompt_tokens = None
        if request.max_tokens is None:  # the default budget is capped by what the prompt leaves
            prompt_tokens = self.token_counter.count(render(messages, tools, template="vllm"))
        max_tokens = output_budget(request, self.default_max_tokens, self.context_window, prompt_tokens)
        body = chat_body(request, self.profile, model, messages, tools, max_tokens)
        create = self._server.client.chat.completions
        reader = ChatReader(request.turn_index, self.profile, f"{self.profile.label}'s tool_calls")
        if self.streaming:
            chunks = self._server.payloads(lambda: create.with_streaming_response.create(
                **body, stream=True, stream_options={"include_usage": True}, extra_body=extra_body(request)))
        else:
            timeout = self.timeouts.for_openai(read=max(self.timeouts.read, NON_STREAMING_READ))
            response = await self._server.call(
                lambda: create.create(**body, extra_body=extra_body(request), timeout=timeout))
            chunks = _single(response.model_dump())
        try:
            async with contextlib.aclosing(chunks) as payloads:
                async for payload in payloads:
                    for delta in reader.feed(payload):
                        yield delta
            for event in reader.finish(model, self.token_counter, number):
                yield event
        except BackendError as err:
            err.partial_text = reader.raw_text
            raise


async def _single(payload: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
    yield payload


__all__ = ["NON_STREAMING_READ", "VLLM", "WITHHELD"]
