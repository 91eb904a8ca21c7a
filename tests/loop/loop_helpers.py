"""Raw M1 outputs the scripted model writes in loop tests."""

from __future__ import annotations

import json
from typing import Any


def calls(*pairs: tuple[str, dict[str, Any]], thinking: str = "I will use tools.") -> str:
    """A raw M1 answer calling each ``(name, arguments)`` in one ``<tool_calls>`` block."""
    lines = "\n".join(json.dumps({"name": n, "arguments": a}) for n, a in pairs)
    return f"<think>\n{thinking}\n</think>\n<tool_calls>\n{lines}\n</tool_calls>"


def call(name: str, **arguments: Any) -> str:
    """A raw M1 answer with one call."""
    return calls((name, arguments))


def answer(text: str, thinking: str = "Done.") -> str:
    """A raw M1 final answer."""
    return f"<think>\n{thinking}\n</think>\n{text}"
