"""``SandboxToolset``: the built-in tool family (``m1agent.tools.coding``) over a sandbox's work dir.

The tools are the coding agent's own (run_shell, run_python, read_file, write_file, list_files,
search, edits), bound to the work dir instead of a repository's copy. Without a sandbox, the
toolset starts a ``DockerSandbox`` for the run and removes it afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence

from m1agent.tools.coding import SandboxRepo, coding_tools

from m1agent.function_tool import FunctionTool
from m1agent.sandbox import Sandbox

from .config import SandboxConfig
from .docker_sandbox import DockerSandbox


class SandboxToolset:
    """The tool family rooted at the work dir of ``sandbox``, or of one started for the run from
    ``config``. ``prefix`` goes before every tool name."""

    def __init__(self, sandbox: Sandbox | None = None, config: SandboxConfig | None = None, prefix: str = "") -> None:
        self.sandbox = sandbox
        self.config = config or getattr(sandbox, "config", None) or SandboxConfig()
        self.prefix = prefix
        self._owned: DockerSandbox | None = None
        self._tools: list[FunctionTool] = []

    async def __aenter__(self) -> SandboxToolset:
        if self.sandbox is None:
            self._owned = DockerSandbox(self.config)
            await self._owned.start()
            self.sandbox = self._owned
        workdir = self.config.workdir
        self._tools = coding_tools(SandboxRepo(self.sandbox, workdir, workdir), prefix=self.prefix)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._tools = []
        if self._owned is not None:
            await self._owned.close()
            self._owned = None
            self.sandbox = None

    async def list_tools(self) -> Sequence[FunctionTool]:
        """The tools; empty outside ``async with``."""
        return list(self._tools)
