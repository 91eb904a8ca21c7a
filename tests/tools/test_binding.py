"""Binding a value to a tool's parameter, hidden from the model: how the built-in tools are made."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Annotated

import pytest
from pydantic import Field

from m1agent.errors import ModelRetry, ToolArgumentsInvalid
from m1agent.function_tool import FunctionTool, parse_docstring, tool
from m1agent.tool import RunContext

CTX: RunContext[None] = RunContext(deps=None)


class Missing(Exception):
    """A note that is not there: something the model can act on."""


@dataclass
class Notes:
    """Not a JSON type: only a bound parameter may have it."""

    items: dict[str, str] = field(default_factory=dict)


async def read_note(store: Notes, title: str, limit: Annotated[int, Field(ge=1)] = 100) -> str:
    """Read one note.

    Args:
        title: The note's title.
        limit: Characters to show.
    """
    if title == "retry":
        raise ModelRetry("ask again")
    if title not in store.items:
        raise Missing(f"no note called {title!r}; the notes are {sorted(store.items)}")
    return store.items[title][:limit]


async def test_bound_parameters_are_hidden_and_filled_in() -> None:
    home, work = Notes({"a": "at home"}), Notes({"a": "at work"})
    tools = [FunctionTool(read_note, bind={"store": home}), FunctionTool(functools.partial(read_note, work))]
    for one in tools:
        assert one.name == "read_note" and one.description == "Read one note."
        assert set(one.parameters["properties"]) == {"title", "limit"} and one.parameters["required"] == ["title"]
    assert (await tools[0].invoke({"title": "a"}, CTX)).content == "at home"
    assert (await tools[1].invoke({"title": "a", "limit": 4}, CTX)).content == "at w"
    with pytest.raises(ToolArgumentsInvalid, match="store: unknown argument"):
        await tools[0].invoke({"title": "a", "store": {}}, CTX)  # the model cannot set a bound value
    assert await tools[0](title="a") == "at home"  # called directly, the bound value is filled in too


async def test_partial_keywords_and_the_decorator_bind_alike() -> None:
    store = Notes({"b": "bee"})
    by_keyword = FunctionTool(functools.partial(read_note, store=store), name="note")
    decorated = tool(bind={"store": store})(read_note)
    for one in (by_keyword, decorated):
        assert "store" not in one.parameters["properties"]
        assert (await one.invoke({"title": "b"}, CTX)).content == "bee"
    assert by_keyword.name == "note"


async def test_positional_only_parameters_can_be_bound() -> None:
    def scale(factor: float, /, value: float) -> float:
        """Scale a value.

        Args:
            value: The value.
        """
        return factor * value

    doubled = FunctionTool(functools.partial(scale, 2.0))
    assert list(doubled.parameters["properties"]) == ["value"]
    assert (await doubled.invoke({"value": 21}, CTX)).content == "42.0"
    assert doubled(value=4) == 8.0


def test_binding_a_name_the_function_does_not_take_is_refused() -> None:
    with pytest.raises(TypeError, match=r"bind names \['shelf'\]"):
        FunctionTool(read_note, bind={"store": Notes(), "shelf": 1})
    with pytest.raises(TypeError, match="more positional arguments"):
        FunctionTool(functools.partial(read_note, Notes(), "t", 3, 4))


async def test_expected_failures_come_back_as_error_results() -> None:
    store = Notes({"a": "x"})
    plain = FunctionTool(read_note, bind={"store": store})
    with pytest.raises(Missing):
        await plain.invoke({"title": "zz"}, CTX)
    kind = FunctionTool(read_note, bind={"store": store}, error_results=(Missing, ModelRetry))
    result = await kind.invoke({"title": "zz"}, CTX)
    assert result.is_error and result.content == "no note called 'zz'; the notes are ['a']"
    with pytest.raises(ModelRetry):  # the loop's own signals always pass through
        await kind.invoke({"title": "retry"}, CTX)
    with pytest.raises(ToolArgumentsInvalid):
        await kind.invoke({"title": "a", "limit": 0}, CTX)


def test_wrapped_docstring_lines_read_as_sentences() -> None:
    doc = "Replace a piece of a file: it must\nappear once.\n\nNotes:\n- one\n- two\n\nArgs:\n    a: x"
    assert parse_docstring(doc) == ("Replace a piece of a file: it must appear once.", {"a": "x"})
    assert parse_docstring("First line\nsecond.\n\nAnother paragraph\n- item\n- item")[0] == (
        "First line second.\n\nAnother paragraph\n- item\n- item"
    )
