"""The default summarizer of earlier thoughts: the run's own backend, asked for a short summary.

Used by ``ReasoningHistory("summarize")`` when no summarizer is given. The history caches each
summary by the thought's hash, so a thought costs one extra request once, and the prompt prefix
stays stable from then on.
"""

from __future__ import annotations

from collections.abc import Callable

from m1agent.backends.base import Backend, ModelRequest, ModelResponse
from m1agent.messages import UserMessage
from m1agent.thinking.history import SUMMARY_INSTRUCTIONS, Summarizer

# The summary request thinks too; this leaves room for a short thought and a three-sentence answer.
SUMMARY_MAX_TOKENS = 2_048


def summary_prompt(thinking: str) -> str:
    """The user message that asks for the summary of one thought."""
    return f"{SUMMARY_INSTRUCTIONS}\n\n<reasoning>\n{thinking}\n</reasoning>"


def backend_summarizer(
    backend: Backend,
    *,
    max_tokens: int = SUMMARY_MAX_TOKENS,
    on_response: Callable[[ModelResponse], None] | None = None,
) -> Summarizer:
    """A summarizer that sends one short, tool-free request per thought to ``backend``.

    ``on_response`` sees each summary response, so that its tokens are counted in the run's usage.
    A summary that comes back empty (the request's own thinking ran out) leaves the thought out,
    as ``strip`` would, rather than failing the run.
    """

    async def summarize(thinking: str) -> str:
        request = ModelRequest(messages=[UserMessage(summary_prompt(thinking))], max_tokens=max_tokens,
                               tool_choice="none")
        response: ModelResponse | None = None
        async for event in backend.stream(request):
            if isinstance(event, ModelResponse):
                response = event
        if response is None:
            return ""
        if on_response is not None:
            on_response(response)
        return response.turn.text.strip()

    return summarize


__all__ = ["SUMMARY_MAX_TOKENS", "backend_summarizer", "summary_prompt"]
