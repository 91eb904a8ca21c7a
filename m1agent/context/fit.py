"""Fit files to a token budget: greedy by value per token, in levels, then exact count and trim.

Levels, best first: the whole file, its signatures (a tree-sitter outline), its first lines (only to
use the last scraps of budget), its path. Estimates choose; exact counts decide: after selecting, every
block is counted with the M1 counter and the selection is trimmed (or topped up) until the exact total
is at most the budget and, when filling, within a hair of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from m1agent.context.ledger import DROPPED, FULL, HEAD, PATH, SIGNATURES
from m1agent.context.render import (
    anchored_block,
    file_block,
    head_block,
    line_count,
    outline_block,
    paths_block,
    paths_line_estimate,
)

_OUTLINE_SHARE = 0.2
_FILL_SLACK = 0.005
_HEAD_MIN_SLACK = 0.01
_MAX_FILL_TRIALS = 400
_GREEDY_AIM = 0.96
# The list of path-only files may take at most this share of the budget; the least valuable go first.
_PATHS_SHARE = 0.25


@dataclass(slots=True)
class Item:
    """One text file during fitting."""

    path: str
    value: float
    estimate: int
    focus: bool = False
    level: str = PATH
    outline_ok: bool = True
    tokens: int = 0
    shown_lines: int = 0

    @property
    def density(self) -> float:
        """Value per token, sharpened so that relevance beats mere smallness."""
        return self.value * self.value / max(1, self.estimate)


@dataclass(slots=True)
class FitContext:
    """What fitting needs from the pack: texts, outlines, exact counting."""

    text: Callable[[str], str]
    outline: Callable[[str], str | None]
    count: Callable[[str], int]
    count_many: Callable[[list[str]], list[int]]
    fill: bool
    full_floor: float
    outline_floor: float
    outline_parse_limit: int


class Fitter:
    """Chooses a level per item so the exact pack total stays within ``budget``."""

    def __init__(self, items: list[Item], budget: int, overhead: int, ctx: FitContext) -> None:
        self.items = items
        self.budget = budget
        self.overhead = overhead
        self.ctx = ctx
        self._outlines: dict[str, str | None] = {}
        self._parsed_bytes = 0
        self._paths_memo: int | None = None
        self._items_tokens = 0

    def block(self, item: Item) -> str:
        """The rendered block of ``item`` at its current level ("" at path level)."""
        text = self.ctx.text(item.path)
        if item.level == FULL:
            return anchored_block(item.path, text) if item.focus else file_block(item.path, text)
        if item.level == SIGNATURES:
            return outline_block(item.path, self.outline(item, deciding=False) or "", line_count(text))
        if item.level == HEAD:
            return head_block(item.path, text, item.shown_lines)
        return ""

    def outline(self, item: Item, *, deciding: bool = True) -> str | None:
        """The item's signatures outline, or ``None`` when it has none.

        While deciding, files are offered an outline only until ``outline_parse_limit`` bytes were
        offered, in a deterministic order, so the choice never depends on what the cache holds; an
        item already at signatures level always gets its outline.
        """
        if item.path in self._outlines:
            return self._outlines[item.path]
        if not item.outline_ok or (deciding and self._parsed_bytes > self.ctx.outline_parse_limit):
            return None
        self._parsed_bytes += item.estimate * 4
        self._outlines[item.path] = self.ctx.outline(item.path) or None
        return self._outlines[item.path]

    def _set(self, item: Item, level: str) -> None:
        if level == PATH and item.level != PATH:
            self._paths_memo = None  # the paths block grows: the memo would undercount
        item.level = level
        block = self.block(item)
        self._items_tokens -= item.tokens
        item.tokens = self.ctx.count(block) if block else 0
        self._items_tokens += item.tokens

    def paths_tokens(self) -> int:
        """Exact tokens of the paths block for the items now at path level."""
        block = paths_block(i.path for i in self.items if i.level == PATH)
        return self.ctx.count(block) if block else 0

    def total(self, *, exact: bool = False) -> int:
        """The token total at the current levels: exact, or an upper bound between exact counts.

        The paths block only shrinks while files move up from path level, so its last exact count
        bounds it from above; counting it again on every trial would dominate on large repos.
        """
        if exact or self._paths_memo is None:
            self._paths_memo = self.paths_tokens()
        return self.overhead + self._items_tokens + self._paths_memo

    def run(self) -> int:
        """Select, count, trim and top up; returns the exact total."""
        self._greedy()
        total = self.total()
        if total > self.budget:
            total = self._trim(total)
        if self.ctx.fill:
            for _round in range(3):
                before = total
                total = self._top_up(self.total(exact=True))
                if total == before:
                    break
        return self.total(exact=True)

    def _greedy(self) -> None:
        listed = 0
        for item in sorted(self.items, key=lambda i: (-i.value, i.path)):
            listed += paths_line_estimate(item.path)
            if listed > self.budget * _PATHS_SHARE:
                item.level = DROPPED
        room = self.budget - self.overhead - min(listed, int(self.budget * _PATHS_SHARE))
        # Estimates err by several percent either way: aim a little low, and let exact top-up finish.
        room = int(room * _GREEDY_AIM)
        top = max((i.value for i in self.items), default=0.0)
        for item in sorted(self.items, key=lambda i: (not i.focus, -i.density, i.path)):
            if item.level == DROPPED or (item.value < self.ctx.full_floor * top and not item.focus):
                continue
            cost = int(item.estimate * (1.05 if item.focus else 1.0)) + 12
            if cost <= room:
                item.level = FULL
                room -= cost
        for item in sorted(self.items, key=lambda i: (-i.value, i.path)):
            if item.level != PATH or item.value < self.ctx.outline_floor * top:
                continue
            if int(item.estimate * _OUTLINE_SHARE) + 12 > room:
                continue
            outline = self.outline(item)
            if outline is None:
                continue
            cost = len(outline) // 3 + 12
            if cost <= room:
                item.level = SIGNATURES
                room -= cost
        picked = [i for i in self.items if i.level not in (PATH, DROPPED)]
        for item, tokens in zip(picked, self.ctx.count_many([self.block(i) for i in picked]), strict=True):
            item.tokens = tokens
        self._items_tokens = sum(i.tokens for i in picked)
        self._paths_memo = None

    def _trim(self, total: int) -> int:
        """Demote the least valuable picks in batches until the exact total fits.

        Each batch frees at least the overshoot by the picks' own exact counts (plus what their path
        lines add back), then one exact recount checks it; so a large overshoot costs a few recounts.
        """
        while total > self.budget:
            # Demote the least valuable first, so trimming never costs the files the task is about.
            chosen = sorted(
                (i for i in self.items if i.level not in (PATH, DROPPED)), key=lambda i: (i.value, i.density, i.path)
            )
            if not chosen:
                break
            overshoot = total - self.budget
            freed = 0
            for item in chosen:
                if freed >= overshoot:
                    break
                before = item.tokens
                if item.level == FULL and self.outline(item) is not None:
                    self._set(item, SIGNATURES)
                    if item.tokens >= before:
                        self._set(item, PATH)
                else:
                    self._set(item, PATH)
                freed += before - item.tokens - (paths_line_estimate(item.path) if item.level == PATH else 0)
            total = self.total(exact=True)
        return total

    def _top_up(self, total: int) -> int:
        trials = 0
        for level in (FULL, SIGNATURES):
            for item in sorted(self.items, key=lambda i: (-i.density, i.path)):
                slack = self.budget - total
                if slack <= self.budget * _FILL_SLACK or trials >= _MAX_FILL_TRIALS:
                    break
                if item.level != PATH and not (level == FULL and item.level == SIGNATURES):
                    continue
                if level == FULL and item.estimate > slack * 1.25 + item.tokens:
                    continue
                if level == SIGNATURES and (item.level != PATH or self.outline(item) is None):
                    continue
                trials += 1
                before = item.level
                self._set(item, level)
                new_total = self.total()
                if new_total <= self.budget:
                    total = new_total
                else:
                    self._set(item, before)
        if self.budget - total > self.budget * _HEAD_MIN_SLACK:
            total = self._head_fill(total)
        return total

    def _head_fill(self, total: int) -> int:
        """Spend the last scraps on the first lines of the best file that is not whole."""
        for item in sorted(self.items, key=lambda i: (-i.value, i.path)):
            if item.level in (FULL, HEAD, DROPPED):
                continue
            before = item.level
            lines = self.ctx.text(item.path).count("\n") + 1
            lo, hi, best = 1, lines, 0
            while lo <= hi:
                mid = (lo + hi) // 2
                item.shown_lines = mid
                self._set(item, HEAD)
                if self.total() <= self.budget:
                    best, lo = mid, mid + 1
                else:
                    hi = mid - 1
            if best:
                item.shown_lines = best
                self._set(item, HEAD)
                return self.total(exact=True)
            item.shown_lines = 0
            self._set(item, before)
            return self.total(exact=True)
        return total
