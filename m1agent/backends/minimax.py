"""The hosted MiniMax API, streamed over httpx: the native ``/v1/text/chatcompletion_v2`` by default.

What is particular to the hosted API lives here or in its profile (wire-format notes §6, §9):

- errors come in ``base_resp.status_code``, also under HTTP 200 and also inside a stream; the codes are
  the platform's own, so their table is this module's;
- ``max_completion_tokens`` is always sent (the server's default of 8192 cuts thinking off), and
  temperature and ``top_p`` are clamped into (0, 1] (``HOSTED_NATIVE.sampling_range``);
- the thinking arrives in ``reasoning_content``, and the last stream event repeats the whole message:
  the shared chat reader takes only what the deltas missed from it.

``profile=HOSTED_OPENAI`` sends the same body to the platform's OpenAI-compatible
``/v1/chat/completions`` instead; M1's behaviour on that route is unverified.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx

from m1agent.backends.base import Counter, ModelEvent, ModelRequest, output_budget
from m1agent.backends.chat import ChatReader, chat_body, extra_body
from m1agent.backends.profile import HOSTED_NATIVE, ServerProfile, error_for_status, mentions_context_limit
from m1agent.backends.transport import (
    RetryPolicy,
    Secret,
    Timeouts,
    decode_json,
    error_from_httpx,
    parse_retry_after,
    redact,
    repr_backend,
    retrying,
    secret_from,
    sse_payloads,
    tls_context,
)
from m1agent.errors import (
    AuthenticationFailed,
    BackendError,
    ContextTooLong,
    InsufficientBalance,
    InvalidRequest,
    MalformedResponse,
    RateLimited,
    ServerError,
)
from m1agent.protocol.openai_format import to_openai_messages, tools_to_openai

GLOBAL_HOST = "https://api.minimax.io"
CHINA_HOST = "https://api.minimaxi.com"
PATHS = {"hosted_native": "/v1/text/chatcompletion_v2", "hosted_openai": "/v1/chat/completions"}
PATH = PATHS["hosted_native"]
ENV_KEY = "MINIMAX_API_KEY"
SOURCE = "the MiniMax API"

# base_resp codes the platform documents as transient: retried like a 5xx.
_TRANSIENT_CODES = {1000: "unknown error", 1001: "timeout", 1013: "internal error", 1024: "internal error"}


def error_for_base_resp(code: int, message: str) -> BackendError | None:
    """The typed error for the hosted API's ``base_resp.status_code`` (``None`` when it is 0)."""
    if code == 0:
        return None
    text = f"MiniMax API error {code}: {message}" if message else f"MiniMax API error {code}"
    if code == 1002:
        return RateLimited(text, code=code)
    if code in (1004, 2049):
        return AuthenticationFailed(text, code=code)
    if code == 2038:
        return AuthenticationFailed(text, code=code, hint="complete the account's real-name verification")
    if code in (1008, 1028, 1030):
        return InsufficientBalance(text, code=code)
    if code == 1039 or (code == 2013 and mentions_context_limit(message)):
        return ContextTooLong(text, code=code)
    if code in _TRANSIENT_CODES:
        return ServerError(text, code=code)
    if code in (1026, 1027):
        return InvalidRequest(text, code=code, hint="the content was flagged by the provider's moderation")
    return InvalidRequest(text, code=code)


