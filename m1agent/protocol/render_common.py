"""What every M1 prompt renderer shares: the control strings, the error, and Jinja's value semantics.

The renderers reproduce Jinja templates without running Jinja, so they must treat values the way Jinja
does, failures included: a missing key is *undefined* (prints as nothing, iterates as empty, but fails
when indexed or concatenated), ``None`` prints as ``"None"``, ``+`` is Python's ``+`` and fails on
anything but two strings, and ``tojson`` is transformers' filter, ``json.dumps(x, ensure_ascii=False)``
with the default separators and key order. Getting these exactly right is what makes the output
byte-identical to the template, quirks included, which prefix caching and token accounting rely on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from m1agent.errors import M1AgentError

BEGIN_OF_DOCUMENT = "<begin_of_document>"
BEGIN_OF_SENTENCE = "<beginning_of_sentence>"
END_OF_SENTENCE = "<end_of_sentence>"
END_OF_DOCUMENT = "<end_of_document>"
TURN_END = END_OF_SENTENCE + "\n"
USER_HEADER = BEGIN_OF_SENTENCE + "user name=user\n"
TOOL_RESULT_HEADER = BEGIN_OF_SENTENCE + "tool name=tools\n"
TOOLS_OPEN = BEGIN_OF_SENTENCE + "system tool_setting=tools\nYou are provided with these tools:\n<tools>\n"
TOOLS_INSTRUCTION = (
    "</tools>\n\nIf you need to call tools, please respond with <tool_calls></tool_calls> XML tags, and "
    "provide tool-name and json-object of arguments, following the format below:\n<tool_calls>\n"
)


def system_header(ai_name: str) -> str:
    """``<beginning_of_sentence>system ai_setting=…``: the label differs between the templates."""
    return f"{BEGIN_OF_SENTENCE}system ai_setting={ai_name}\n"


def ai_header(ai_name: str) -> str:
    """The header that opens an assistant turn, and the generation prompt."""
    return f"{BEGIN_OF_SENTENCE}ai name={ai_name}\n"


class PromptRenderError(M1AgentError, ValueError):
    """The messages cannot be rendered: the template (or the server in front of it) would fail on them."""

    hint = "pass OpenAI-format messages: a role, string or text-part content, tool_calls with a function"


class _Undefined:
    """Jinja's undefined value: what a missing key or index reads as."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Undefined"


UNDEFINED: Final = _Undefined()


def item(value: Any, key: Any, where: str) -> Any:
    """``value[key]`` as Jinja reads it: undefined when absent; an error only when ``value`` is undefined.

    Jinja falls back to an attribute of the same name; none of the keys the templates read (role,
    content, text, type, name, tool_calls, function, arguments) is an attribute of a dict, list or str.
    """
    if value is UNDEFINED:
        raise PromptRenderError(f"{where}: the template reads {key!r} of a value that is not there")
    try:
        return value[key]
    except (TypeError, LookupError, AttributeError):
        return UNDEFINED


def text(value: Any) -> str:
    """How Jinja prints a value (``{{ x }}``, ``|trim``, ``~``): undefined is empty, None is ``"None"``."""
    if value is UNDEFINED:
        return ""
    return value if isinstance(value, str) else str(value)


def concat(where: str, *values: Any) -> str:
    """A Jinja ``a + b + …`` chain of strings: Python's ``+``, which fails on anything but strings."""
    for value in values:
        if value is UNDEFINED:
            raise PromptRenderError(f"{where}: the template adds text that is not there")
        if not isinstance(value, str):
            raise PromptRenderError(f"{where}: the template adds a {type(value).__name__} to text, not a string")
    return "".join(values)


def iterate(value: Any, where: str) -> Iterable[Any]:
    """``{% for x in value %}``: undefined iterates as empty, a dict as its keys, a scalar fails."""
    if value is UNDEFINED:
        return ()
    if isinstance(value, str | list | tuple | Mapping):
        return list(value)
    raise PromptRenderError(f"{where}: the template loops over a {type(value).__name__}")


def tojson(value: Any, where: str = "tools") -> str:
    """transformers' ``tojson``: no HTML escaping, no indent, default separators, key order kept."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise PromptRenderError(f"{where}: not JSON-serializable ({error})") from None


def messages_checked(messages: Any) -> list[Mapping[str, Any]]:
    """The messages as a list of objects; an empty or malformed conversation is the caller's error."""
    if not messages:
        raise PromptRenderError("there are no messages to render")
    out = list(messages)
    for index, message in enumerate(out):
        if not isinstance(message, Mapping):
            raise PromptRenderError(f"messages[{index}] must be an object, got {type(message).__name__}")
    return out
