"""Incremental parser for raw M1 output: deltas as soon as they are certain, one linear pass.

The grammar (``parse`` is this parser fed the whole text at once, so both agree by construction):

- Leading whitespace is skipped. If the output then starts with ``<think>``, everything up to the first
  ``</think>`` is thinking; a repeated ``<think>`` inside it is dropped, and ``<tool_calls>`` blocks inside
  it stay in the thinking text and are reported as ``tool_call_in_thinking``, never run. Without the opener
  (hosted style) the whole output is answer.
- In the answer region, ``<tool_calls>`` opens a block and a stray ``</think>`` is dropped. Everything else
  is text. Text is split into segments by the blocks; ``Turn.text`` is the stripped, non-empty segments
  joined with ``"\\n"``, and ``Turn.thinking`` is the thinking stripped.
- Inside a block, each call is a JSON object that may span lines; its end is found by tracking strings,
  escapes and nesting, so ``}``, ``<`` or ``</tool_calls>`` inside a string never end it. Between calls,
  whitespace and ``, [ ] }`` are ignored; any other text up to a line break or ``{`` is reported as
  ``invalid_tool_call_json``. An object is cut short (reported, not run) by a raw line break inside a
  string, by a ``{`` where no value can start (the previous call lost its closing brace), by
  ``</tool_calls>`` outside a string, or by the end of the output. A complete object is judged by
  :func:`m1agent.protocol.calls.read_call` (``arguments`` given as a JSON string are decoded, and a
  call written with Python-style single quotes is repaired).

Delta contract:

- ``"".join(d.text for ThinkingDelta) == turn.thinking`` and the same for ``TextDelta`` and
  ``turn.text``, exactly: whitespace is held back until it is known not to be trailing, and the
  ``"\\n"`` between text segments is sent with the first text of the next segment.
- Text that could still be the start of a tag (``<``, ``</th``, ``<tool_ca``…) is held back, at most
  12 characters; nothing else is.
- Every JSON object in an answer block gets the next ``index`` (invalid ones included, so ids never
  change once sent); its id is ``call_id(turn_index, index)``. ``ToolCallStart`` is sent once, as soon as
  the call's ``"name"`` string is complete. ``ToolCallArgsDelta`` fragments follow it (any fragments
  seen before the name arrive in one piece right after it); joined, they are the raw text of the
  ``"arguments"`` value. Then either one ``ToolCallDone`` (the call to run) or one or more
  ``ProblemFound`` with that ``call_index``. Objects without a name get no ``ToolCallStart``.
"""

from __future__ import annotations

import json
import re

from m1agent.protocol import calls
from m1agent.protocol.types import (
    ParseProblem,
    ProblemFound,
    StreamDelta,
    TextDelta,
    ThinkingDelta,
    ToolCallArgsDelta,
    ToolCallDone,
    ToolCallPart,
    ToolCallStart,
    Turn,
    call_id,
)

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
CALLS_OPEN, CALLS_CLOSE = "<tool_calls>", "</tool_calls>"
_TAGS = (THINK_OPEN, THINK_CLOSE, CALLS_OPEN, CALLS_CLOSE)
_TAG_PREFIXES = frozenset(tag[:i] for tag in _TAGS for i in range(1, len(tag)))
_LONGEST_TAG = max(len(tag) for tag in _TAGS)

_START, _THINK, _TEXT, _BLOCK, _GARBAGE, _OBJECT = range(6)

_NON_SPACE = re.compile(r"\S")
_BLOCK_ITEM = re.compile(r"[^\s,\[\]}]")
_GARBAGE_END = re.compile(r"[\n{<]")
_IN_STRING = re.compile(r'["\\\n]')
_JSON_TOKEN = re.compile(r'[{}\[\]":,<]|[^\s{}\[\]":,<]+')
# After one of these, a value is complete, so a "{" there cannot belong to the same object.
_VALUE_ENDS = frozenset('}]"v')

_ARGS_NONE, _ARGS_IN, _ARGS_DONE = range(3)


