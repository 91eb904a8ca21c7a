"""Running commands and Python in the sandbox, starting at the root.

A command's outcome stays typed: ``exit_code``, ``timed_out``, ``oom_killed``, ``truncated`` and
``duration`` go in ``ToolReturn.metadata``. A timeout or a non-zero exit is an error result the
model reads and acts on, not an exception.
"""

from __future__ import annotations

import shlex
from typing import Annotated

from pydantic import Field

from m1agent.sandbox import CommandResult
from m1agent.tool import ToolReturn

from .repo import SandboxRepo

MAX_TIMEOUT = 600.0
Seconds = Annotated[float, Field(gt=0, le=MAX_TIMEOUT)]


def format_result(result: CommandResult, timeout: float) -> ToolReturn:
    """A command's outcome: what happened in words for the model, and as fields in ``metadata``."""
    lines = []
    if result.timed_out:
        lines.append(f"timed out after {timeout:g} s; the command and everything it started were killed")
    elif result.oom_killed:
        lines.append(result.note or "killed: out of memory")
    lines.append(f"exit code: {result.exit_code}")
    if result.note and not (result.oom_killed and not result.timed_out):
        lines.append(f"note: {result.note}")
    for label, text, size in (
        ("stdout", result.stdout, result.stdout_bytes),
        ("stderr", result.stderr, result.stderr_bytes),
    ):
        if text:
            shown = len(text.encode())
            extra = f" ({size} bytes in all; middle left out)" if size > shown else ""
            lines.append(f"--- {label}{extra} ---\n{text.rstrip()}")
    if not result.stdout and not result.stderr:
        lines.append("(no output)")
    metadata = {
        "exit_code": result.exit_code,
        "timed_out": result.timed_out,
        "oom_killed": result.oom_killed,
        "truncated": result.truncated,
        "duration": round(result.duration, 3),
    }
    failed = result.exit_code != 0 or result.timed_out or result.oom_killed
    return ToolReturn("\n".join(lines), is_error=failed, metadata=metadata)


async def run_shell(repo: SandboxRepo, command: str, timeout: Seconds = 120, stdin: str | None = None) -> ToolReturn:
    """Run a bash command in the sandbox, from the root (no network). Each call is a fresh shell:
    cd and variables do not carry over, and background processes end with the command. Use it to
    run tests, linters and builds. Returns the exit code and output (long output keeps its start
    and end); a command that runs past its timeout is killed and says so.

    Args:
        command: The bash command line.
        timeout: Seconds before it is killed.
        stdin: Text for the command's standard input.
    """
    result = await repo.sandbox.run(f"cd {shlex.quote(repo.root)} && {command}", timeout=timeout, stdin=stdin)
    return format_result(result, timeout)


async def run_python(repo: SandboxRepo, code: str, timeout: Seconds = 120) -> ToolReturn:
    """Run Python code in a persistent interpreter in the sandbox: variables, imports and functions
    stay for later calls, like notebook cells. It starts in the root. The value of a final
    expression is printed.

    Args:
        code: Python source.
        timeout: Seconds before it is interrupted.
    """
    return format_result(await repo.sandbox.run_python(code, timeout=timeout, cwd=repo.root), timeout)
