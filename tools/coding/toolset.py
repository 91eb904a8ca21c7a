"""The tool family over a root in a sandbox: ``coding_tools`` and ``CodingToolset``.

Every tool is a plain function of the root and the model's arguments, made a ``FunctionTool`` with
the root bound (``bind={"repo": ...}``), as users make theirs. Refused paths, failed edits and a
sandbox that cannot do the work come back as error results for the model to act on.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from m1agent.errors import M1AgentError
from m1agent.function_tool import FunctionTool
from m1agent.sandbox import Sandbox

from .edit_tools import apply_patch, edit_file
from .edits import EditFailed
from .file_tools import delete_file, find_files, list_files, read_file, search_files, write_file
from .repo import FILE_OP_SECONDS, SandboxRepo
from .shell_tools import MAX_TIMEOUT, run_python, run_shell

READ_TOOLS = ("read_file", "list_files", "search_files", "find_files")
WRITE_TOOLS = ("write_file", "delete_file", "edit_file", "apply_patch")
COMMAND_TOOLS = ("run_shell", "run_python")

FAMILY: tuple[Callable[..., Any], ...] = (
    read_file, list_files, search_files, find_files, write_file, delete_file, edit_file, apply_patch,
    run_shell, run_python,
)
# The sandbox stops a command at its own timeout, then its watchdog; this bound comes after both.
COMMAND_BOUND = MAX_TIMEOUT + 60
FILE_BOUND = FILE_OP_SECONDS + 30
MAX_RETRIES = 3


def coding_tools(repo: SandboxRepo, *, prefix: str = "", only: Collection[str] | None = None) -> list[FunctionTool]:
    """The family bound to ``repo`` (names optionally prefixed; ``only`` picks some by name)."""
    return [
        FunctionTool(
            fn,
            name=prefix + fn.__name__,
            bind={"repo": repo},
            error_results=(M1AgentError, EditFailed),
            timeout=COMMAND_BOUND if fn.__name__ in COMMAND_TOOLS else FILE_BOUND,
            max_retries=MAX_RETRIES,
        )
        for fn in FAMILY
        if only is None or fn.__name__ in only
    ]


class CodingToolset:
    """The family as a ``Toolset`` over ``sandbox``'s folder ``root`` (the repository's copy).

    The sandbox is the caller's: it is neither started nor closed here, so the working copy
    outlives a run (``/diff`` and ``/apply`` read it afterwards). ``repo.write_guard`` may be set
    before the run.
    """

    def __init__(self, sandbox: Sandbox, root: str = "/work/repo", workdir: str = "/work", prefix: str = "") -> None:
        self.sandbox = sandbox
        self.repo = SandboxRepo(sandbox, root, workdir)
        self.prefix = prefix
        self._tools: list[FunctionTool] = []

    async def __aenter__(self) -> CodingToolset:
        self._tools = coding_tools(self.repo, prefix=self.prefix)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._tools = []

    async def list_tools(self) -> Sequence[FunctionTool]:
        """The tools; empty outside ``async with``."""
        return list(self._tools)