class MiniMax:
    """M1 on the hosted MiniMax platform.

    ``api_key`` defaults to ``$MINIMAX_API_KEY``; it must belong to the region of ``host``
    (``GLOBAL_HOST`` or ``CHINA_HOST``). Without a key, ``stream`` raises ``AuthenticationFailed``
    before any request is sent. ``default_max_tokens`` is what ``max_completion_tokens`` is set to when
    the request leaves ``max_tokens`` unset. ``token_counter`` (loaded on first use) counts the thinking
    only where the server's usage does not report it.
    """

    name = "minimax"

    def __init__(
        self,
        api_key: str | None = None,
        *,
        host: str = GLOBAL_HOST,
        model: str = "MiniMax-M1",
        context_window: int = 1_000_000,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        default_max_tokens: int = 40_000,
        token_counter: Counter | None = None,
        profile: ServerProfile = HOSTED_NATIVE,
    ) -> None:
        if profile.kind not in PATHS:
            raise ValueError(f"MiniMax serves the hosted profiles ({', '.join(PATHS)}), not {profile.kind}")
        self.model = model
        self.context_window = context_window
        self.host = host.rstrip("/")
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.default_max_tokens = default_max_tokens
        self.profile = profile
        self._counter = token_counter
        self._secret: Secret | None = secret_from(api_key, ENV_KEY)
        self._client = httpx.AsyncClient(timeout=self.timeouts.for_httpx(), verify=tls_context())

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

    def with_model(self, model: str) -> MiniMax:
        """The same account and settings asked for ``model``: a copy sharing this one's connections."""
        other = copy.copy(self)
        other.model = model
        return other

    def __repr__(self) -> str:
        return repr_backend(self, model=self.model, host=self.host, api_key="***" if self._secret else None)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()

    def body(self, request: ModelRequest) -> dict[str, Any]:
        """The JSON body of one request."""
        tools = tools_to_openai(request.tools) if request.tools else None
        max_tokens = output_budget(request, self.default_max_tokens, self.context_window, None)
        body = chat_body(request, self.profile, self.model, to_openai_messages(request.messages), tools, max_tokens)
        return {**body, "stream": True, "stream_options": {"include_usage": True}, **extra_body(request)}

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        """Generate one answer: deltas as they become certain, then one ``ModelResponse``.

        Failures before any output are retried (``retry``); a failure after output went out is raised,
        with what had arrived in ``partial_text``.
        """
        if not self._secret:
            raise AuthenticationFailed(f"no API key for the MiniMax API: pass api_key= or set {ENV_KEY}")
        body = self.body(request)
        async for event in retrying(self.retry, f"{self.name} ({self.model})",
                                    lambda n: self._attempt(request, body, n), resumable=self.profile.can_continue):
            yield event

    async def _attempt(self, request: ModelRequest, body: dict[str, Any],
                       number: int) -> AsyncGenerator[ModelEvent, None]:
        assert self._secret is not None
        headers = {"Authorization": f"Bearer {self._secret.reveal()}", "Accept": "text/event-stream"}
        reader = ChatReader(request.turn_index, self.profile, f"{SOURCE}'s tool_calls")
        try:
            async with self._client.stream("POST", self.host + PATHS[self.profile.kind], json=body,
                                           headers=headers) as response:
                await self._check_status(response)
                async for payload in self._payloads(response):
                    for delta in reader.feed(payload):
                        yield delta
            for event in reader.finish(self.model, self.token_counter, number):
                yield event
        except BackendError as err:
            err.partial_text = reader.raw_text
            raise
        except httpx.HTTPError as exc:
            error = error_from_httpx(exc, self._secret, streaming=reader.raw_text != "", timeouts=self.timeouts)
            error.partial_text = reader.raw_text
            raise error from None

    async def _check_status(self, response: httpx.Response) -> None:
        if response.status_code == 200:
            return
        raw = (await response.aread()).decode("utf-8", "replace")
        message = raw
        with contextlib.suppress(MalformedResponse, AttributeError):  # a body that is not the usual shape
            message = (decode_json(raw, SOURCE).get("base_resp") or {}).get("status_msg") or raw
        raise error_for_status(response.status_code, redact(message[:500], self._secret),
                               retry_after=parse_retry_after(response.headers.get("retry-after")))

    async def _payloads(self, response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
        """Every payload of the answer, each checked for an error in ``base_resp`` first."""
        if "application/json" in response.headers.get("content-type", ""):
            payloads: AsyncIterator[Any] = _one(decode_json(await response.aread(), SOURCE))
        else:
            payloads = sse_payloads(response.aiter_lines(), self.timeouts, SOURCE)
        async for payload in payloads:
            if not isinstance(payload, dict):
                raise MalformedResponse(f"{SOURCE} sent a JSON value that is not an object")
            base = payload.get("base_resp") or {}
            error = error_for_base_resp(int(base.get("status_code") or 0),
                                        redact(str(base.get("status_msg") or ""), self._secret))
            if error is not None:
                raise error
            yield payload


async def _one(value: Any) -> AsyncIterator[Any]:
    yield value


__all__ = ["CHINA_HOST", "ENV_KEY", "GLOBAL_HOST", "PATH", "MiniMax", "error_for_base_resp"]
