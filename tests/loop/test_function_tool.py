"""@tool: schemas from hints, constraints and docstrings; validation before any call; context injection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from m1agent import RunContext, tool
from m1agent.errors import ToolArgumentsInvalid
from m1agent.function_tool import parse_docstring


class Point(BaseModel):
    x: float
    y: float


@dataclass
class Deps:
    prefix: str


def test_schema_from_hints_constraints_and_google_docstring() -> None:
    @tool
    def plot(
        ctx: RunContext[Deps],
        label: str,
        points: list[Point],
        size: Annotated[int, Field(ge=1, le=10)] = 3,
        style: Literal["dot", "line"] = "dot",
        note: str = Field("", max_length=20),
    ) -> str:
        """Draw points on a chart.

        Args:
            label: The chart title,
                shown on top.
            points (list): Where to draw.
        """
        return ""

    schema = plot.parameters
    assert plot.description == "Draw points on a chart."
    assert schema["type"] == "object"
    assert set(schema["properties"]) == {"label", "points", "size", "style", "note"}  # no ctx
    assert schema["required"] == ["label", "points"]
    assert schema["properties"]["label"]["description"] == "The chart title, shown on top."
    assert schema["properties"]["size"]["minimum"] == 1 and schema["properties"]["size"]["maximum"] == 10
    assert schema["properties"]["style"]["enum"] == ["dot", "line"]
    assert schema["properties"]["note"]["maxLength"] == 20
    # the nested model's $ref was inlined
    items = schema["properties"]["points"]["items"]
    assert items["properties"]["x"] == {"type": "number"} and "$defs" not in schema
    assert "$ref" not in str(schema) and "'title'" not in str(schema)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("Do.\n\n:param int a: First\n    more.\n:param b: Second.\n:returns: x", {"a": "First more.", "b": "Second."}),
        ("Do.\n\nParameters\n----------\na : int\n    First\n    more.\nb : str\n    Second.\n\nReturns\n-------\nint",
         {"a": "First more.", "b": "Second."}),
        ("Do.\n\nArgs:\n    a (int): First\n        more.\n    b: Second.\n\nReturns:\n    x",
         {"a": "First more.", "b": "Second."}),
    ],
    ids=["sphinx", "numpy", "google"],
)
def test_docstring_styles(doc: str, expected: dict[str, str]) -> None:
    description, params = parse_docstring(doc)
    assert description == "Do."
    assert params == expected


async def test_validation_runs_before_the_function_and_names_every_error() -> None:
    ran: list[int] = []

    @tool
    def count(n: Annotated[int, Field(gt=0)], unit: Literal["a", "b"]) -> str:
        ran.append(n)
        return "ok"

    with pytest.raises(ToolArgumentsInvalid) as err:
        await count.invoke({"n": -1, "unit": "c", "extra": 1}, RunContext(deps=None))
    text = str(err.value)
    assert "n: Input should be greater than 0 (got -1)" in text
    assert "unit: Input should be 'a' or 'b'" in text
    assert "extra: Extra inputs are not permitted" in text
    assert ran == []
    assert (await count.invoke({"n": "2", "unit": "a"}, RunContext(deps=None))).content == "ok"
    assert ran == [2]  # coerced by pydantic before the call


async def test_sync_async_and_context_injection() -> None:
    @tool
    async def greet(ctx: RunContext[Deps], name: str) -> str:
        return f"{ctx.deps.prefix} {name} ({ctx.call_id})"

    @tool(name="shout it!", sequential=True, timeout=2.0, max_retries=5)
    def shout(name: str) -> dict[str, str]:
        return {"said": name.upper()}

    ctx: RunContext[Deps] = RunContext(deps=Deps("hello"), call_id="call_0_0")
    assert (await greet.invoke({"name": "Ann"}, ctx)).content == "hello Ann (call_0_0)"
    out = await shout.invoke({"name": "ann"}, ctx)
    assert out.content == '{"said": "ANN"}'
    assert shout.name == "shout_it" and shout.sequential and shout.timeout == 2.0 and shout.max_retries == 5
    assert shout("x") == {"said": "X"}  # still callable as a function


def test_varargs_are_refused() -> None:
    with pytest.raises(TypeError, match="args"):
        tool(lambda *a: None)
