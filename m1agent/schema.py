"""Tool schemas and names made safe for M1's servers.

vLLM renders the schema into the prompt and the hosted API validates it, so what goes out is plain:
local ``$ref``s inlined, bookkeeping keywords dropped, and ``type: object`` at the top. Tool names are
sanitized to ``[A-Za-z0-9_-]{1,64}`` and made unique. MCP tools go through the same functions.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

MAX_NAME_LENGTH = 64
_NAME_BAD_CHARS = re.compile(r"[^A-Za-z0-9_-]+")

# Keywords that carry no meaning for the model and that some servers reject or choke on.
DROPPED_KEYWORDS = frozenset(
    {
        "$schema", "$id", "$comment", "$anchor", "$dynamicAnchor", "$dynamicRef", "$vocabulary",
        "$defs", "definitions", "title", "discriminator", "readOnly", "writeOnly", "deprecated",
        "contentEncoding", "contentMediaType", "contentSchema", "examples", "unevaluatedProperties",
        "unevaluatedItems", "dependentSchemas", "dependentRequired", "if", "then", "else",
    }
)
# Keywords whose value maps names to schemas: the names are data, not keywords.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties"})
_MAX_REF_DEPTH = 8


def sanitize_name(name: str) -> str:
    """``name`` with every run of characters outside ``[A-Za-z0-9_-]`` turned into ``_``, at most 64 long."""
    cleaned = _NAME_BAD_CHARS.sub("_", name).strip("_") or "tool"
    return cleaned[:MAX_NAME_LENGTH]


def unique_name(name: str, taken: Collection[str]) -> str:
    """A sanitized ``name`` that is not in ``taken``: ``name``, ``name_2``, ``name_3``…"""
    base = sanitize_name(name)
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"_{n}"
        candidate = base[: MAX_NAME_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def normalize_schema(schema: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of ``schema`` fit for M1: refs inlined, dropped keywords gone, ``type: object`` on top.

    A top-level schema that is not an object is wrapped as the single required property ``value``.
    A recursive ``$ref`` is cut off after a few levels and replaced by an unconstrained schema.
    """
    source = dict(schema or {})
    defs: dict[str, Any] = {}
    for key in ("$defs", "definitions"):
        if isinstance(source.get(key), dict):
            defs.update({f"#/{key}/{name}": value for name, value in source[key].items()})
    out = _normalize(source, defs, 0)
    if not isinstance(out, dict):
        out = {}
    if out.get("type") != "object":
        if out and ("type" in out or "anyOf" in out or "oneOf" in out or "enum" in out):
            out = {"type": "object", "properties": {"value": out}, "required": ["value"]}
        else:
            out = {"type": "object", **{k: v for k, v in out.items() if k != "type"}}
    out.setdefault("properties", {})
    return out


def _normalize(node: Any, defs: dict[str, Any], depth: int) -> Any:
    if isinstance(node, list):
        return [_normalize(item, defs, depth) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = defs.get(ref)
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if target is None or depth >= _MAX_REF_DEPTH:
            base: dict[str, Any] = {"description": f"(schema {ref.rsplit('/', 1)[-1]})"} if target else {}
        else:
            base = _normalize(target, defs, depth + 1)
        merged = {**base, **_normalize(siblings, defs, depth)}
        return merged
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROPPED_KEYWORDS:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _normalize(sub, defs, depth) for name, sub in value.items()}
        else:
            out[key] = _normalize(value, defs, depth)
    # pydantic writes Optional[X] as anyOf [X, null]; servers take it, but a lone anyOf is simpler.
    any_of = out.get("anyOf")
    if isinstance(any_of, list) and len(any_of) == 1 and isinstance(any_of[0], dict):
        inner = out.pop("anyOf")[0]
        out = {**inner, **out}
    return out


__all__ = ["DROPPED_KEYWORDS", "MAX_NAME_LENGTH", "normalize_schema", "sanitize_name", "unique_name"]
