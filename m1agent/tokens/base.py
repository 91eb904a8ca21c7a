"""What every token counter offers, and the error they raise."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from m1agent.errors import M1AgentError


class TokenizerError(M1AgentError):
    """A tokenizer could not be loaded or asked: a bad path, missing files, or a failing server."""

    hint = (
        "point --tokenizer or M1AGENT_TOKENIZER at a model directory holding merges.txt "
        "(e.g. a Hugging Face snapshot of MiniMax-M1)"
    )


@runtime_checkable
class TokenCounter(Protocol):
    """Counts M1 tokens in text.

    ``exact`` is True when the counts are the model's own (local BPE from the released merges, or the
    server's tokenizer); False for the approximation, which over-counts on purpose. Special-token strings
    in the text (``<end_of_sentence>`` ...) count as one token each, as when a server tokenizes a prompt.
    """

    name: str
    exact: bool

    def count(self, text: str) -> int:
        """The number of tokens in ``text``."""
        ...

    def encode(self, text: str) -> list[int]:
        """The token ids of ``text``; raises :class:`TokenizerError` on a counter that is not exact."""
        ...
