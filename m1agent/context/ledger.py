"""What a pack holds and why: per file, per directory, and what was dropped or compressed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

FULL, SIGNATURES, HEAD, PATH, DROPPED = "full", "signatures", "head", "path", "dropped"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One file's fate: its level, the exact tokens it costs, its value and the reason."""

    path: str
    level: str
    tokens: int
    value: float
    reason: str
    focus: bool = False
    redacted: tuple[str, ...] = ()
    rank: int = 0


@dataclass(slots=True)
class Ledger:
    """The account of one pack, for the CLI's tree and ``--json``."""

    repo: str
    budget: int
    total_tokens: int = 0
    overhead_tokens: int = 0
    entries: list[LedgerEntry] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    query: str = ""
    commit: str = ""
    exact: bool = True
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def by_level(self, level: str) -> list[LedgerEntry]:
        """Entries at ``level``, in path order."""
        return [e for e in self.entries if e.level == level]

    @property
    def redacted(self) -> list[LedgerEntry]:
        """Files whose secrets were replaced by markers."""
        return [e for e in self.entries if e.redacted]

    def directory_tokens(self) -> dict[str, int]:
        """Tokens per directory, every ancestor included ("" is the root)."""
        totals: dict[str, int] = defaultdict(int)
        for entry in self.entries:
            parts = entry.path.split("/")[:-1]
            totals[""] += entry.tokens
            for depth in range(1, len(parts) + 1):
                totals["/".join(parts[:depth])] += entry.tokens
        return dict(totals)

    def to_json(self) -> dict[str, Any]:
        """Everything, as plain data."""
        return {
            "repo": self.repo,
            "commit": self.commit,
            "query": self.query,
            "budget": self.budget,
            "total_tokens": self.total_tokens,
            "overhead_tokens": self.overhead_tokens,
            "exact": self.exact,
            "counts": {lvl: len(self.by_level(lvl)) for lvl in (FULL, SIGNATURES, HEAD, PATH, DROPPED)},
            "files": [asdict(e) | {"redacted": list(e.redacted)} for e in self.entries],
            "directories": dict(sorted(self.directory_tokens().items())),
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "notes": self.notes,
        }

    def render_tree(self, *, max_files_per_dir: int = 12) -> str:
        """An indented tree of directories and packed files with their tokens and levels."""
        dirs = self.directory_tokens()
        children: dict[str, list[str]] = defaultdict(list)
        for d in dirs:
            if d:
                children[d.rpartition("/")[0]].append(d)
        files: dict[str, list[LedgerEntry]] = defaultdict(list)
        for e in self.entries:
            files[e.path.rpartition("/")[0]].append(e)
        lines = [f"{self.repo}  {self.total_tokens:,} / {self.budget:,} tokens"]

        def walk(d: str, depth: int) -> None:
            pad = "  " * depth
            for sub in sorted(children.get(d, []), key=lambda s: (-dirs[s], s)):
                lines.append(f"{pad}{sub.rpartition('/')[2]}/  {dirs[sub]:,}")
                walk(sub, depth + 1)
            packed = sorted((e for e in files.get(d, []) if e.tokens), key=lambda e: (-e.tokens, e.path))
            for e in packed[:max_files_per_dir]:
                mark = " [focus]" if e.focus else ""
                secret = f" [redacted: {', '.join(e.redacted)}]" if e.redacted else ""
                lines.append(f"{pad}{e.path.rpartition('/')[2]}  {e.tokens:,} {e.level}{mark}{secret}")
            if len(packed) > max_files_per_dir:
                rest = packed[max_files_per_dir:]
                lines.append(f"{pad}… {len(rest)} more files, {sum(e.tokens for e in rest):,} tokens")
            listed = sum(1 for e in files.get(d, []) if not e.tokens and e.level == PATH)
            if listed:
                lines.append(f"{pad}({listed} more by path only)")

        walk("", 1)
        summary = ", ".join(f"{len(self.by_level(lvl))} {lvl}" for lvl in (FULL, SIGNATURES, HEAD, PATH, DROPPED))
        lines.append(f"files: {summary}; skipped before reading: {len(self.skipped)}")
        for e in self.redacted:
            lines.append(f"secrets redacted in {e.path}: {', '.join(e.redacted)}")
        dropped = self.by_level(DROPPED)
        for e in dropped[:20]:
            lines.append(f"dropped {e.path}: {e.reason}")
        if len(dropped) > 20:
            lines.append(f"… {len(dropped) - 20} more dropped")
        return "\n".join(lines)
