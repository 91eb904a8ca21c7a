"""Repository context: pack a repository into M1's window, and keep the conversation within bounds.

``pack_repository`` selects, ranks, fits and renders files under an exact token budget;
``Compactor`` shrinks a conversation that nears the limit, lossless steps first.
"""

from m1agent.context.budget import available_budget
from m1agent.context.compaction import CompactionPolicy, CompactionResult, Compactor
from m1agent.context.layout import pack_messages
from m1agent.context.ledger import Ledger, LedgerEntry
from m1agent.context.pack import DEFAULT_CAP, PackOptions, PackResult, pack_repository

__all__ = [
    "DEFAULT_CAP",
    "CompactionPolicy",
    "CompactionResult",
    "Compactor",
    "Ledger",
    "LedgerEntry",
    "PackOptions",
    "PackResult",
    "available_budget",
    "pack_messages",
    "pack_repository",
]
