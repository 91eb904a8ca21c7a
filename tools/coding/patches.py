"""Unified diffs: parse them and apply their hunks by content, not by line number.

Models get line numbers wrong more often than context, so a hunk is placed where its old lines
are, nearest the line it names; one that fits nowhere fails with the nearest candidate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .edits import EditFailed, nearest

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(slots=True)
class Hunk:
    """One hunk: its header, and its lines with their ``' '``, ``-`` or ``+`` marks."""

    header: str
    old_start: int
    lines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def old(self) -> list[str]:
        return [text for mark, text in self.lines if mark in " -"]

    @property
    def new(self) -> list[str]:
        return [text for mark, text in self.lines if mark in " +"]


@dataclass(slots=True)
class FilePatch:
    """The hunks for one file. ``old_path`` is ``None`` for a new file, ``new_path`` for a deletion."""

    old_path: str | None
    new_path: str | None
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""


def _strip_prefix(name: str) -> str | None:
    name = name.split("\t")[0].strip()
    if name == "/dev/null":
        return None
    return name[2:] if name[:2] in ("a/", "b/") else name


def parse_patch(text: str) -> list[FilePatch]:
    """The files and hunks of a unified diff (``git diff`` output or plain ``diff -u``)."""
    patches: list[FilePatch] = []
    current: FilePatch | None = None
    hunk: Hunk | None = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            current = FilePatch(_strip_prefix(line[4:]), _strip_prefix(lines[i + 1][4:]))
            patches.append(current)
            hunk = None
            i += 2
            continue
        match = _HUNK.match(line)
        if match:
            if current is None:
                raise EditFailed(f"hunk {line!r} comes before any '--- a/path' / '+++ b/path' header")
            hunk = Hunk(line, int(match.group(1)))
            current.hunks.append(hunk)
        elif hunk is not None and line[:1] in (" ", "-", "+"):
            hunk.lines.append((line[0], line[1:]))
        elif hunk is not None and line == "":
            hunk.lines.append((" ", ""))  # an empty context line whose leading space was lost
        i += 1
    if not patches:
        raise EditFailed("no file headers found: a unified diff needs '--- a/path' and '+++ b/path' lines")
    for patch in patches:
        if not patch.hunks and patch.new_path is not None:
            raise EditFailed(f"the diff for {patch.path} has no hunks ('@@ -l,n +l,n @@' lines)")
    return patches


def _find(lines: list[str], block: list[str], hint: int, loose: bool) -> list[int]:
    def same(a: str, b: str) -> bool:
        return a.rstrip() == b.rstrip() if loose else a == b

    size = len(block)
    found = [
        start for start in range(len(lines) - size + 1)
        if all(same(lines[start + k], block[k]) for k in range(size))
    ]  # fmt: skip
    return sorted(found, key=lambda start: abs(start - hint))


def apply_hunks(text: str | None, patch: FilePatch) -> str | None:
    """The file's new text (``None`` when the patch deletes it), or ``EditFailed`` naming the hunk."""
    path = patch.path
    if patch.new_path is None:
        return None
    lines = [] if text is None else text.split("\n")
    trailing_newline = text is None or text.endswith("\n")
    if text is not None and trailing_newline:
        lines.pop()
    offset = 0
    for number, hunk in enumerate(patch.hunks, 1):
        old = hunk.old
        hint = max(0, hunk.old_start - 1 + offset)
        if not old:
            starts = [min(hint, len(lines))]
        else:
            starts = _find(lines, old, hint, loose=False) or _find(lines, old, hint, loose=True)
        if not starts:
            raise EditFailed(_hunk_missing(lines, hunk, number, path))
        start = starts[0]
        lines[start : start + len(old)] = hunk.new
        offset += len(hunk.new) - len(old)
    return "\n".join(lines) + ("\n" if trailing_newline and lines else "")


def _hunk_missing(lines: list[str], hunk: Hunk, number: int, path: str) -> str:
    wanted = "\n".join(hunk.old)
    message = [
        f"hunk {number} ({hunk.header}) of {path} does not apply: its context and removed lines are not in "
        "the file; nothing was changed."
    ]
    candidates = nearest("\n".join(lines), wanted, limit=1)
    if candidates:
        cand = candidates[0]
        message.append(f"Nearest text at line {cand.line} ({cand.score:.0%} similar):\n{cand.text}")
    message.append("Read the file again and make the hunk's ' ' and '-' lines match it exactly.")
    return "\n".join(message)
