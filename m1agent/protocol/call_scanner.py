"""Reading one call object of a ``<tool_calls>`` block as it streams in, for :class:`StreamParser`.

The object's end is found by tracking strings, escapes and nesting, so ``}``, ``<`` or ``</tool_calls>``
inside a string never end it. While it is read, its ``"name"`` and the raw text of its ``"arguments"``
value are sent as deltas; once it has ended it is judged by :func:`m1agent.protocol.calls.read_call`.
The grammar and the delta contract are documented in :mod:`m1agent.protocol.stream`.
"""

from __future__ import annotations

import json
import re
from typing import TypeAlias

from m1agent.protocol import calls
from m1agent.protocol.tags import CALLS_CLOSE, tag_at
from m1agent.protocol.types import (
    ParseProblem,
    StreamDelta,
    ToolCallArgsDelta,
    ToolCallPart,
    ToolCallStart,
    call_id,
)

_IN_STRING = re.compile(r'["\\\n]')
_JSON_TOKEN = re.compile(r'[{}\[\]":,<]|[^\s{}\[\]":,<]+')
# After one of these, a value is complete, so a "{" there cannot belong to the same object.
_VALUE_ENDS = frozenset('}]"v')

_ARGS_NONE, _ARGS_IN, _ARGS_DONE = range(3)

# How an object ended: the call to run, or every problem that keeps it from running.
Verdict: TypeAlias = ToolCallPart | list[ParseProblem]


