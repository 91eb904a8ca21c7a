"""Faults a scripted server can inject into one request, to test retries, timeouts and error mapping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "reset", "stall", "malformed_sse", "base_resp"]

VLLM_CONTEXT_MESSAGE = (
    "This model's maximum context length is {limit} tokens. However, you requested {asked} tokens "
    "({prompt} in the messages, {completion} in the completion). Please reduce the length of the "
    "messages or completion."
)

BASE_RESP_MESSAGES = {
    1000: "unknown error",
    1001: "request timeout",
    1002: "rate limit exceeded (RPM)",
    1004: "login fail: Please carry the API secret key in the 'Authorization' field of the request header",
    1008: "insufficient balance",
    1013: "internal service error",
    1039: "token limit exceeded",
    2013: "invalid params, context window exceeds limit",
}


@dataclass(frozen=True, slots=True)
class Fault:
    """What goes wrong with one request. Build one with the class methods.

    ``after_chars`` (stream faults) is how many characters of the scripted output are sent before the
    fault strikes. A request that meets a fault does not use up its script entry: the next request gets
    the same output, as a retry would from a real model.
    """

    kind: FaultKind
    status: int = 500
    retry_after: float | None = None
    message: str = ""
    after_chars: int = 0
    seconds: float = 3600.0
    code: int = 0
    in_stream: bool = False

    @classmethod
    def http(cls, status: int, message: str = "", *, retry_after: float | None = None) -> Fault:
        """Answer with this HTTP status and an OpenAI-style error body."""
        return cls("status", status=status, message=message, retry_after=retry_after)

    @classmethod
    def rate_limit(cls, retry_after: float | None = 1.0) -> Fault:
        """HTTP 429, with a ``Retry-After`` header unless ``retry_after`` is ``None``."""
        return cls("status", status=429, message="Too Many Requests", retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """HTTP 500, 502, 503 or 504."""
        return cls("status", status=status, message="Internal Server Error" if status == 500 else "Unavailable")

    @classmethod
    def context_too_long(cls) -> Fault:
        """vLLM's HTTP 400 for a prompt plus ``max_tokens`` beyond ``max_model_len``."""
        message = VLLM_CONTEXT_MESSAGE.format(limit=131072, asked=140000, prompt=100000, completion=40000)
        return cls("status", status=400, message=message)

    @classmethod
    def reset(cls, after_chars: int = 0) -> Fault:
        """Send the headers and ``after_chars`` characters of output, then reset the TCP connection."""
        return cls("reset", after_chars=after_chars)

    @classmethod
    def stall(cls, after_chars: int = 0, seconds: float = 3600.0) -> Fault:
        """Send ``after_chars`` characters of output, then go silent for ``seconds``."""
        return cls("stall", after_chars=after_chars, seconds=seconds)

    @classmethod
    def malformed_sse(cls, after_chars: int = 0) -> Fault:
        """Send ``after_chars`` characters of output, then an event whose data is not JSON, then close."""
        return cls("malformed_sse", after_chars=after_chars)

    @classmethod
    def base_resp(cls, code: int, message: str | None = None, *, in_stream: bool = False) -> Fault:
        """Hosted API only: HTTP 200 with ``base_resp.status_code = code``.

        With ``in_stream`` the error arrives as an SSE event after the stream has started; otherwise the
        whole answer is the JSON error body, as the hosted API sends it.
        """
        text = BASE_RESP_MESSAGES.get(code, "error") if message is None else message
        return cls("base_resp", code=code, message=text, in_stream=in_stream)
