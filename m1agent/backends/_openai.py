"""What the two OpenAI-protocol backends (vLLM chat, raw completions) share: the client and the stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import openai

from m1agent.backends._common import DEFAULT_MAX_TOKENS, Counter, HTTPBackend, secret_from
from m1agent.backends._http import (
    TRANSPORT_ERRORS,
    RetryPolicy,
    Secret,
    Timeouts,
    error_from_httpx,
    error_from_openai,
    sse_payloads,
    tls_context,
)
from m1agent.errors import BackendError, MalformedResponse, StreamInterrupted

# vLLM accepts any key when started without --api-key, but the openai client insists on one.
_NO_KEY = "EMPTY"


class OpenAIProtocolBackend(HTTPBackend):
    """A backend that speaks to a vLLM/SGLang server through the official ``openai`` client."""

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
        super().__init__(
            model=model or "",
            context_window=context_window or 131_072,
            timeouts=timeouts,
            retry=retry,
            default_max_tokens=default_max_tokens,
            token_counter=token_counter,
        )
        self.base_url = base_url.rstrip("/")
        self._context_window_given = context_window is not None
        self._secret: Secret | None = secret_from(api_key, None)
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=self._secret.reveal() if self._secret else _NO_KEY,
            timeout=self.timeouts.for_openai(),
            max_retries=0,  # retries are ours: bounded, logged, and aware of what already streamed
            http_client=openai.DefaultAsyncHttpxClient(verify=tls_context(), timeout=self.timeouts.for_openai()),
        )

    def _repr_fields(self) -> dict[str, Any]:
        return {"base_url": self.base_url}

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    async def call(self, make: Callable[[], Awaitable[Any]]) -> Any:
        """Run one client call; failures come out as typed errors."""
        try:
            return await make()
        except openai.OpenAIError as exc:
            # ``from None``: the client's exception text can quote what the server echoed, key included.
            raise error_from_openai(exc, self._secret, streaming=False, timeouts=self.timeouts) from None

    async def resolve_model(self) -> str:
        """The served model's id: the one given, else the first in ``/v1/models`` (also its context size)."""
        if self.model:
            return self.model
        page = await self.call(lambda: self._client.models.list())
        if not page.data:
            raise MalformedResponse(f"{self.base_url}/models lists no model")
        card = page.data[0]
        self.model = card.id
        max_len = (card.model_extra or {}).get("max_model_len")
        if isinstance(max_len, int) and not self._context_window_given:
            self.context_window = max_len
        return self.model

    async def stream_payloads(self, open_stream: Callable[[], Any]) -> AsyncGenerator[dict[str, Any], None]:
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
            # ``from None``: the client's exception text can quote what the server echoed, key included.
            raise error_from_openai(exc, self._secret, streaming=entered, timeouts=self.timeouts) from None
        except TRANSPORT_ERRORS as exc:
            raise error_from_httpx(exc, self._secret, streaming=entered, timeouts=self.timeouts) from None  # type: ignore[arg-type]


def ended_early() -> StreamInterrupted:
    """The error for a stream that closed cleanly but never said why it finished."""
    return StreamInterrupted("the stream ended without a finish reason")


def usage_numbers(usage: Any) -> tuple[int, int]:
    """``(prompt_tokens, completion_tokens)`` from an OpenAI ``usage`` dict (zeros when absent)."""
    if not isinstance(usage, dict):
        return 0, 0
    return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