class CallObjectScanner:
    """Reads the call objects of one turn, one at a time, from input that arrives in chunks.

    :meth:`begin` starts the next object (numbered from 0, invalid ones included); :meth:`scan` reads
    on and sets :attr:`verdict` once the object has ended.
    """

    def __init__(self, turn_index: int) -> None:
        self.turn_index = turn_index
        self.index = -1  # index of the call object being read; -1 before the first
        self.verdict: Verdict | None = None
        self._out: list[StreamDelta] = []
        self._args_from = 0  # where the not yet emitted argument text starts in the current input
        self._capture_from = 0
        self._reset()

    def _reset(self) -> None:
        self._obj_parts: list[str] = []
        self._depth = 0
        self._in_str = False
        self._escaped = False
        self._last = ""  # the last structural token: one of {}[]":, or "v" for any other value text
        self._key = ""  # the last key read directly in the call object
        self._capture: list[str] | None = None  # text of a key or of the name value being read
        self._capture_is_name = False
        self._name: str | None = None
        self._started = False
        self._args = _ARGS_NONE
        self._args_depth = 0
        self._args_kind = ""
        self._args_pending: list[str] = []

    def begin(self) -> None:
        """Start reading the next object (at its ``{``)."""
        self._reset()
        self.verdict = None
        self.index += 1

    def truncate(self) -> list[ParseProblem]:
        """The output ended inside the object: the problem that reports it (it is never run)."""
        return [calls.truncated_call("".join(self._obj_parts))]

    def scan(self, data: str, pos: int, out: list[StreamDelta], final: bool) -> int:
        """Read the object on from ``data[pos]``, appending its deltas to ``out``; return where reading stopped.

        When the object has ended (complete, or cut short), :attr:`verdict` is set and the position is
        just after it. Otherwise the position is ``len(data)``, or the start of a possible tag that needs
        more input to tell, which the caller holds back and passes again with the next chunk.
        """
        self._out = out
        n = len(data)
        obj_from = pos
        self._args_from = pos
        while pos < n:
            if self._in_str:
                if self._escaped:
                    self._escaped = False
                    pos += 1
                    continue
                m = _IN_STRING.search(data, pos)
                if m is None:
                    pos = n
                    break
                j = m.start()
                c = data[j]
                if c == "\\":
                    if j + 1 < n:
                        pos = j + 2
                    else:
                        self._escaped = True
                        pos = n
                    continue
                if c == "\n":
                    why = "a string in it runs past the end of the line (write line breaks inside strings as \\n)"
                    return self._cut(data, obj_from, j, why)
                pos = j + 1
                self._in_str = False
                self._last = '"'
                if self._capture is not None:
                    self._end_capture(data[self._capture_from : j])
                if self._args == _ARGS_IN and self._args_kind == '"':
                    self._finish_args(data, pos)
                    self._args = _ARGS_DONE
                continue
            m = _JSON_TOKEN.search(data, pos)
            if m is None:
                pos = n
                break
            j = m.start()
            c = data[j]
            if self._depth == 1 and self._last == ":" and self._args == _ARGS_NONE and self._key == "arguments":
                self._args = _ARGS_IN
                self._args_from = j
                self._args_kind = c if c in '{["' else "v"
                self._args_depth = 1
            if c == '"':
                self._in_str = True
                pos = j + 1
                if self._depth == 1 and (
                    self._last in ("{", ",") or (self._last == ":" and self._key == "name" and self._name is None)
                ):
                    self._capture = []
                    self._capture_from = pos
                    self._capture_is_name = self._last == ":"
                continue
            pos = j + 1
            if c == "{" or c == "[":
                if c == "{" and self._depth >= 1 and self._last in _VALUE_ENDS:
                    why = "it was never closed: the next call object starts before its closing brace"
                    return self._cut(data, obj_from, j, why)
                self._depth += 1
                self._last = c
            elif c == "}" or c == "]":
                self._depth -= 1
                self._last = c
                if self._args == _ARGS_IN and self._depth == self._args_depth and self._args_kind in "{[":
                    self._finish_args(data, pos)
                    self._args = _ARGS_DONE
                if self._depth <= 0:
                    self._finish_args(data, j)
                    return self._complete(data, obj_from, pos)
            elif c == ":" or c == ",":
                if c == "," and self._args == _ARGS_IN and self._depth == 1 and self._args_kind == "v":
                    self._finish_args(data, j)
                    self._args = _ARGS_DONE
                self._last = c
            elif c == "<":
                tag = tag_at(data, j, final)
                if tag == "":
                    self._finish_args(data, j)
                    self._obj_parts.append(data[obj_from:j])
                    return j
                if tag == CALLS_CLOSE:
                    return self._cut(data, obj_from, j, "the block ended before the call object was closed")
                self._last = "v"
            else:
                self._last = "v"
                pos = m.end()
        # out of input: keep what was read
        self._finish_args(data, n)
        self._obj_parts.append(data[obj_from:n] if obj_from else data)
        if self._capture is not None:
            self._capture.append(data[self._capture_from : n])
            self._capture_from = 0
        return n

    # --- how an object ends -------------------------------------------------------------------

    def _complete(self, data: str, obj_from: int, end: int) -> int:
        self._obj_parts.append(data[obj_from:end])
        raw = "".join(self._obj_parts)
        verdict = calls.read_call(raw, call_id(self.turn_index, self.index))
        if isinstance(verdict, ToolCallPart) and not self._started:
            self._start_call(verdict.name)
        self.verdict = verdict
        return end

    def _cut(self, data: str, obj_from: int, at: int, why: str) -> int:
        """The object cannot go on at ``data[at]``: judge what was read; the caller resumes there."""
        self._finish_args(data, at)
        self._obj_parts.append(data[obj_from:at])
        raw = "".join(self._obj_parts).strip()
        self.verdict = [calls.invalid_json(raw, why)]
        return at

    # --- deltas sent while the object is read -------------------------------------------------

    def _start_call(self, name: str) -> None:
        self._started = True
        self._out.append(ToolCallStart(self.index, call_id(self.turn_index, self.index), name))
        if self._args_pending:
            self._out.append(ToolCallArgsDelta(self.index, "".join(self._args_pending)))
            self._args_pending = []

    def _args_text(self, s: str) -> None:
        if not s:
            return
        if self._started:
            self._out.append(ToolCallArgsDelta(self.index, s))
        else:
            self._args_pending.append(s)

    def _finish_args(self, data: str, upto: int) -> None:
        """Emit argument text of ``data`` up to ``upto`` if the arguments value is still open."""
        if self._args == _ARGS_IN:
            self._args_text(data[self._args_from : upto])
            self._args_from = upto

    def _end_capture(self, tail: str) -> None:
        assert self._capture is not None
        self._capture.append(tail)
        raw = "".join(self._capture)
        self._capture = None
        try:
            value = json.loads(f'"{raw}"') if "\\" in raw else raw
        except json.JSONDecodeError:
            return
        if self._capture_is_name:
            self._name = value
            if not self._started:
                self._start_call(value)
        else:
            self._key = value
