"""Hypothesis strategies: OpenAI-format conversations and tools in every shape the renderers take."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

# Text that stresses rendering: quotes, braces, backslashes, surrounding whitespace, CJK, emoji, tags.
_SNIPPETS = ['"', "'", "{", "}", "\\", "\n", "\t", " ", "\u3000", "中文", "é", "😀", "<think>", "</tool_calls>",
             "{''name''}", "ai name=", "\r\n", "\u200b", "null", "None"]
words = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
    st.sampled_from(_SNIPPETS),
)
texts = st.lists(words, max_size=5).map("".join)
names = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), texts,
                         st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)), max_leaves=8)
arguments = st.dictionaries(names, json_values, max_size=3)


def _thinking(thought: str, answer: str) -> str:
    return f"<think>\n{thought}\n</think>\n{answer}"


assistant_text = st.one_of(texts, st.builds(_thinking, texts, texts))


def text_parts(body: st.SearchStrategy[str] = texts) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(body.map(lambda t: {"type": "text", "text": t}), min_size=1, max_size=3)


def _content(body: st.SearchStrategy[str], *, nullable: bool = True) -> st.SearchStrategy[Any]:
    options = [body, text_parts(body)]
    return st.one_of(*options, st.none()) if nullable else st.one_of(*options)


@st.composite
def _call(draw: st.DrawFn, turn: int, index: int) -> dict[str, Any]:
    args = draw(arguments)
    form = draw(st.sampled_from(["json", "json", "compact", "dict", "empty", "null"]))
    raw: Any = {
        "json": json.dumps(args, ensure_ascii=False),
        "compact": json.dumps(args, separators=(",", ":")),
        "dict": args,
        "empty": "",
        "null": None,
    }[form]
    return {"id": f"call_{turn}_{index}", "type": "function", "function": {"name": draw(names), "arguments": raw}}


@st.composite
def _round(draw: st.DrawFn, turn: int) -> list[dict[str, Any]]:
    """A user message, then the assistant: text only, or calls followed by their results."""
    out: list[dict[str, Any]] = [{"role": "user", "content": draw(_content(texts))}]
    calls = draw(st.lists(_call(turn, 0), max_size=3))
    for index, call in enumerate(calls):
        call["id"] = f"call_{turn}_{index}"
    if not calls:
        out.append({"role": "assistant", "content": draw(_content(assistant_text))})
        return out
    assistant: dict[str, Any] = {"role": "assistant", "content": draw(st.one_of(st.none(), assistant_text)),
                                 "tool_calls": calls}
    out.append(assistant)
    for call in calls:
        result: dict[str, Any] = {"role": "tool", "tool_call_id": call["id"], "content": draw(_content(texts))}
        if draw(st.booleans()):
            result["name"] = call["function"]["name"]
        out.append(result)
    if draw(st.booleans()):
        out.append({"role": "assistant", "content": draw(assistant_text)})
    return out


@st.composite
def conversations(draw: st.DrawFn, *, developer: bool = True) -> list[dict[str, Any]]:
    """A system prompt (or none, or a developer message), then one to three rounds."""
    out: list[dict[str, Any]] = []
    first = draw(st.sampled_from(["system", "system", "none", "developer"] if developer else ["system", "none"]))
    if first != "none":
        out.append({"role": first, "content": draw(_content(texts, nullable=False))})
    for turn in range(draw(st.integers(1, 3))):
        out.extend(draw(_round(turn)))
    if developer and draw(st.integers(0, 9)) == 0:  # a late system or developer message
        late = {"role": draw(st.sampled_from(["system", "developer"])), "content": draw(texts)}
        out.insert(draw(st.integers(1, len(out))), late)
    return out


# --- tools -------------------------------------------------------------------------------------------

_schema = st.fixed_dictionaries(
    {"type": st.just("object"), "properties": st.dictionaries(names, st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "integer", "object"])}, optional={"description": texts}), max_size=3)},
    optional={"required": st.lists(names, max_size=2)},
)


@st.composite
def wrapped_tool(draw: st.DrawFn) -> dict[str, Any]:
    """An OpenAI tool as clients send it: keys in any order, optional fields missing, extra keys."""
    function: dict[str, Any] = {"name": draw(names)}
    if draw(st.booleans()):
        function["description"] = draw(st.one_of(texts, st.none()))
    if draw(st.integers(0, 3)):
        function["parameters"] = draw(_schema)
    if draw(st.booleans()):
        function["strict"] = draw(st.booleans())
    keys = draw(st.permutations(list(function)))
    tool: dict[str, Any] = {"function": {key: function[key] for key in keys}}
    if draw(st.integers(0, 3)):
        tool["type"] = "function"
    if draw(st.integers(0, 5)) == 0:
        tool["x-extra"] = draw(json_values)
    if draw(st.integers(0, 7)) == 0:
        tool["defer_loading"] = draw(st.booleans())
    return dict(draw(st.permutations(list(tool.items()))))


bare_tool = wrapped_tool().map(lambda tool: tool["function"])
server_tools = st.one_of(st.none(), st.lists(wrapped_tool(), min_size=1, max_size=3))
any_tools = st.one_of(st.none(), st.lists(st.one_of(wrapped_tool(), bare_tool), max_size=3))
