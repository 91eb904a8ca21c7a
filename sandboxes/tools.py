"""Tools that let the model use a sandbox: run_shell, run_python, write_file, read_file, list_files.

Results are capped and say in plain words what went wrong ("timed out after 5 s", "killed: out of
memory (limit 512m)"), so the model can act on them. The tools only need the core ``Sandbox``
protocol; ``SandboxToolset`` starts a ``DockerSandbox`` for the run when it is not given one.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from m1agent import tool_args
from m1agent.errors import M1AgentError, ToolArgumentsInvalid
from m1agent.messages import ToolSpec
from m1agent.sandbox import CommandResult, Sandbox
from m1agent.tool import ApprovalRule, RunContext, ToolReturn

from .config import SandboxConfig

MAX_TIMEOUT = 600.0
READ_LIMIT = 100_000  # characters of a file shown to the model

Handler = Callable[[Sandbox, dict[str, Any]], Awaitable[ToolReturn]]


def format_result(result: CommandResult, timeout: float) -> ToolReturn:
    """A command's outcome as the model reads it."""
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
    failed = result.exit_code != 0 or result.timed_out or result.oom_killed
    metadata = {"exit_code": result.exit_code, "timed_out": result.timed_out, "oom_killed": result.oom_killed}
    return ToolReturn("\n".join(lines), is_error=failed, metadata=metadata)


@dataclass(slots=True)
class SandboxTool:
    """One sandbox operation as a ``Tool``."""

    name: str
    description: str
    parameters: dict[str, Any]
    handler: Handler
    sandbox: Sandbox
    sequential: bool = False
    needs_approval: ApprovalRule = False
    timeout: float | None = MAX_TIMEOUT + 30
    max_retries: int = 0

    def spec(self) -> ToolSpec:
        """The tool as the model sees it."""
        return ToolSpec(self.name, self.description, self.parameters)

    async def invoke(self, arguments: dict[str, Any], ctx: RunContext[Any]) -> ToolReturn:
        """Check the arguments and run the operation in the sandbox."""
        try:
            return await self.handler(self.sandbox, arguments)
        except ToolArgumentsInvalid:
            raise
        except M1AgentError as exc:
            return ToolReturn(f"{self.name} failed: {exc}", is_error=True)


async def _run_shell(box: Sandbox, args: dict[str, Any]) -> ToolReturn:
    timeout = tool_args.seconds(args, 60.0, MAX_TIMEOUT)
    stdin = args.get("stdin")
    if stdin is not None and not isinstance(stdin, str):
        raise ToolArgumentsInvalid("stdin must be a string")
    return format_result(await box.run(tool_args.text(args, "command"), timeout=timeout, stdin=stdin), timeout)


async def _run_python(box: Sandbox, args: dict[str, Any]) -> ToolReturn:
    timeout = tool_args.seconds(args, 60.0, MAX_TIMEOUT)
    return format_result(await box.run_python(tool_args.text(args, "code"), timeout=timeout), timeout)


async def _write_file(box: Sandbox, args: dict[str, Any]) -> ToolReturn:
    path, content = tool_args.text(args, "path"), tool_args.text(args, "content")
    await box.write_files({path: content})
    return ToolReturn(f"wrote {len(content.encode())} bytes to {path}")


async def _read_file(box: Sandbox, args: dict[str, Any]) -> ToolReturn:
    path = tool_args.text(args, "path")
    data = await box.read_file(path)
    if b"\x00" in data[:8192]:
        return ToolReturn(f"{path} is a binary file of {len(data)} bytes; inspect it with run_shell")
    text = data.decode("utf-8", "replace")
    if len(text) > READ_LIMIT:
        half = READ_LIMIT // 2
        text = f"{text[:half]}\n[... {len(text) - READ_LIMIT} characters left out ...]\n{text[-half:]}"
    return ToolReturn(text)


