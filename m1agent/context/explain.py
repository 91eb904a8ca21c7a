"""Why one file of a pack got its rank and its level, in words (``m1agent pack --explain PATH``)."""

from __future__ import annotations

from m1agent.context.fit import WHOLE_FLOOR
from m1agent.context.ledger import DROPPED, FULL, HEAD, PATH, SIGNATURES, Ledger, LedgerEntry

_LEVEL_WORDS = {
    FULL: "whole",
    SIGNATURES: "outline (signatures only)",
    HEAD: "head (its first lines)",
    PATH: "path only",
    DROPPED: "left out, not even listed by path",
}


def _level_reason(entry: LedgerEntry, top: float, better: list[LedgerEntry], budget: int) -> str:
    if entry.level == FULL:
        return "it fit whole after the files ranked above it had their share"
    below_floor = entry.value < WHOLE_FLOOR * top
    if below_floor:
        why = (
            f"its value {entry.value:.3f} is below the whole-file floor ({WHOLE_FLOOR:.0%} of the top value {top:.3f})"
        )
    else:
        taken = sum(e.tokens for e in better)
        why = f"the {len(better)} better-ranked files took {taken:,} of the {budget:,} tokens"
    if entry.level == SIGNATURES:
        return f"not whole because {why}; its outline fit"
    if entry.level == HEAD:
        return f"not whole because {why}; it has no outline small enough, so its first lines stand in"
    if entry.level == PATH:
        return f"no view of its text: {why}, and no compact view fit in what was left"
    return "the list of path-only files reached its share of the budget, and this file ranks too low to be listed"


def explain(ledger: Ledger, path: str) -> str:
    """A few lines on ``path``: rank, value and its parts, level and why."""
    path = path.strip().removeprefix("./")
    entry = next((e for e in ledger.entries if e.path == path), None)
    if entry is None:
        skipped = dict(ledger.skipped).get(path)
        if skipped:
            return f"{path}: not considered: {skipped}"
        return f"{path}: not a file of this pack (give the path relative to the repository)"
    top = max((e.value for e in ledger.entries), default=0.0)
    better = [e for e in ledger.entries if e.rank < entry.rank]
    parts = entry.reason.split("; ")[0]
    lines = [
        f"{path}: rank {entry.rank} of {len(ledger.entries)}, value {entry.value:.3f} (top {top:.3f})",
        f"  rank from: {parts}",
        f"  level: {_LEVEL_WORDS.get(entry.level, entry.level)}, {entry.tokens:,} tokens"
        + (", in the focus section (with line anchors)" if entry.focus else ""),
        f"  why: {_level_reason(entry, top, better, ledger.budget)}",
    ]
    if entry.redacted:
        lines.append(f"  secrets redacted: {', '.join(entry.redacted)}")
    return "\n".join(lines)
