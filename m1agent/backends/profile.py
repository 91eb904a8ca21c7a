"""What each kind of server does, as frozen data: a backend is its own file plus one of these profiles.

The loop and the thinking governor read these fields instead of asking a backend what it can do, and
the shared chat reader (``chat.py``) reads them instead of branching on the backend. A per-model-family
``ModelProfile`` (grammar, template, thinking controls, prices) is meant to sit beside this one.

What servers say in their own words is mapped to ours here, once for every backend: ``finish_reason``
and HTTP statuses. (The hosted API's ``base_resp`` codes are hosted-only and live in ``minimax.py``.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from m1agent.errors import (
    AuthenticationFailed,
    BackendError,
    ContextTooLong,
    InsufficientBalance,
    InvalidRequest,
    RateLimited,
    ServerError,
)
from m1agent.protocol.types import FinishReason, Turn

ServerKind = Literal["vllm_chat", "sglang_chat", "raw_completions", "hosted_openai", "hosted_native", "replay"]


@dataclass(frozen=True, slots=True)
class ServerProfile:
    """How one kind of server behaves. ``label`` names it in messages ("vLLM's tool_calls").

    Capabilities:

    - ``can_continue``: a cut-off answer can be continued in place, because the prompt is ours (forced
      answers after thinking ran out; streams that broke mid-answer are resumed, not restarted).
    - ``thinking_in``: where the thinking arrives: inside ``content`` as M1 wrote it, in a separate
      ``reasoning_content``/``reasoning`` field, in the raw text, or as recorded.
    - ``calls_from``: who turns M1's ``<tool_calls>`` block into calls. A chat server without a tool
      parser leaves the block in ``content``, and our parser reads it there.
    - ``reports_thinking_tokens``: usage carries ``completion_tokens_details.reasoning_tokens``. Where it
      does not, the thinking is counted with the backend's counter.

    Streaming quirks and defects:

    - ``corrupts_streamed_arguments``: streamed call arguments are known to be wrong at chunk
      boundaries (vLLM's ``minimax`` parser), so content after a call is held back until every call
      validates, and a bad call's problem says how to get calls one can trust.
    - ``final_repeats_message``: the last event repeats the whole message; only what the deltas missed
      is taken from it (the reader applies that rule to any whole message, so this one is for readers).

    Request and error shapes:

    - ``max_tokens_field``: the body field that carries the output budget.
    - ``sampling_range``: ``(low, high)`` that temperature and ``top_p`` are clamped into, for a server
      that rejects values outside it; ``None`` sends them as given.
    - ``errors_in_body``: errors can arrive under HTTP 200, in ``base_resp`` of the body or of a stream
      event, so every payload is checked.
    """

    kind: ServerKind
    label: str
    can_continue: bool
    thinking_in: Literal["content", "reasoning_field", "raw_text", "recorded"]
    calls_from: Literal["server", "our_parser", "recorded"]
    reports_thinking_tokens: bool = False
    corrupts_streamed_arguments: bool = False
    final_repeats_message: bool = False
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    sampling_range: tuple[float, float] | None = None
    errors_in_body: bool = False


# vLLM's chat API: no M1 reasoning parser, so thinking stays in content; calls from ``--tool-call-parser
# minimax``, whose streamed arguments are corrupt (wire-format notes §4.5).
VLLM_CHAT = ServerProfile(
    "vllm_chat", "vLLM", can_continue=False, thinking_in="content", calls_from="server",
    corrupts_streamed_arguments=True,
)
# SGLang's chat API on a fork that serves M1: its ``minimax`` reasoning parser splits the thinking off,
# and it has no M1 tool-call detector, so the <tool_calls> block stays in content (§5).
SGLANG_CHAT = ServerProfile(
    "sglang_chat", "SGLang", can_continue=False, thinking_in="reasoning_field", calls_from="our_parser",
)
# ``/v1/completions`` of vLLM or SGLang: the prompt and the parsing are ours (§7).
RAW_COMPLETIONS = ServerProfile(
    "raw_completions", "the completions server", can_continue=True, thinking_in="raw_text",
    calls_from="our_parser",
)
# The hosted platform's OpenAI-compatible ``/v1/chat/completions``. Documented for M2+, where thinking
# stays in content unless ``reasoning_split`` is sent; how M1 behaves there is unverified (§6.1).
HOSTED_OPENAI = ServerProfile(
    "hosted_openai", "the MiniMax API", can_continue=False, thinking_in="content", calls_from="server",
    max_tokens_field="max_completion_tokens", sampling_range=(0.01, 1.0), errors_in_body=True,
)
# The hosted platform's native ``/v1/text/chatcompletion_v2`` (§6): its server default of 8192 output
# tokens cuts M1's thinking off, so the budget is always sent; 0 is not a valid temperature there.
HOSTED_NATIVE = ServerProfile(
    "hosted_native", "the MiniMax API", can_continue=False, thinking_in="reasoning_field", calls_from="server",
    reports_thinking_tokens=True, final_repeats_message=True, max_tokens_field="max_completion_tokens",
    sampling_range=(0.01, 1.0), errors_in_body=True,
)
REPLAY = ServerProfile("replay", "the recording", can_continue=False, thinking_in="recorded", calls_from="recorded")

_NORMAL_ENDS = frozenset({"stop", "tool_calls", "function_call", "eos", "end_turn"})


def finish_reason(server_reason: str | None, turn: Turn) -> FinishReason:
    """The one mapping of a server's ``finish_reason`` to ours, for every backend.

    ``length`` is a cut at ``max_tokens``. ``content_filter`` stays ``content_filter`` on every server:
    the provider's moderation stopped the answer, and that is neither a normal end (the answer may be
    missing) nor a transport error (sending the same request again will not help). A normal end is
    ``tool_calls`` when the turn has calls to run, whatever the server said (vLLM says ``tool_calls``
    for calls it could not parse), and ``stop`` otherwise. Anything else is ``error``.
    """
    if server_reason == "length":
        return "length"
    if server_reason == "content_filter":
        return "content_filter"
    if server_reason is None or server_reason in _NORMAL_ENDS:
        return "tool_calls" if turn.tool_calls else "stop"
    return "error"


_CONTEXT_RE = re.compile(
    r"maximum context length|context length|context window|max_model_len|too long|too many tokens"
    r"|exceed\w*.{0,40}(limit|length|token)|token limit",
    re.IGNORECASE,
)


def mentions_context_limit(message: str) -> bool:
    """True when a server's message says the prompt plus output does not fit."""
    return bool(_CONTEXT_RE.search(message))


def error_for_status(status: int, message: str, *, retry_after: float | None = None) -> BackendError:
    """The typed error for an HTTP status and the server's message (already redacted)."""
    text = f"HTTP {status}: {message}" if message else f"HTTP {status}"
    if status in (401, 403):
        return AuthenticationFailed(f"the server rejected the API key ({text})", status=status)
    if status == 402:
        return InsufficientBalance(text, status=status)
    if status == 429:
        return RateLimited(f"rate limited ({text})", retry_after=retry_after, status=status)
    if status in (400, 413, 422) and mentions_context_limit(message):
        return ContextTooLong(text, status=status)
    if status == 404:
        return InvalidRequest(text, status=status, hint="check the base URL and the model name")
    if status >= 500:
        return ServerError(text, status=status)
    return InvalidRequest(text, status=status)


__all__ = [
    "HOSTED_NATIVE",
    "HOSTED_OPENAI",
    "RAW_COMPLETIONS",
    "REPLAY",
    "SGLANG_CHAT",
    "VLLM_CHAT",
    "FinishReason",
    "ServerKind",
    "ServerProfile",
    "error_for_status",
    "finish_reason",
    "mentions_context_limit",
]
