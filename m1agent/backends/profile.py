"""What each kind of server does, as frozen data: a backend is its own file plus one of these profiles.

The loop and the thinking governor read these fields instead of asking a backend what it can do.
A per-model-family ``ModelProfile`` (grammar, template, thinking controls) will sit beside this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from m1agent.protocol.types import FinishReason, Turn


@dataclass(frozen=True, slots=True)
class ServerProfile:
    """How one kind of server behaves.

    ``can_continue``: a cut-off answer can be continued in place, because the prompt is ours (forced
    answers after thinking ran out, resumed streams). ``thinking_in``: where thinking arrives.
    ``calls_from``: who turns the output into tool calls. ``corrupts_streamed_arguments``: the server's
    streamed call arguments are known to be wrong at chunk boundaries, so each is re-checked.
    ``reports_thinking_tokens``: usage includes reasoning tokens (else they are counted locally).
    ``errors_in_body``: errors can arrive under HTTP 200, in the body or inside the stream.
    """

    kind: Literal["vllm_chat", "raw_completions", "hosted_native", "replay"]
    can_continue: bool
    thinking_in: Literal["content", "reasoning_content", "raw_text", "recorded"]
    calls_from: Literal["server", "our_parser", "recorded"]
    corrupts_streamed_arguments: bool = False
    reports_thinking_tokens: bool = False
    errors_in_body: bool = False


VLLM_CHAT = ServerProfile("vllm_chat", can_continue=False, thinking_in="content", calls_from="server",
                          corrupts_streamed_arguments=True)
RAW_COMPLETIONS = ServerProfile("raw_completions", can_continue=True, thinking_in="raw_text", calls_from="our_parser")
HOSTED_NATIVE = ServerProfile("hosted_native", can_continue=False, thinking_in="reasoning_content",
                              calls_from="server", reports_thinking_tokens=True, errors_in_body=True)
REPLAY = ServerProfile("replay", can_continue=False, thinking_in="recorded", calls_from="recorded")


def finish_reason(server_reason: str | None, turn: Turn) -> FinishReason:
    """The one mapping of a server's ``finish_reason`` to ours, for every backend.

    ``length`` is a cut at ``max_tokens``; ``content_filter`` is the provider's moderation (kept apart,
    since retrying the same request will not help); a normal end is ``tool_calls`` when the turn has
    calls to run (whatever the server said: vLLM says ``tool_calls`` for calls it could not parse) and
    ``stop`` otherwise; anything else is ``error``.
    """
    if server_reason == "length":
        return "length"
    if server_reason == "content_filter":
        return "content_filter"
    if server_reason in (None, "stop", "tool_calls", "function_call", "eos", "end_turn"):
        return "tool_calls" if turn.tool_calls else "stop"
    return "error"


__all__ = ["HOSTED_NATIVE", "RAW_COMPLETIONS", "REPLAY", "VLLM_CHAT", "FinishReason", "ServerProfile", "finish_reason"]
