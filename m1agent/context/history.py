"""Git recency and churn per path, read from recent history and cached by HEAD commit."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

from m1agent.context.cache import RepoCache

_COMMITS = 300
_HALF_LIFE_DAYS = 60.0


def head_commit(root: Path) -> str:
    """HEAD's commit id, or "" outside git or before the first commit."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "-q", "HEAD"],
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def is_dirty(root: Path) -> bool:
    """True when the work tree differs from HEAD (tracked changes only)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return bool(out.stdout.strip())


def _git_log(root: Path) -> tuple[int, dict[str, tuple[int, int]]]:
    out = subprocess.run(
        ["git", "-C", str(root), "log", f"-n{_COMMITS}", "--no-renames", "--relative",
         "--format=%x00%ct", "--name-only"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    stats: dict[str, tuple[int, int]] = {}
    newest = 0
    for chunk in out.stdout.split("\0")[1:]:
        lines = [line for line in chunk.splitlines() if line]
        if not lines:
            continue
        when = int(lines[0])
        newest = max(newest, when)
        for path in lines[1:]:
            last, count = stats.get(path, (0, 0))
            stats[path] = (max(last, when), count + 1)
    return newest, stats


def history_scores(root: Path, cache: RepoCache, head: str) -> dict[str, float]:
    """0..1 per path: half recency (decaying from HEAD's time), half churn (log-scaled)."""
    if not head:
        return {}
    cached = cache.get("meta", "history")
    if cached is not None and cached[0] == head:
        return dict(cached[1])
    newest, stats = _git_log(root)
    max_count = max((count for _, count in stats.values()), default=1)
    scores: dict[str, float] = {}
    for path, (last, count) in stats.items():
        age_days = max(0.0, (newest - last) / 86400.0)
        recency = 0.5 ** (age_days / _HALF_LIFE_DAYS)
        churn = math.log1p(count) / math.log1p(max_count) if max_count > 0 else 0.0
        scores[path] = 0.5 * recency + 0.5 * churn
    cache.put("meta", "history", (head, scores))
    return scores
