"""The default summarizer of earlier thoughts: the run's own backend, asked for a short summary.

Used by ``ReasoningHistory("summarize")`` when no summarizer is given. The history caches each
summary by the thought's hash, so a thought costs one extra request once, and the prompt prefix
stays stable from then on.
"""

from __future__ import annotations

from m1agent.backends.base import Backend, ModelRequest, ModelResponse
from m1agent.messages import UserMessage
from m1agent.thinking.history import SUMMARY_INSTRUCTIONS

# The summary request thinks too; this leaves room for a short thought and a three-sentence answer.
SUMMARY_MAX_TOKENS = 2_048


def summary_prompt(thinking: str) -> str:
    """The user message that asks for the summary of one thought."""
    return f"{SUMMARY_INSTRUCTIONS}\n\n<reasoning>\n{thinking}\n</reasoning>"


class BackendSummarizer:
    """A summarizer that sends one short, tool-free request per thought to ``backend``.

    The responses it got are kept until ``take_responses`` hands them over, so that the run can count
    their tokens in its usage. A summary that comes back empty (the request's own thinking ran out)
    leaves the thought out, as ``strip`` would, rather than failing the run.
    """

    def __init__(self, backend: Backend, *, max_tokens: int = SUMMARY_MAX_TOKENS) -> None:
        self.backend, self.max_tokens = backend, max_tokens
        self._responses: list[ModelResponse] = []

    async def __call__(self, thinking: str) -> str:
        request = ModelRequest(messages=[UserMessage(summary_prompt(thinking))], max_tokens=self.max_tokens,
                               tool_choice="none")
        response: ModelResponse | None = None
        async for event in self.backend.stream(request):
            if isinstance(event, ModelResponse):
                response = event
        if response is None:
            return ""
        self._responses.append(response)
        return response.turn.text.strip()

    def take_responses(self) -> list[ModelResponse]:
        """The responses since the last call, each once."""
        taken, self._responses = self._responses, []
        return taken


def backend_summarizer(backend: Backend, *, max_tokens: int = SUMMARY_MAX_TOKENS) -> BackendSummarizer:
    """A ``BackendSummarizer`` over ``backend``: the default summarizer of earlier thoughts."""
    return BackendSummarizer(backend, max_tokens=max_tokens)


__all__ = ["SUMMARY_MAX_TOKENS", "BackendSummarizer", "backend_summarizer", "summary_prompt"]
