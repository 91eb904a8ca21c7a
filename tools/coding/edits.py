"""Exact-string replacement that fails precisely: what was not found, where the nearest text is.

Pure functions on text; the tools read and write the files around them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

MAX_CANDIDATES = 3
_MAX_WINDOWS = 20_000


class EditFailed(Exception):
    """The edit did not apply; the message is written for the model to act on."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A block of the file that resembles the text looked for: 1-based first line, score 0..1."""

    line: int
    text: str
    score: float
    whitespace_only: bool = False


def _squash(text: str) -> str:
    return " ".join(text.split())


def line_of(text: str, offset: int) -> int:
    """The 1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


def nearest(text: str, wanted: str, limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """Blocks of ``text`` with as many lines as ``wanted``, most alike first."""
    lines = text.splitlines()
    size = max(1, len(wanted.splitlines()))
    if not lines:
        return []
    squashed = _squash(wanted)
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(wanted)
    scored: list[Candidate] = []
    for start in range(min(len(lines), _MAX_WINDOWS)):
        block = "\n".join(lines[start : start + size])
        if _squash(block) == squashed:
            scored.append(Candidate(start + 1, block, 1.0, whitespace_only=True))
            continue
        matcher.set_seq1(block)
        if matcher.real_quick_ratio() < 0.3 or matcher.quick_ratio() < 0.3:
            continue
        scored.append(Candidate(start + 1, block, matcher.ratio()))
    scored.sort(key=lambda c: (-c.score, c.line))
    chosen: list[Candidate] = []
    for cand in scored:  # overlapping windows say the same thing: keep the best of each place
        if all(abs(cand.line - c.line) >= size for c in chosen):
            chosen.append(cand)
        if len(chosen) == limit:
            break
    return [c for c in chosen if c.score >= 0.4]


def describe_missing(text: str, wanted: str, path: str) -> str:
    """The message for a search text that is not in the file."""
    first = wanted.strip().splitlines()[0] if wanted.strip() else wanted
    message = [f"old_string was not found in {path}; nothing was changed. First line looked for: {first!r}."]
    candidates = nearest(text, wanted)
    if not candidates:
        message.append("Nothing in the file resembles it; read the file again to see its current content.")
        return "\n".join(message)
    for cand in candidates:
        end = cand.line + cand.text.count("\n")
        where = f"line {cand.line}" if end == cand.line else f"lines {cand.line}-{end}"
        if cand.whitespace_only:
            message.append(f"At {where} the same text appears with different whitespace or indentation:")
        else:
            message.append(f"Nearest candidate at {where} ({cand.score:.0%} similar):")
        diff = difflib.unified_diff(
            wanted.splitlines(), cand.text.splitlines(), "old_string", f"{path} {where}", lineterm="", n=1
        )
        message.append("\n".join(list(diff)[2:]) or cand.text)
    message.append("Copy the text exactly as it is in the file (without line-number prefixes) and try again.")
    return "\n".join(message)


def replace_exact(text: str, old: str, new: str, *, path: str, replace_all: bool = False) -> tuple[str, int]:
    """(new text, replacements made), or ``EditFailed`` saying precisely why not."""
    if not old:
        raise EditFailed("old_string is empty; to create a file use write_file, to add text quote a nearby line")
    if old == new:
        raise EditFailed("old_string and new_string are the same; nothing to change")
    if old not in text and "\r\n" in text and "\r\n" not in old:
        old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")  # the file has Windows line ends
    count = text.count(old)
    if count == 0:
        raise EditFailed(describe_missing(text, old, path))
    if count > 1 and not replace_all:
        positions, start = [], text.find(old)
        while start != -1:
            positions.append(line_of(text, start))
            start = text.find(old, start + 1)
        shown = ", ".join(str(p) for p in positions[:20]) + (" …" if len(positions) > 20 else "")
        raise EditFailed(
            f"old_string appears {count} times in {path} (lines {shown}); nothing was changed. Include more "
            "surrounding lines so it matches once, or set replace_all to change every occurrence."
        )
    return text.replace(old, new), count
