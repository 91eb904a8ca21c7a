"""What vLLM's ``minimax`` tool parser does to M1 output, as documented in the wire-format notes §4.3/§4.5.

Non-streaming: calls inside thinking are dropped; only block lines that start with ``{`` and end with
``}`` are tried; objects need both ``name`` and ``arguments``; arguments are re-serialized; ``content``
is the text before the first block outside thinking, mapped back to the raw text by its last line;
with no call found, ``content`` is the whole output.

Streaming: thinking (tags included) and text pass through as ``content``; each call in a block outside
thinking gives its name first, then its argument text taken straight from the output. With ``defects``
the second generation's documented corruption is reproduced: a call ends at the first delta that ends
in ``}``, even inside a string; argument text from a ``<`` on is diverted into ``content``; and a ``/``
that starts a fragment moves one fragment earlier (``src/app/models.py`` arrives as ``src//appmodels.py``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_BLOCK = re.compile(r"<tool_calls>(.*?)</tool_calls>|<tool_calls>(.*)", re.DOTALL)
_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_NAME = re.compile(r'"name":\s*"([^"]+)"')
_ARGS = re.compile(r'"arguments":\s*')
OPEN, CLOSE = "<tool_calls>", "</tool_calls>"


def extract_non_streaming(output: str) -> tuple[str | None, list[tuple[str, str]]]:
    """``(content, [(name, arguments_json), ...])`` as vLLM returns them without streaming."""
    processed = _THINK.sub(lambda m: "<think>" + re.sub(r"<tool_calls>.*?</tool_calls>", "", m.group(1),
                                                         flags=re.DOTALL) + "</think>", output)
    if OPEN not in processed:
        return output, []
    calls: list[tuple[str, str]] = []
    for match in _BLOCK.finditer(processed):
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        for line in inner.strip().split("\n"):
            line = line.strip()
            if not (line.startswith("{") and line.endswith("}")):
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict) and "name" in obj and "arguments" in obj:
                calls.append((obj["name"], json.dumps(obj["arguments"], ensure_ascii=False)))
    if not calls:
        return output, []
    before = processed[: processed.find(OPEN)].strip()
    content = ""
    for line in reversed(before.split("\n")):
        line = line.strip()
        if line:
            pos = output.find(line)
            if pos != -1:
                content = output[: pos + len(line)]
            break
    return (content.strip() or None), calls


@dataclass(slots=True)
class StreamCall:
    """One call as the streaming parser sends it: its name, and where its argument text lies."""

    name: str
    header_at: int  # the output position after which the name is known
    args: list[tuple[int, int]] = field(default_factory=list)  # spans of the output


@dataclass(slots=True)
class StreamPlan:
    """For every output position: is it ``content``, argument text of a call, or swallowed."""

    content: list[tuple[int, int]]
    calls: list[StreamCall]


def _think_end(output: str) -> int:
    if not output.lstrip().startswith("<think>"):
        return 0
    end = output.find("</think>")
    return len(output) if end < 0 else end + len("</think>")


def _raw_args_span(line: str) -> tuple[int, int] | None:
    """Where the ``arguments`` value of a call line starts and ends (raw text, as written)."""
    match = _ARGS.search(line)
    if match is None:
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        obj = None
    if isinstance(obj, dict) and "arguments" in obj:
        try:
            _value, end = json.JSONDecoder().raw_decode(line, match.end())
            return match.end(), end
        except json.JSONDecodeError:
            pass
    # Not valid JSON: everything after the key, minus the call object's own closing brace.
    end = len(line.rstrip())
    if end > match.end() and line[end - 1] == "}":
        end -= 1
    return match.end(), end


def _early_end(output: str, start: int, end: int, boundaries: frozenset[int]) -> int:
    """Where the second generation ends a call: the first delta boundary after a ``}``, even in a string."""
    for pos in range(start + 1, end):
        if output[pos - 1] == "}" and pos in boundaries:
            return pos
    return end


def plan_stream(output: str, *, defects: bool = False, boundaries: frozenset[int] = frozenset()) -> StreamPlan:
    """Label the output for the streaming parser (see the module docstring).

    ``boundaries`` are the output positions where one streamed delta ends and the next begins.
    """
    content: list[tuple[int, int]] = []
    calls: list[StreamCall] = []
    pos = _think_end(output)
    content.append((0, pos))
    while pos < len(output):
        start = output.find(OPEN, pos)
        if start < 0:
            content.append((pos, len(output)))
            break
        content.append((pos, start))
        inner_start = start + len(OPEN)
        close = output.find(CLOSE, inner_start)
        inner_end = len(output) if close < 0 else close
        line_start = inner_start
        for line in output[inner_start:inner_end].split("\n"):
            name = _NAME.search(line)
            span = _raw_args_span(line) if name else None
            if name and span:
                call = StreamCall(name.group(1), line_start + min(name.end(), span[0]))
                a, b = line_start + span[0], line_start + span[1]
                if defects:
                    b = _early_end(output, a, b, boundaries)
                    lt = output.find("<", a, b)
                    if lt >= 0:
                        content.append((lt, line_start + len(line)))
                        b = lt
                call.args.append((a, b))
                calls.append(call)
            line_start += len(line) + 1
        pos = len(output) if close < 0 else close + len(CLOSE)
    return StreamPlan(sorted((a, b) for a, b in content if b > a), calls)


def take(spans: list[tuple[int, int]], start: int, end: int, text: str) -> str:
    """The characters of ``text`` in ``[start, end)`` that fall inside ``spans``."""
    return "".join(text[max(a, start) : min(b, end)] for a, b in spans if a < end and b > start)


def shift_fragments(fragments: list[str]) -> list[str]:
    """The documented boundary shift: a ``/`` that starts a fragment inside a string moves one fragment
    earlier, so ``"src`` ``/app`` ``/models`` ``.py"`` arrives as ``src//appmodels.py``."""
    out = list(fragments)
    for i in range(1, len(out) - 1):
        if out[i + 1].startswith("/") and '"' not in out[i] and "\\" not in out[i]:
            out[i], out[i + 1] = "/" + out[i], out[i + 1][1:]
    return out
