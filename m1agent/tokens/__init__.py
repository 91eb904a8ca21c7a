"""Counting MiniMax-M1 tokens: exactly from the released BPE merges, through a server, or by estimate.

``load_counter()`` picks the best source available; every counter has ``count(text)``, ``encode(text)``,
``exact`` and ``name``. The tokenizer data is never bundled: it is read at run time from a model directory
(``merges.txt``), ``M1AGENT_TOKENIZER``, the local Hugging Face cache, or a vLLM server.
"""

from m1agent.tokens.approx import ApproxCounter
from m1agent.tokens.base import TokenCounter, TokenizerError
from m1agent.tokens.bpe import BEGIN_OF_DOCUMENT_ID, O200K_PATTERN, SPECIAL_TOKENS, BPECounter
from m1agent.tokens.load import ENV_VAR, HFTokenizerCounter, count_messages, counter_from_path, load_counter
from m1agent.tokens.server import ServerCounter

__all__ = [
    "BEGIN_OF_DOCUMENT_ID",
    "ENV_VAR",
    "O200K_PATTERN",
    "SPECIAL_TOKENS",
    "ApproxCounter",
    "BPECounter",
    "HFTokenizerCounter",
    "ServerCounter",
    "TokenCounter",
    "TokenizerError",
    "count_messages",
    "counter_from_path",
    "load_counter",
]
