"""An isolated place to run code: the protocol the core knows. Drivers live in ``sandboxes/``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The outcome of one command. Outputs are capped (head and tail kept); byte counts are whole.

    ``note`` says, in words for the model, anything else that happened (the Python state was reset,
    the process was killed for using too much memory).
    """

    exit_code: int
    stdout: str
    stderr: str
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    timed_out: bool = False
    oom_killed: bool = False
    duration: float = 0.0
    note: str = ""

    @property
    def truncated(self) -> bool:
        """True when part of stdout or stderr was left out."""
        return self.stdout_bytes > len(self.stdout.encode()) or self.stderr_bytes > len(self.stderr.encode())


@runtime_checkable
class Sandbox(Protocol):
    """A long-lived isolated environment for one agent session."""

    async def run(self, cmd: str, timeout: float = 60.0, stdin: str | None = None) -> CommandResult:
        """Run a shell command in the work dir."""
        ...

    async def run_python(self, code: str, timeout: float = 60.0, cwd: str | None = None) -> CommandResult:
        """Run code in a Python REPL whose state lasts between calls; a fresh REPL starts in ``cwd``."""
        ...

    async def run_module(self, source: str, request: Any, timeout: float = 60.0) -> Any:
        """Call ``handle(request)`` of ``source``, a standard-library Python module, inside the
        sandbox, and return its result; both are JSON-ready. The module stays loaded between calls."""
        ...

    async def write_files(self, files: Mapping[str, str | bytes]) -> None:
        """Write files under the work dir (paths relative to it)."""
        ...

    async def read_file(self, path: str) -> bytes:
        """Read one file under the work dir."""
        ...

    async def close(self) -> None:
        """Stop and remove the container and what it owns."""
        ...
