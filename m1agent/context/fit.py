"""Fit files to a token budget: in rank order, each file at the richest level that fits.

Levels, richest first: the whole file; its signatures (a tree-sitter outline); its first lines (the
head, for a file with no outline or an outline too big); its path. Files are visited best-ranked
first, so a file never gets a richer level at the expense of a better-ranked one:
- breadth first: the best-ranked files get their compact view (outline, else head) while that takes
  at most ``_BREADTH_SHARE`` of the room, so a large top file is present as an outline before any
  low-value file is present whole;
- then depth: in rank order, files are upgraded to whole while they fit, each at most
  ``_WHOLE_SHARE`` of the room (a 30K-token first file does not take the room of the second), and
  never below ``full_floor`` of the best value;
- then the rest of the room goes to compact views further down the ranking.
Estimates choose; exact counts decide: afterwards every block is counted with the M1 counter and the
selection is trimmed (least valuable first) or topped up until the exact total is at most the budget
and, when filling, within a hair of it.
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

_FILL_SLACK = 0.005
_HEAD_MIN_SLACK = 0.01
_MAX_FILL_TRIALS = 400
_GREEDY_AIM = 0.96
# The list of path-only files may take at most this share of the budget; the least valuable go first.
_PATHS_SHARE = 0.25
# Compact views of the best-ranked files may take this much of the room before any file goes whole.
_BREADTH_SHARE = 0.35
# One file may take at most this share of the room whole.
_WHOLE_SHARE = 0.5
# A compact view is at most this share of the room (and at least _COMPACT_MIN tokens): an outline
# bigger than that gives way to the file's head, cut to that size.
_COMPACT_SHARE = 0.06
_COMPACT_MIN = 300
_COMPACT_MAX = 2500
# Whole files are for the best-ranked: below this share of the top value a file is packed whole only
# once every ranked file already has its compact view (a small repository that fits).
WHOLE_FLOOR = 0.25
_CHARS_PER_TOKEN = 3.5


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

    def _compact(self, item: Item, room: int) -> tuple[str, int] | None:
        """The compact level of ``item`` and its estimated cost: outline, else head, else None."""
        cap = min(_COMPACT_MAX, max(_COMPACT_MIN, int(room * _COMPACT_SHARE)))
        outline = self.outline(item)
        if outline is not None and len(outline) / _CHARS_PER_TOKEN + 12 <= cap:
            return SIGNATURES, int(len(outline) / _CHARS_PER_TOKEN) + 12
        text = self.ctx.text(item.path)
        if not text:
            return None
        budget_chars, used, lines = cap * _CHARS_PER_TOKEN, 0, 0
        for line in text.split("\n"):
            if used + len(line) + 1 > budget_chars:
                break
            used += len(line) + 1
            lines += 1
        if lines == 0 or used >= len(text) * 0.9:
            return None  # a head that is nearly the whole file is no compact view
        item.shown_lines = lines
        return HEAD, int(used / _CHARS_PER_TOKEN) + 16

    def _greedy(self) -> None:
        ranked = sorted(self.items, key=lambda i: (-i.value, i.path))
        listed = 0
        for item in ranked:
            listed += paths_line_estimate(item.path)
            if listed > self.budget * _PATHS_SHARE:
                item.level = DROPPED
        room = self.budget - self.overhead - min(listed, int(self.budget * _PATHS_SHARE))
        # Estimates err by several percent either way: aim a little low, and let exact top-up finish.
        room = int(room * _GREEDY_AIM)
        start_room = room
        top = max((i.value for i in self.items), default=0.0)
        cost: dict[str, int] = {}
        candidates = [i for i in ranked if i.level != DROPPED and i.value >= self.ctx.outline_floor * top]
        compact_spent, position = 0, 0
        for position, item in enumerate(candidates):  # noqa: B007 - the loop's end is used below
            view = self._compact(item, start_room)
            if view is None:
                continue
            if compact_spent + view[1] > start_room * _BREADTH_SHARE:
                break
            item.level, cost[item.path] = view
            compact_spent += view[1]
        room -= compact_spent
        floor = max(self.ctx.full_floor, WHOLE_FLOOR) * top
        for item in sorted(candidates, key=lambda i: (not i.focus, -i.value, i.path)):
            if item.value < floor and not item.focus:
                continue
            whole = int(item.estimate * (1.05 if item.focus else 1.0)) + 12
            extra = whole - cost.get(item.path, 0)
            if whole <= start_room * _WHOLE_SHARE and extra <= room:
                item.level, cost[item.path] = FULL, whole
                room -= extra
        for item in candidates[position:]:
            if item.level != PATH:
                continue
            view = self._compact(item, start_room)
            if view is not None and view[1] <= room:
                item.level, cost[item.path] = view
                room -= view[1]
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
            chosen = sorted((i for i in self.items if i.level not in (PATH, DROPPED)), key=lambda i: (i.value, i.path))
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
        """Spend what exact counting left: in rank order, whole files that now fit (below the floor
        only once every file has a compact view), then compact views of path-only files."""
        trials = 0
        top = max((i.value for i in self.items), default=0.0)
        ranked = sorted(self.items, key=lambda i: (-i.value, i.path))
        all_compact = all(i.level != PATH for i in ranked)
        floor = 0.0 if all_compact else max(self.ctx.full_floor, WHOLE_FLOOR) * top
        for level in (FULL, SIGNATURES):
            for item in ranked:
                slack = self.budget - total
                if slack <= self.budget * _FILL_SLACK or trials >= _MAX_FILL_TRIALS:
                    break
                if item.level in (FULL, DROPPED):
                    continue
                if level == FULL and (item.value < floor or item.estimate > slack * 1.25 + item.tokens):
                    continue
                if level == SIGNATURES and item.level != PATH:
                    continue
                view = (FULL, 0) if level == FULL else self._compact(item, self.budget)
                if view is None:
                    continue
                trials += 1
                before, before_lines = item.level, item.shown_lines
                self._set(item, view[0])
                new_total = self.total()
                if new_total <= self.budget:
                    total = new_total
                else:
                    item.shown_lines = before_lines
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