class StreamParser:
    """Feed raw M1 output in chunks of any size; get typed deltas, then the same ``Turn`` as ``parse``."""

    def __init__(self, turn_index: int = 0) -> None:
        self.turn_index = turn_index
        self._state = _START
        self._held = ""  # unconsumed input: a possible tag prefix
        self._final = False
        self._flushed = False
        self._out: list[StreamDelta] = []
        # thinking
        self._thinking: list[str] = []
        self._think_started = False
        self._think_ws: list[str] = []  # whitespace held until text follows it (a list: runs can be long)
        self._think_block: list[str] | None = None  # raw text of a <tool_calls> block inside thinking
        # text
        self._text: list[str] = []
        self._text_any = False
        self._segment_started = False
        self._text_ws: list[str] = []
        # calls
        self._calls: list[ToolCallPart] = []
        self._problems: list[ParseProblem] = []
        self._next_index = 0
        self._garbage: list[str] = []
        self._index = 0  # index of the call object being read
        self._args_from = 0  # where the not yet emitted argument text starts in the current input
        self._capture_from = 0
        self._reset_object()

    # --- public API ---------------------------------------------------------------------------

    def feed(self, chunk: str) -> list[StreamDelta]:
        """Consume the next piece of output; return the deltas it made certain."""
        if self._flushed:
            raise RuntimeError("feed() after flush(): this output is already complete")
        out: list[StreamDelta] = []
        self._out = out
        if chunk:
            if self._held:
                chunk = self._held + chunk
                self._held = ""
            self._run(chunk)
        return out

    def flush(self) -> list[StreamDelta]:
        """End of output: release what was held back and report whatever was left open."""
        out: list[StreamDelta] = []
        if self._flushed:
            return out
        self._out = out
        self._final = True
        held, self._held = self._held, ""
        if held:
            self._run(held)
        state = self._state
        if state == _THINK:
            self._end_think_block()
            self._problem(calls.unclosed_think())
        elif state == _GARBAGE:
            self._end_garbage()
            self._problem(calls.unclosed_tool_calls())
        elif state == _OBJECT:
            self._finish_args(None, 0)
            raw = "".join(self._obj_parts)
            self._reset_object_after(calls.truncated_call(raw))
            self._problem(calls.unclosed_tool_calls())
        elif state == _BLOCK:
            self._problem(calls.unclosed_tool_calls())
        self._flushed = True
        return out

    def close(self) -> Turn:
        """Finish (flushing if needed) and return the parsed turn."""
        if not self._flushed:
            self.flush()
        return Turn(
            thinking="".join(self._thinking),
            text="".join(self._text),
            tool_calls=tuple(self._calls),
            problems=tuple(self._problems),
        )

    # --- driver -------------------------------------------------------------------------------

    def _run(self, data: str) -> None:
        pos, end = 0, len(data)
        while pos < end:
            state = self._state
            if state == _THINK:
                pos = self._in_think(data, pos)
            elif state == _OBJECT:
                pos = self._in_object(data, pos)
            elif state == _TEXT:
                pos = self._in_text(data, pos)
            elif state == _BLOCK:
                pos = self._in_block(data, pos)
            elif state == _GARBAGE:
                pos = self._in_garbage(data, pos)
            else:
                pos = self._at_start(data, pos)

    def _hold(self, data: str, at: int) -> int:
        """Keep ``data[at:]`` (a possible tag prefix) for the next chunk; return the end position."""
        self._held = data[at:]
        return len(data)

    def _tag_at(self, data: str, at: int) -> str | None:
        """The tag starting at ``data[at]`` ('<'); "" when more input is needed to tell; None if no tag."""
        for tag in _TAGS:
            if data.startswith(tag, at):
                return tag
        rest = data[at : at + _LONGEST_TAG]
        if not self._final and at + len(rest) == len(data) and rest in _TAG_PREFIXES:
            return ""
        return None

    # --- outside tool blocks ------------------------------------------------------------------

    def _at_start(self, data: str, pos: int) -> int:
        m = _NON_SPACE.search(data, pos)
        if m is None:
            return len(data)  # leading whitespace is stripped whatever follows
        i = m.start()
        if data.startswith(THINK_OPEN, i):
            self._state = _THINK
            return i + len(THINK_OPEN)
        rest = data[i : i + len(THINK_OPEN)]
        if not self._final and i + len(rest) == len(data) and THINK_OPEN.startswith(rest):
            return self._hold(data, i)
        self._state = _TEXT
        return i

    def _next_tag(self, data: str, pos: int) -> tuple[int, str | None]:
        """Position and name of the next tag (or possible tag prefix, named "") at or after ``pos``."""
        lt = data.find("<", pos)
        while lt >= 0:
            tag = self._tag_at(data, lt)
            if tag is not None:
                return lt, tag
            lt = data.find("<", lt + 1)
        return -1, None

    def _in_think(self, data: str, pos: int) -> int:
        lt, tag = self._next_tag(data, pos)
        if lt < 0 or tag is None:
            self._emit_thinking(data[pos:] if pos else data)
            return len(data)
        if lt > pos:
            self._emit_thinking(data[pos:lt])
        if tag == "":
            return self._hold(data, lt)
        if tag == THINK_CLOSE:
            self._end_think_block()
            self._state = _TEXT
        elif tag == THINK_OPEN:
            pass  # a repeated opener is dropped
        elif tag == CALLS_OPEN:
            if self._think_block is None:
                self._think_block = []
            self._emit_thinking(tag)
        elif tag == CALLS_CLOSE:
            self._emit_thinking(tag)
            self._end_think_block()
        return lt + len(tag)

    def _end_think_block(self) -> None:
        if self._think_block is not None:
            raw = "".join(self._think_block)
            self._think_block = None
            self._problem(calls.call_in_thinking(raw))

    def _emit_thinking(self, s: str) -> None:
        if self._think_block is not None:
            self._think_block.append(s)
        body = s.rstrip()
        if not body:
            if self._think_started:
                self._think_ws.append(s)
            return
        if self._think_started:
            piece = "".join(self._think_ws) + body if self._think_ws else body
        else:
            piece = body.lstrip()
            self._think_started = True
        self._think_ws = [s[len(body) :]] if len(body) < len(s) else []
        self._thinking.append(piece)
        self._out.append(ThinkingDelta(piece))

    def _in_text(self, data: str, pos: int) -> int:
        lt, tag = self._next_tag(data, pos)
        if lt < 0 or tag is None:
            self._emit_text(data[pos:] if pos else data)
            return len(data)
        if lt > pos:
            self._emit_text(data[pos:lt])
        if tag == "":
            return self._hold(data, lt)
        if tag == CALLS_OPEN:
            self._segment_started = False
            self._text_ws = []
            self._state = _BLOCK
            return lt + len(tag)
        if tag == THINK_CLOSE:
            return lt + len(tag)  # a stray closer is dropped
        self._emit_text(tag)  # <think> and </tool_calls> are plain text here
        return lt + len(tag)

    def _emit_text(self, s: str) -> None:
        body = s.rstrip()
        if not body:
            if self._segment_started:
                self._text_ws.append(s)
            return
        if self._segment_started:
            piece = "".join(self._text_ws) + body if self._text_ws else body
        else:
            piece = body.lstrip()
            if self._text_any:
                piece = "\n" + piece
            self._segment_started = self._text_any = True
        self._text_ws = [s[len(body) :]] if len(body) < len(s) else []
        self._text.append(piece)
        self._out.append(TextDelta(piece))

    # --- inside a tool block, between calls ---------------------------------------------------

    def _in_block(self, data: str, pos: int) -> int:
        m = _BLOCK_ITEM.search(data, pos)
        if m is None:
            return len(data)
        i = m.start()
        c = data[i]
        if c == "{":
            self._state = _OBJECT
            self._begin_object()
            return i
        if c == "<":
            tag = self._tag_at(data, i)
            if tag == "":
                return self._hold(data, i)
            if tag == CALLS_CLOSE:
                self._state = _TEXT
                return i + len(tag)
            if tag == CALLS_OPEN:
                return i + len(tag)  # a repeated opener is harmless
            self._state = _GARBAGE
            self._garbage.append("<")
            return i + 1
        self._state = _GARBAGE
        return i

    def _in_garbage(self, data: str, pos: int) -> int:
        m = _GARBAGE_END.search(data, pos)
        if m is None:
            self._garbage.append(data[pos:])
            return len(data)
        i = m.start()
        c = data[i]
        if c == "<":
            tag = self._tag_at(data, i)
            if tag == "":
                self._garbage.append(data[pos:i])
                return self._hold(data, i)
            if tag != CALLS_CLOSE:
                self._garbage.append(data[pos : i + 1])
                return i + 1
        self._garbage.append(data[pos:i])
        self._end_garbage()
        self._state = _BLOCK
        return i + 1 if c == "\n" else i

    def _end_garbage(self) -> None:
        raw = "".join(self._garbage).strip()
        self._garbage = []
        if raw:
            self._problem(calls.invalid_json(raw, "it is not a JSON object"))

    # --- inside one call object ---------------------------------------------------------------

    def _reset_object(self) -> None:
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

    def _begin_object(self) -> None:
        self._reset_object()
        self._index = self._next_index
        self._next_index += 1

    def _reset_object_after(self, problem: ParseProblem | None, call: ToolCallPart | None = None) -> None:
        index = self._index
        if call is not None:
            if not self._started:
                self._start_call(call.name)
            self._calls.append(call)
            self._out.append(ToolCallDone(index, call))
        elif problem is not None:
            self._problem(problem, index)
        self._reset_object()

    def _start_call(self, name: str) -> None:
        self._started = True
        self._out.append(ToolCallStart(self._index, call_id(self.turn_index, self._index), name))
        if self._args_pending:
            self._out.append(ToolCallArgsDelta(self._index, "".join(self._args_pending)))
            self._args_pending = []

    def _args_text(self, s: str) -> None:
        if not s:
            return
        if self._started:
            self._out.append(ToolCallArgsDelta(self._index, s))
        else:
            self._args_pending.append(s)

    def _finish_args(self, data: str | None, upto: int) -> None:
        """Emit argument text of ``data`` up to ``upto`` if the arguments value is still open."""
        if self._args == _ARGS_IN and data is not None:
            self._args_text(data[self._args_from : upto])
            self._args_from = upto

    def _complete(self, data: str, obj_from: int, end: int) -> int:
        self._obj_parts.append(data[obj_from:end])
        raw = "".join(self._obj_parts)
        result = calls.read_call(raw, call_id(self.turn_index, self._index))
        if isinstance(result, ToolCallPart):
            self._reset_object_after(None, result)
        else:
            index = self._index
            for problem in result:
                self._problem(problem, index)
            self._reset_object()
        self._state = _BLOCK
        return end

    def _cut(self, data: str, obj_from: int, at: int, why: str) -> int:
        """The object cannot go on at ``data[at]``: report what was read, resume between calls there."""
        self._finish_args(data, at)
        self._obj_parts.append(data[obj_from:at])
        raw = "".join(self._obj_parts).strip()
        self._reset_object_after(calls.invalid_json(raw, why))
        self._state = _BLOCK
        return at

    def _in_object(self, data: str, pos: int) -> int:
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
                tag = self._tag_at(data, j)
                if tag == "":
                    self._finish_args(data, j)
                    self._obj_parts.append(data[obj_from:j])
                    return self._hold(data, j)
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

    # --- problems -----------------------------------------------------------------------------

    def _problem(self, problem: ParseProblem, call_index: int | None = None) -> None:
        self._problems.append(problem)
        self._out.append(ProblemFound(problem, call_index=call_index))
