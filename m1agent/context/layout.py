"""Where a pack goes in the prompt: a stable prefix first, the query-specific part and question last.

System instructions, then the pack (deterministic, query-independent order: a cacheable prefix), then
the focus files with line anchors, then the question with the key rules restated briefly.
"""

from __future__ import annotations

from m1agent.context.pack import PackResult
from m1agent.messages import Message, SystemMessage, UserMessage

PACK_FORMAT = (
    'The repository is packed below as <file path=...> blocks. view="signatures" shows only '
    'signatures (⋮ marks elided lines); view="head" shows only the first lines; <paths> lists files '
    'present by path only. Files in <focus> carry an anchor "N: " every tenth line.'
)
RESTATED_RULES = "Answer from the files above; cite as path:line and quote the line you rely on."


def pack_messages(instructions: str, result: PackResult, question: str) -> list[Message]:
    """The prompt: instructions, the pack, then focus files and the question (rules restated)."""
    closing = f"{result.focus}{question.strip()}\n\n{RESTATED_RULES}"
    return [
        SystemMessage(f"{instructions.strip()}\n\n{PACK_FORMAT}"),
        UserMessage(result.pack),
        UserMessage(closing),
    ]
