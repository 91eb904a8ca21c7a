"""The hosted MiniMax API's native ``POST /v1/text/chatcompletion_v2``, streamed over httpx.

The quirks handled here (wire-format notes §6, §9):

- the thinking arrives in ``reasoning_content``; a ``<think>`` block in ``content`` is still split off;
- errors come in ``base_resp.status_code``, also under HTTP 200 and also inside a stream;
- the last stream event repeats the whole message: only what the deltas missed is taken from it,
  and its ``tool_calls`` are the authoritative ones;
- ``max_completion_tokens`` is always sent (the server's default of 8192 cuts thinking off);
- temperature and ``top_p`` are clamped into (0, 1]; ``tool_choice`` is only ``none`` or ``auto``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx

from m1agent.backends._assemble import AssemblerRun, ServerCalls, TurnAssembler, finish_turn, read_chat_delta
from m1agent.backends._common import Counter, HTTPBackend, extra_body, secret_from
from m1agent.backends._http import (
    RetryPolicy,
    Secret,
    Timeouts,
    error_for_status,
    error_from_httpx,
    mentions_context_limit,
    parse_retry_after,
    redact,
    sse_payloads,
    tls_context,
)
from m1agent.backends.base import ModelEvent, ModelRequest, ModelResponse
from m1agent.backends.profile import HOSTED_NATIVE, finish_reason
from m1agent.errors import (
    AuthenticationFailed,
    BackendError,
    ContextTooLong,
    InsufficientBalance,
    InvalidRequest,
    MalformedResponse,
    RateLimited,
    ServerError,
    StreamInterrupted,
)
from m1agent.protocol.openai_format import to_openai_messages, tools_to_openai
from m1agent.protocol.types import StreamDelta

GLOBAL_HOST = "https://api.minimax.io"
CHINA_HOST = "https://api.minimaxi.com"
PATH = "/v1/text/chatcompletion_v2"
ENV_KEY = "MINIMAX_API_KEY"


def clamp_unit(value: float) -> float:
    """Into (0, 1]: the hosted API rejects 0 and anything above 1."""
    return min(1.0, max(0.01, float(value)))


class _State:
    """What one streamed answer has given so far."""

    def __init__(self, turn_index: int) -> None:
        self.assembler = TurnAssembler(turn_index)
        self.calls = ServerCalls(turn_index, "the MiniMax API's tool_calls")
        self.seen: dict[str, list[str]] = {}  # each field's text as the deltas brought it
        self.finish: str | None = None
        self.usage: dict[str, Any] = {}
        self.final: dict[str, Any] | None = None

    def delta(self, delta: dict[str, Any]) -> list[StreamDelta]:
        return read_chat_delta(delta, self.assembler, self.calls, seen=self.seen)

    def whole(self, message: dict[str, Any]) -> list[StreamDelta]:
        """The final message: take only the part of each field the deltas did not already bring."""
        out: list[StreamDelta] = []
        for key, feed in (("reasoning_content", self.assembler.reasoning), ("content", self.assembler.content)):
            full, so_far = message.get(key) or "", "".join(self.seen.get(key, ()))
            if full.startswith(so_far) and len(full) > len(so_far):
                out += feed(full[len(so_far) :])
        calls = message.get("tool_calls") or []
        if calls:
            self.calls.replace([((c.get("function") or {}).get("name") or "",
                                 (c.get("function") or {}).get("arguments") or "") for c in calls])
        return out


# Hosted-only: the platform's base_resp.status_code values, as typed errors.
_RETRYABLE_CODES = {1000: "unknown error", 1001: "timeout", 1013: "internal error", 1024: "internal error"}


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
    if code in _RETRYABLE_CODES:
        return ServerError(text, code=code)
    if code in (1026, 1027):
        return InvalidRequest(text, code=code, hint="the content was flagged by the provider's moderation")
    return InvalidRequest(text, code=code)


class MiniMax(HTTPBackend):
    """M1 on the hosted MiniMax platform.

    ``api_key`` defaults to ``$MINIMAX_API_KEY``; it must belong to the region of ``host``
    (``GLOBAL_HOST`` or ``CHINA_HOST``). Without a key, ``stream`` raises ``AuthenticationFailed``
    before any request is sent. ``default_max_tokens`` is what ``max_completion_tokens`` is set to when
    the request leaves ``max_tokens`` unset.
    """

    name = "minimax"
    profile = HOSTED_NATIVE

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
    ) -> None:
        super().__init__(model=model, context_window=context_window, timeouts=timeouts, retry=retry,
                         default_max_tokens=default_max_tokens, token_counter=token_counter)
        self.host = host.rstrip("/")
        self._secret: Secret | None = secret_from(api_key, ENV_KEY)
        self._client = httpx.AsyncClient(timeout=self.timeouts.for_httpx(), verify=tls_context())

    def _repr_fields(self) -> dict[str, Any]:
        return {"host": self.host, "api_key": "***" if self._secret else None}

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()

    def _new_run(self, request: ModelRequest) -> AssemblerRun:
        if not self._secret:
            raise AuthenticationFailed(f"no API key for the MiniMax API: pass api_key= or set {ENV_KEY}")
        return AssemblerRun()

    def body(self, request: ModelRequest) -> dict[str, Any]:
        """The JSON body of one request."""
        extra = extra_body(request)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(request.messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_completion_tokens": self.max_tokens_for(request, None),
            "temperature": clamp_unit(request.temperature),
            "top_p": clamp_unit(request.top_p),
            **extra,
        }
        if request.tools:
            body["tools"] = tools_to_openai(request.tools)
            body["tool_choice"] = "none" if request.tool_choice == "none" else "auto"
        if request.stop:
            body["stop"] = list(request.stop)
        return body

    def _check(self, payload: Any) -> None:
        if not isinstance(payload, dict):
            raise MalformedResponse("the MiniMax API sent a JSON value that is not an object")
        base = payload.get("base_resp") or {}
        code = base.get("status_code") or 0
        error = error_for_base_resp(int(code), redact(str(base.get("status_msg") or ""), self._secret))
        if error is not None:
            raise error

    async def _attempt(self, request: ModelRequest, run: AssemblerRun) -> AsyncGenerator[ModelEvent, None]:
        assert self._secret is not None
        headers = {"Authorization": f"Bearer {self._secret.reveal()}", "Accept": "text/event-stream"}
        state = _State(request.turn_index)
        run.assembler = state.assembler
        try:
            async with self._client.stream("POST", self.host + PATH, json=self.body(request),
                                           headers=headers) as response:
                await self._check_head(response)
                async for event in self._events(response, state, run.attempts):
                    yield event
        except BackendError:
            raise
        except httpx.HTTPError as exc:
            raise error_from_httpx(exc, self._secret, streaming=state.assembler.raw_text != "",
                                   timeouts=self.timeouts) from None

    async def _check_head(self, response: httpx.Response) -> None:
        if response.status_code == 200:
            return
        raw = (await response.aread()).decode("utf-8", "replace")
        message = raw
        try:
            payload = json.loads(raw)
            message = (payload.get("base_resp") or {}).get("status_msg") or raw
        except (json.JSONDecodeError, AttributeError):
            pass
        raise error_for_status(response.status_code, redact(message[:500], self._secret),
                               retry_after=parse_retry_after(response.headers.get("retry-after")))

    async def _events(self, response: httpx.Response, state: _State, attempts: int) -> AsyncIterator[ModelEvent]:
        if "application/json" in response.headers.get("content-type", ""):
            payloads: AsyncIterator[Any] = _one(await self._json(response))
        else:
            payloads = sse_payloads(response.aiter_lines(), self.timeouts, "the MiniMax API")
        async for payload in payloads:
            self._check(payload)
            if payload.get("usage"):
                state.usage = payload["usage"]
            for choice in payload.get("choices") or ():
                if choice.get("finish_reason"):
                    state.finish = choice["finish_reason"]
                if payload.get("object") == "chat.completion" and "message" in choice:
                    state.final = choice["message"]
                    for delta in state.whole(choice["message"]):
                        yield delta
                else:
                    for delta in state.delta(choice.get("delta") or {}):
                        yield delta
        if state.finish is None:
            raise StreamInterrupted("the stream ended without a finish reason")
        for event in self._finish(state, attempts):
            yield event

    async def _json(self, response: httpx.Response) -> Any:
        try:
            return json.loads(await response.aread())
        except json.JSONDecodeError as exc:
            raise MalformedResponse(f"the MiniMax API sent a body that is not JSON ({exc})") from None

    def _finish(self, state: _State, attempts: int) -> list[ModelEvent]:
        finish = state.finish or "stop"
        out: list[ModelEvent] = []
        deltas, turn, block = finish_turn(state.assembler, state.calls, finish)
        out += deltas
        usage = state.usage
        details = usage.get("completion_tokens_details") or {}
        thinking = details.get("reasoning_tokens")
        out.append(ModelResponse(
            turn=turn,
            usage=self.usage_for(turn, int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0),
                                 attempts, thinking_tokens=int(thinking) if thinking is not None else None),
            finish_reason=finish_reason(state.finish, turn),
            raw_text=state.assembler.raw_text + block,
            model=self.model,
        ))
        return out


async def _one(value: Any) -> AsyncIterator[Any]:
    yield value
