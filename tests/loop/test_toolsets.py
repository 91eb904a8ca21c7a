"""Toolsets are entered for the run and listed before every turn; names are namespaced and unique."""

from __future__ import annotations

from collections.abc import Sequence

from loop_helpers import answer, call

from m1agent import Agent, tool
from m1agent.backends.replay import Replay
from m1agent.function_tool import FunctionTool
from m1agent.messages import ToolResultMessage
from m1agent.tool import Tool


class Drawer:
    """A toolset whose tools change between turns, like an MCP server whose tool list changed."""

    namespace = "drawer"

    def __init__(self) -> None:
        self.entered = self.exited = 0
        self.listed = 0

        def open_drawer() -> str:
            """Open the drawer."""
            return "opened"

        def search(term: str) -> str:
            """Search inside the drawer."""
            return f"found {term}"

        self._open = FunctionTool(open_drawer, name="open")
        self._search = FunctionTool(search)

    async def __aenter__(self) -> Drawer:
        self.entered += 1
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.exited += 1

    async def list_tools(self) -> Sequence[Tool]:
        self.listed += 1
        return [self._open] if self.listed <= 2 else [self._open, self._search]


@tool
def search(term: str) -> str:
    """Search the web."""
    return f"web: {term}"


async def test_toolset_entered_listed_every_turn_and_namespaced() -> None:
    drawer = Drawer()
    backend = Replay.from_outputs([call("drawer_search", term="keys"), call("drawer_search", term="keys"),
                                   call("search", term="keys"), answer("found")])
    agent = Agent(backend, tools=[search, drawer])
    result = await agent.run("find my keys")
    assert result.stop_reason == "completed"
    assert (drawer.entered, drawer.exited) == (1, 1)
    assert drawer.listed == 5  # once on entering, then before each of the four turns
    contents = [m.content for m in result.messages if isinstance(m, ToolResultMessage)]
    assert contents[0].startswith("[drawer_search] error: Unknown tool 'drawer_search'")  # not listed yet
    assert contents[1:] == ["[drawer_search] found keys", "[search] web: keys"]


async def test_colliding_names_are_made_unique() -> None:
    class Twin:
        namespace = ""

        async def __aenter__(self) -> Twin:
            return self

        async def __aexit__(self, *exc_info: object) -> None:
            pass

        async def list_tools(self) -> Sequence[Tool]:
            def search(term: str) -> str:
                """Another search."""
                return f"twin: {term}"

            return [FunctionTool(search)]

    backend = Replay.from_outputs([call("search_2", term="x"), answer("ok")])
    result = await Agent(backend, tools=[search, Twin()]).run("go")
    contents = [m.content for m in result.messages if isinstance(m, ToolResultMessage)]
    assert contents == ["[search_2] twin: x"]
