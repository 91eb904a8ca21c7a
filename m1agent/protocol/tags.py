"""M1's four structural tags, and how to spot them in output that may stop in the middle of one."""

from __future__ import annotations

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
CALLS_OPEN, CALLS_CLOSE = "<tool_calls>", "</tool_calls>"
TAGS = (THINK_OPEN, THINK_CLOSE, CALLS_OPEN, CALLS_CLOSE)
_TAG_PREFIXES = frozenset(tag[:i] for tag in TAGS for i in range(1, len(tag)))
_LONGEST_TAG = max(len(tag) for tag in TAGS)


def tag_at(data: str, at: int, final: bool) -> str | None:
    """The tag starting at ``data[at]`` ('<'); None if there is none.

    Returns "" when ``data`` ends in what could still be the start of a tag, so more input is needed
    to tell; once the output is ``final`` no more is coming, and such an ending is no tag.
    """
    for tag in TAGS:
        if data.startswith(tag, at):
            return tag
    rest = data[at : at + _LONGEST_TAG]
    if not final and at + len(rest) == len(data) and rest in _TAG_PREFIXES:
        return ""
    return None


def next_tag(data: str, pos: int, final: bool) -> tuple[int, str | None]:
    """Position and name of the next tag (or possible tag prefix, named "") at or after ``pos``.

    ``(-1, None)`` when there is none.
    """
    lt = data.find("<", pos)
    while lt >= 0:
        tag = tag_at(data, lt, final)
        if tag is not None:
            return lt, tag
        lt = data.find("<", lt + 1)
    return -1, None