async def _list_files(box: Sandbox, args: dict[str, Any]) -> ToolReturn:
    path = tool_args.text(args, "path", ".")
    depth = args.get("depth", 2)
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 10:
        raise ToolArgumentsInvalid("depth must be a whole number from 1 to 10")
    command = (
        f"find {shlex.quote(path)} -mindepth 1 -maxdepth {depth} -not -path '*/.git/*' "
        "-printf '%y %s %P\\n' | sort -k3 | head -n 1000"
    )
    result = await box.run(command, timeout=30)
    if result.exit_code != 0:
        return ToolReturn(f"cannot list {path}: {result.stderr.strip()}", is_error=True)
    entries = []
    for line in result.stdout.splitlines():
        kind, size, name = [*line.split(" ", 2), "", ""][:3]
        entries.append(f"{name}/" if kind == "d" else f"{name} ({size} bytes)")
    return ToolReturn("\n".join(entries) or f"{path} is empty")


_TIMEOUT = {"type": "number", "description": "Seconds before the command is killed (default 60, at most 600)."}

SPECS: list[tuple[str, str, dict[str, Any], Handler]] = [
    (
        "run_shell",
        "Run a bash command in the sandbox's work folder (no network). Each call starts a fresh shell "
        "there: cd and variables do not carry over, and background processes end with the command. "
        "Returns the exit code and the output (long output keeps its start and end).",
        tool_args.schema(
            {
                "command": {"type": "string", "description": "The bash command line."},
                "timeout": _TIMEOUT,
                "stdin": {"type": "string", "description": "Text given to the command's standard input."},
            },
            ["command"],
        ),
        _run_shell,
    ),
    (
        "run_python",
        "Run Python code in a persistent interpreter: variables, imports and functions stay for later "
        "calls, like notebook cells. The value of a final expression is printed.",
        tool_args.schema({"code": {"type": "string", "description": "Python source."}, "timeout": _TIMEOUT}, ["code"]),
        _run_python,
    ),
    (
        "write_file",
        "Create or overwrite a text file in the work folder; missing parent folders are created.",
        tool_args.schema(
            {
                "path": {"type": "string", "description": "Path relative to the work folder."},
                "content": {"type": "string", "description": "The whole new content."},
            },
            ["path", "content"],
        ),
        _write_file,
    ),
    (
        "read_file",
        "Read a text file from the work folder.",
        tool_args.schema({"path": {"type": "string", "description": "Path relative to the work folder."}}, ["path"]),
        _read_file,
    ),
    (
        "list_files",
        "List files and folders under a folder of the sandbox, with sizes.",
        tool_args.schema(
            {
                "path": {"type": "string", "description": "Folder to list (default: the work folder)."},
                "depth": {"type": "integer", "description": "How many levels down (1-10, default 2)."},
            },
            [],
        ),
        _list_files,
    ),
]


def sandbox_tools(sandbox: Sandbox, *, prefix: str = "") -> list[SandboxTool]:
    """The five sandbox tools bound to ``sandbox`` (names optionally prefixed)."""
    return [SandboxTool(prefix + name, text, params, handler, sandbox) for name, text, params, handler in SPECS]


@dataclass
class SandboxToolset:
    """The sandbox tools as a ``Toolset``. Without a ``sandbox``, it starts a Docker one for the run."""

    sandbox: Sandbox | None = None
    config: SandboxConfig | None = None
    prefix: str = ""
    _owned: Any = field(default=None, init=False, repr=False)
    _tools: list[SandboxTool] = field(default_factory=list, init=False, repr=False)

    async def __aenter__(self) -> SandboxToolset:
        if self.sandbox is None:
            from .docker_sandbox import DockerSandbox

            self._owned = DockerSandbox(self.config)
            await self._owned.start()
            self.sandbox = self._owned
        self._tools = sandbox_tools(self.sandbox, prefix=self.prefix)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._tools = []
        if self._owned is not None:
            await self._owned.close()
            self._owned = None
            self.sandbox = None

    async def list_tools(self) -> Sequence[SandboxTool]:
        """The five tools; empty outside ``async with``."""
        return list(self._tools)
