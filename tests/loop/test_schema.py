"""Schemas normalized for M1 and tool names made safe."""

from __future__ import annotations

from m1agent.schema import normalize_schema, sanitize_name, unique_name


def test_refs_inlined_keywords_dropped_top_level_object() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Args",
        "type": "object",
        "properties": {
            "title": {"type": "string", "title": "Title"},  # a property named like a keyword stays
            "owner": {"$ref": "#/$defs/Person", "description": "who"},
            "tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}, "examples": [["a"]]},
        },
        "$defs": {"Person": {"type": "object", "title": "Person", "properties": {"name": {"type": "string"}}}},
        "definitions": {"Tag": {"type": "string", "deprecated": True}},
    }
    out = normalize_schema(schema)
    assert out == {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "owner": {"type": "object", "properties": {"name": {"type": "string"}}, "description": "who"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    }
    assert "$defs" in schema  # the input is not modified


def test_recursive_ref_is_cut_and_non_object_wrapped() -> None:
    tree = {"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "properties": {
        "child": {"$ref": "#/$defs/Node"}}}}}
    out = normalize_schema(tree)
    assert out["type"] == "object"
    depth, node = 0, out
    while "child" in node.get("properties", {}):
        node, depth = node["properties"]["child"], depth + 1
    assert 1 <= depth <= 10 and "$ref" not in str(out)
    assert normalize_schema({"type": "string"}) == {
        "type": "object", "properties": {"value": {"type": "string"}}, "required": ["value"]}
    assert normalize_schema(None) == {"type": "object", "properties": {}}
    assert normalize_schema({"properties": {"a": {"type": "integer"}}})["type"] == "object"


def test_names_sanitized_and_unique() -> None:
    assert sanitize_name("git.status / repo") == "git_status_repo"
    assert sanitize_name("x" * 100) == "x" * 64
    assert sanitize_name("!!!") == "tool"
    taken = {"search", "search_2"}
    assert unique_name("search", taken) == "search_3"
    assert unique_name("y" * 80, {"y" * 64}) == "y" * 62 + "_2"
