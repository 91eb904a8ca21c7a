"""What the code in a sandbox changed in a repository, as a patch the user reviews and applies.

The user's checkout is only ever read: its files are snapshotted on the host when copied in, and
the sandbox's copy is compared against that snapshot, all in memory.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class RepoChanges:
    """The difference between the snapshot and the sandbox's copy. ``patch`` applies with ``git apply``."""

    patch: str
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.modified or self.deleted)

    def write_patch(self, path: str | Path) -> Path:
        """Save the patch (for example next to the checkout) and return its path."""
        target = Path(path)
        target.write_text(self.patch)
        return target


def _text(data: bytes) -> list[str] | None:
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def _file_diff(path: str, old: bytes | None, new: bytes | None) -> str:
    a_name = f"a/{path}" if old is not None else "/dev/null"
    b_name = f"b/{path}" if new is not None else "/dev/null"
    header = f"diff --git a/{path} b/{path}\n"
    if old is None:
        header += "new file mode 100644\n"
    elif new is None:
        header += "deleted file mode 100644\n"
    old_lines, new_lines = _text(old or b""), _text(new or b"")
    if old_lines is None or new_lines is None:
        return header + f"Binary files {a_name} and {b_name} differ\n"
    body = []
    for line in difflib.unified_diff(old_lines, new_lines, a_name, b_name):
        body.append(line)
        if not line.endswith("\n"):
            body.append("\n\\ No newline at end of file\n")
    return header + "".join(body)


def compare(before: Mapping[str, bytes], after: Mapping[str, bytes]) -> RepoChanges:
    """The changes from ``before`` to ``after`` (relative path -> content)."""
    added = sorted(set(after) - set(before))
    deleted = sorted(set(before) - set(after))
    modified = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    parts = [_file_diff(p, before.get(p), after.get(p)) for p in sorted([*added, *deleted, *modified])]
    return RepoChanges(patch="".join(parts), added=added, modified=modified, deleted=deleted)
