"""Running commands and Python in the sandbox, starting at the repository root."""

from __future__ import annotations

import json
import shlex
from typing import Any

from m1agent.sandboxes.tools import format_result

from m1agent.errors import ToolArgumentsInvalid
from m1agent.tool import ToolReturn
from m1agent.tool_args import schema, seconds, text

from .repo import SandboxRepo

MAX_TIMEOUT = 600.0
_TIMEOUT = {"type": "number", "description": "Seconds before it is killed (default 120, at most 600)."}


async def run_shell(repo: SandboxRepo, args: dict[str, Any]) -> ToolReturn:
    """A bash command line, run from the repository root."""
    timeout = seconds(args, 120.0, MAX_TIMEOUT)
    stdin = args.get("stdin")
    if stdin is not None and not isinstance(stdin, str):
        raise ToolArgumentsInvalid("stdin must be a string")
    command = f"cd {shlex.quote(repo.root)} && {text(args, 'command')}"
    return format_result(await repo.sandbox.run(command, timeout=timeout, stdin=stdin), timeout)


async def run_python(repo: SandboxRepo, args: dict[str, Any]) -> ToolReturn:
    """A cell in the session's Python interpreter; the first one starts at the repository root."""
    timeout = seconds(args, 120.0, MAX_TIMEOUT)
    code = text(args, "code")
    if not repo.python_ready:
        prelude = f"import os as _m1_os; _m1_os.chdir({json.dumps(repo.root)}); del _m1_os\n"
        result = await repo.sandbox.run_python(prelude, timeout=30)
        if result.exit_code == 0:
            repo.python_ready = True
    return format_result(await repo.sandbox.run_python(code, timeout=timeout), timeout)


SPECS: list[tuple[str, str, dict[str, Any], Any]] = [
    (
        "run_shell",
        "Run a bash command in the sandbox, from the repository root (no network). Each call is a fresh "
        "shell: cd and variables do not carry over. Use it to run tests, linters and builds. Returns the "
        "exit code and output (long output keeps its start and end).",
        schema(
            {
                "command": {"type": "string", "description": "The bash command line."},
                "timeout": _TIMEOUT,
                "stdin": {"type": "string", "description": "Text for the command's standard input."},
            },
            ["command"],
        ),
        run_shell,
    ),
    (
        "run_python",
        "Run Python code in a persistent interpreter in the sandbox (state stays between calls, like "
        "notebook cells), starting in the repository root. The value of a final expression is printed.",
        schema({"code": {"type": "string", "description": "Python source."}, "timeout": _TIMEOUT}, ["code"]),
        run_python,
    ),
]
