"""``coding_tools`` and ``CodingToolset``: the coding agent's tools over a sandbox's working copy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from m1agent.sandbox import Sandbox

from . import edit_tools, file_tools, shell_tools
from .base import CodingTool
from .repo import SandboxRepo

READ_TOOLS = ("read_file", "list_files", "search_files", "find_files")
WRITE_TOOLS = ("write_file", "delete_file", "edit_file", "apply_patch")
COMMAND_TOOLS = ("run_shell", "run_python")


def coding_tools(repo: SandboxRepo) -> list[CodingTool]:
    """Every coding tool bound to ``repo``: reads, searches, edits, patches, shell and Python."""
    specs = [*file_tools.SPECS, *edit_tools.SPECS, *shell_tools.SPECS]
    return [CodingTool(name, text, params, handler, repo) for name, text, params, handler in specs]


@dataclass
class CodingToolset:
    """The coding tools as a ``Toolset`` over ``sandbox``'s copy of the repository at ``root``.

    The sandbox is the caller's: it is neither started nor closed here, so the working copy
    outlives a run (``/diff`` and ``/apply`` read it afterwards).
    """

    sandbox: Sandbox
    root: str = "/work/repo"
    workdir: str = "/work"
    repo: SandboxRepo = field(init=False)
    _tools: list[CodingTool] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.repo = SandboxRepo(self.sandbox, self.root, self.workdir)

    async def __aenter__(self) -> CodingToolset:
        self._tools = coding_tools(self.repo)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._tools = []

    async def list_tools(self) -> Sequence[CodingTool]:
        """The tools; empty outside ``async with``."""
        return list(self._tools)
