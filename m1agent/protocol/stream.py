"""Incremental parser for raw M1 output: deltas as soon as they are certain, one linear pass.

The grammar (``parse`` is this parser fed the whole text at once, so both agree by construction):

- Leading whitespace is skipped. ``<think>`` opens thinking wherever it appears outside a tool block (at
  the start, as M1 writes it, or after answer text); everything up to the next ``</think>`` is thinking.
  A repeated ``<think>`` inside it is dropped, and ``<tool_calls>`` blocks inside it stay in the thinking
  text and are reported as ``tool_call_in_thinking``, never run: vLLM never runs a call between
  ``<think>`` and ``</think>``, wherever the block starts. Without an opener (hosted style) the whole
  output is answer.
- In the answer region, ``<tool_calls>`` opens a block and a stray ``</think>`` is dropped. Everything else
  is text. Text is split into segments by the blocks (and by thinking blocks); ``Turn.text`` is the
  stripped, non-empty segments joined with ``"\\n"``, and ``Turn.thinking`` is each thinking block
  stripped, joined with ``"\\n"``.
- Inside a block, each call is a JSON object that may span lines; its end is found by tracking strings,
  escapes and nesting, so ``}``, ``<`` or ``</tool_calls>`` inside a string never end it. Between calls,
  whitespace and ``, [ ] }`` are ignored; any other text up to a line break or ``{`` is reported as
  ``invalid_tool_call_json``. An object is cut short (reported, not run) by a raw line break inside a
  string, by a ``{`` where no value can start (the previous call lost its closing brace), by
  ``</tool_calls>`` outside a string, or by the end of the output. Objects are read by
  :class:`m1agent.protocol.call_scanner.CallObjectScanner`; a complete one is judged by
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

import re

from m1agent.protocol import calls
from m1agent.protocol.call_scanner import CallObjectScanner, Verdict
from m1agent.protocol.tags import CALLS_CLOSE, CALLS_OPEN, THINK_CLOSE, THINK_OPEN, next_tag, tag_at
from m1agent.protocol.types import (
    ParseProblem,
    ProblemFound,
    StreamDelta,
    TextDelta,
    ThinkingDelta,
    ToolCallDone,
    ToolCallPart,
    Turn,
)

_START, _THINK, _TEXT, _BLOCK, _GARBAGE, _OBJECT = range(6)

_NON_SPACE = re.compile(r"\S")
_BLOCK_ITEM = re.compile(r"[^\s,\[\]}]")
_GARBAGE_END = re.compile(r"[\n{<]")


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
        self._think_new_block = False  # a later thinking block: its first piece starts a new line
        # text
        self._text: list[str] = []
        self._text_any = False
        self._segment_started = False
        self._text_ws: list[str] = []
        # calls
        self._calls: list[ToolCallPart] = []
        self._problems: list[ParseProblem] = []
        self._garbage: list[str] = []
        self._call_scanner = CallObjectScanner(turn_index)

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
            self._record_call(self._call_scanner.truncate())
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

    def _in_think(self, data: str, pos: int) -> int:
        lt, tag = next_tag(data, pos, self._final)
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
        continuing = self._think_started and not self._think_new_block
        if not body:
            if continuing:
                self._think_ws.append(s)
            return
        if continuing:
            piece = "".join(self._think_ws) + body if self._think_ws else body
        else:
            piece = body.lstrip()
            if self._think_new_block:
                piece = "\n" + piece
            self._think_started, self._think_new_block = True, False
        self._think_ws = [s[len(body) :]] if len(body) < len(s) else []
        self._thinking.append(piece)
        self._out.append(ThinkingDelta(piece))

    def _in_text(self, data: str, pos: int) -> int:
        lt, tag = next_tag(data, pos, self._final)
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
        if tag == THINK_OPEN:  # thinking after answer text: still thinking, and its calls never run
            self._segment_started = False
            self._text_ws = []
            self._think_new_block = self._think_started
            self._state = _THINK
            return lt + len(tag)
        self._emit_text(tag)  # </tool_calls> is plain text here
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
            self._call_scanner.begin()
            return i
        if c == "<":
            tag = tag_at(data, i, self._final)
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
            tag = tag_at(data, i, self._final)
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

    def _in_object(self, data: str, pos: int) -> int:
        scanner = self._call_scanner
        stop = scanner.scan(data, pos, self._out, self._final)
        verdict = scanner.verdict
        if verdict is None:
            return stop if stop == len(data) else self._hold(data, stop)
        self._record_call(verdict)
        self._state = _BLOCK
        return stop

    def _record_call(self, verdict: Verdict) -> None:
        """Put the call object that just ended into the turn: the call to run, or its problems."""
        index = self._call_scanner.index
        if isinstance(verdict, ToolCallPart):
            self._calls.append(verdict)
            self._out.append(ToolCallDone(index, verdict))
        else:
            for problem in verdict:
                self._problem(problem, index)

    # --- problems -----------------------------------------------------------------------------

    def _problem(self, problem: ParseProblem, call_index: int | None = None) -> None:
        self._problems.append(problem)
        self._out.append(ProblemFound(problem, call_index=call_index))
