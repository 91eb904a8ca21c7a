"""The text of a pack: every part a self-contained block, so block counts add up exactly.

Each block starts with ``<`` and ends with ``>`` plus a newline. M1's pre-tokenizer never merges
across that boundary, so the token count of the whole pack is the sum of its blocks' counts; blocks
are counted once and cached by their hash. Nothing here depends on time or on the query's wording,
so the same repository and settings render byte-identical text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

ANCHOR_EVERY = 10


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _body(text: str) -> str:
    return text[:-1] if text.endswith("\n") else text


def line_count(text: str) -> int:
    """Lines as an editor numbers them (a final newline does not start a line)."""
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def file_block(path: str, text: str) -> str:
    """A whole file."""
    return f'<file path="{_attr(path)}" lines="{line_count(text)}">\n{_body(text)}\n</file>\n'


def outline_block(path: str, outline: str, total_lines: int) -> str:
    """A file's signatures only; ``⋮`` marks elided lines."""
    return f'<file path="{_attr(path)}" lines="{total_lines}" view="signatures">\n{outline}\n</file>\n'


def head_block(path: str, text: str, shown_lines: int) -> str:
    """The first ``shown_lines`` lines of a file that does not fit whole."""
    lines = text.split("\n")
    head = "\n".join(lines[:shown_lines])
    return (
        f'<file path="{_attr(path)}" lines="{line_count(text)}" view="head" shown="{shown_lines}">\n'
        f"{_body(head)}\n</file>\n"
    )


def anchored_block(path: str, text: str) -> str:
    """A focus file with sparse line anchors (``N: `` every tenth line), for citing ``path:line``."""
    lines = _body(text).split("\n")
    numbered = [f"{i + 1}: {line}" if i % ANCHOR_EVERY == 0 else line for i, line in enumerate(lines)]
    body = "\n".join(numbered)
    return f'<file path="{_attr(path)}" lines="{line_count(text)}" anchors="{ANCHOR_EVERY}">\n{body}\n</file>\n'


def pack_open(name: str, commit: str, dirty: bool, budget: int) -> str:
    """The pack header: what repository state this is."""
    state = f' commit="{commit}"' + (' dirty="true"' if dirty else "") if commit else ""
    return f'<pack repo="{_attr(name)}"{state} budget="{budget}">\n'


PACK_CLOSE = "</pack>\n"
FOCUS_OPEN = "<focus>\n"
FOCUS_CLOSE = "</focus>\n"


def paths_block(paths: Iterable[str]) -> str:
    """Files present only by path, one line per directory: ``dir/: a.py b.py``."""
    by_dir: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        head, _, name = path.rpartition("/")
        by_dir[head].append(name)
    if not by_dir:
        return ""
    lines = [f"{d + '/' if d else './'}: {' '.join(sorted(names))}" for d, names in sorted(by_dir.items())]
    return "<paths>\n" + "\n".join(lines) + "\n</paths>\n"


def paths_line_estimate(path: str) -> int:
    """Tokens one path adds to the paths block, roughly (name plus a share of its directory)."""
    name = path.rpartition("/")[2]
    return 1 + max(1, len(name) // 4)
