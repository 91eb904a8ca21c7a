"""The coding agent, assembled once for ``m1agent code``, ``run``, ``resume`` and ``demo``.

``build_coding_agent`` puts together, from a ``CodingConfig``: the backend, the coding tools over the
sandbox's copy of the repository, ``pack_repo``, the MCP servers, the coding policy (mode and rules,
MCP tools included), the thinking governor, the session store and the instructions (built-in, then
``AGENTS.md`` or ``M1AGENT.md``, then the config's). ``coding_environment`` also starts the sandbox and
keeps it for the whole session, so the working copy outlives each run.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from m1agent.agent import Agent
from m1agent.backends.base import Backend
from m1agent.cli.backend_options import make_backend
from m1agent.cli.config import MODES, CodingConfig, ConfigError, load_config
from m1agent.cli.workspace import Workspace
from m1agent.gate import Approver
from m1agent.limits import Limits
from m1agent.policies.coding import coding_policy
from m1agent.policies.rules.access import normalize_path, path_matches
from m1agent.policy import Policy
from m1agent.pricing import PriceTable
from m1agent.sandbox import Sandbox
from m1agent.sandboxes.config import SandboxConfig
from m1agent.thinking import ThinkingBudget, ThinkingGovernor
from m1agent.tool import Tool, Toolset
from m1agent.tools.coding import CodingToolset
from m1agent.tools.coding.toolset import READ_TOOLS
from m1agent.tools.pack_repo import pack_repo_tool

INSTRUCTION_FILES = ("AGENTS.md", "M1AGENT.md")
MAX_INSTRUCTION_FILE = 40_000

BASE_INSTRUCTIONS = """\
You are a careful software engineer working on a repository. You work on a copy of it inside a \
sandbox (no network); the user reviews your changes as a diff and applies them. Paths are relative \
to the repository root, and commands start there.
- Look before you change: list, search and read the relevant files first.
- Change files with edit_file (exact text replacement) or apply_patch (unified diff); use \
write_file for new files.
- Run the tests before and after a change, and fix what you broke.
- Change as little as needed. End with a short summary of what you changed and why."""


def project_instructions(repo: Path) -> tuple[str, str]:
    """(file name, text) of the repository's AGENTS.md or M1AGENT.md; ("", "") when neither exists."""
    for name in INSTRUCTION_FILES:
        path = repo / name
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            if len(text) > MAX_INSTRUCTION_FILE:
                text = text[:MAX_INSTRUCTION_FILE] + f"\n[… {name} cut at {MAX_INSTRUCTION_FILE} characters]"
            return name, text
    return "", ""


def instructions_for(config: CodingConfig, repo: Path) -> str:
    """The built-in instructions, then the project's file, then the config's own text."""
    parts = [BASE_INSTRUCTIONS]
    name, text = project_instructions(repo)
    if text:
        parts.append(f"The repository's {name} says:\n\n{text.strip()}")
    if config.instructions.strip():
        parts.append(config.instructions.strip())
    return "\n\n".join(parts)


def build_config(
    repo: Path,
    *,
    backend: Mapping[str, Any] | None = None,
    mode: str | None = None,
    sessions: Path | None = None,
    max_turns: int | None = None,
    image: str | None = None,
    user_file: Path | None = None,
) -> CodingConfig:
    """The config a coding command runs with: the files and the environment, then its flags (``backend``
    is ``backend_overrides(...)``); a flag left ``None`` changes nothing."""
    overrides = {
        "mode": mode,
        "sessions_dir": str(sessions) if sessions else None,
        "backend": dict(backend or {}),
        "budgets": {"max_turns": max_turns},
        "sandbox": {"image": image},
    }  # fmt: skip
    return load_config(repo, overrides=overrides, user_file=user_file)


def sandbox_config(config: CodingConfig) -> SandboxConfig:
    """The sandbox settings of the config over ``SandboxConfig``'s locked-down defaults."""
    s = config.sandbox
    values: dict[str, Any] = {
        "image": s.image, "memory": s.memory, "cpus": s.cpus, "pids_limit": s.pids_limit,
        "work_size": s.work_size, "network": s.network, "runtime": s.runtime,
    }  # fmt: skip
    return SandboxConfig(**{k: v for k, v in values.items() if v not in (None, "")})


def limits_for(config: CodingConfig) -> Limits:
    """The run limits of the config's budgets."""
    b = config.budgets
    return Limits(
        max_turns=b.max_turns, max_tool_calls=b.max_tool_calls, max_tokens=b.max_tokens, max_cost=b.max_cost,
        max_wall_time=b.max_wall_time,
    )


def build_coding_agent(
    config: CodingConfig,
    repo: str | Path,
    *,
    sandbox: Sandbox,
    backend: Backend | None = None,
    approver: Approver | None = None,
    mcp: Any = None,
    extra_tools: Sequence[Tool | Toolset] = (),
    repo_root: str = "/work/repo",
    workdir: str = "/work",
) -> Agent[None]:
    """The coding agent for ``repo`` (the host checkout, only read) working on ``sandbox``'s copy
    of it at ``repo_root`` (``DockerSandbox.open_repo`` puts it there).

    ``backend`` defaults to the config's; ``approver`` answers the policy's questions (without one,
    a call that needs approval ends the run with ``approval_pending``); ``mcp`` is an entered or
    enterable ``MCPToolset`` (its tools go through the same policy: unknown tools count as writes).
    """
    checkout = Path(repo).resolve()
    rules = config.rules
    deny = [*_pack_denied_paths(), *rules.deny_paths]
    toolset = CodingToolset(sandbox, repo_root, workdir)
    toolset.repo.write_guard = lambda path: _refusal(path, deny, rules.allow_paths)
    tools: list[Tool | Toolset] = [toolset, pack_repo_tool(checkout), *extra_tools]
    if mcp is not None:
        tools.append(mcp)
    budget = ThinkingBudget(per_turn=config.budgets.thinking_per_turn, per_run=config.budgets.thinking_per_run)
    resolved = backend if backend is not None else make_backend(config.backend)
    return Agent(
        resolved,
        instructions_for(config, checkout),
        tools=tools,
        policies=coding_policies(config, config.mode),
        limits=limits_for(config),
        approver=approver,
        sessions=config.sessions_path,
        pricing=PriceTable.hosted_m1() if resolved.name == "minimax" else None,
        thinking=ThinkingGovernor(budget),
    )


def coding_policies(config: CodingConfig, mode: str) -> list[Policy]:
    """The policies of an approval mode under the config's rules: at the start, and after ``/mode``."""
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    rules = config.rules
    return [coding_policy(
        mode,  # type: ignore[arg-type,unused-ignore]  # one of MODES, checked above
        allow_commands=rules.allow_commands, deny_commands=rules.deny_commands,
        allow_paths=rules.allow_paths, deny_paths=rules.deny_paths, read_tools=[*READ_TOOLS, *rules.read_tools],
    )]


def _pack_denied_paths() -> list[str]:
    from m1agent.policies.pack import load_pack

    paths = load_pack("coding").manifest.get("paths", {})
    return list(paths.get("deny", ()))


def _refusal(path: str, deny: Sequence[str], allow: Sequence[str]) -> str | None:
    normalized = normalize_path(path)
    if normalized is None:
        return f"`{path}` is outside the repository"
    hit = path_matches(normalized, deny)
    if hit is not None:
        return f"`{path}` is off limits (rule `{hit}`); do not touch it"
    if allow and path_matches(normalized, allow) is None:
        return f"`{path}` is not among the paths this session may change ({', '.join(allow)})"
    return None


@dataclass
class CodingEnvironment:
    """The coding agent and what it works in: its sandbox, the workspace (``/diff`` ``/apply`` ``/undo``)
    and the MCP servers, kept open until the ``coding_environment`` block ends. It outlives every run
    and every conversation in it (a ``TerminalSession`` holds one)."""

    agent: Agent[None]
    sandbox: Any  # a started DockerSandbox with the repository copied in
    workspace: Workspace
    config: CodingConfig
    repo: Path
    mcp: Any = None  # the entered MCPToolset, or None without servers


@contextlib.asynccontextmanager
async def coding_environment(
    config: CodingConfig,
    repo: str | Path,
    *,
    backend: Backend | None = None,
    approver: Approver | None = None,
    client: Any = None,
    extra_tools: Sequence[Tool | Toolset] = (),
) -> AsyncIterator[CodingEnvironment]:
    """Start the sandbox (the repository copied in) and the MCP servers, build the agent, and close
    everything at the end. ``client`` is a Docker client (default: the local engine)."""
    from m1agent.sandboxes.docker_sandbox import DockerSandbox

    checkout = Path(repo).resolve()
    if not checkout.is_dir():
        raise ConfigError(f"{repo} is not a folder", hint="pass the repository's root folder")
    async with contextlib.AsyncExitStack() as stack:
        if backend is None:  # built here, so closed here; a backend passed in is its caller's to close
            backend = make_backend(config.backend)
            stack.push_async_callback(backend.aclose)
        box = DockerSandbox(sandbox_config(config), client=client)
        await stack.enter_async_context(box)
        await box.open_repo(checkout)
        mcp = None
        if config.mcp_servers:
            from m1agent.mcp import MCPToolset

            mcp = await stack.enter_async_context(MCPToolset(config.mcp_servers))
        agent = build_coding_agent(
            config, checkout, sandbox=box, backend=backend, approver=approver, mcp=mcp, extra_tools=extra_tools,
            repo_root=f"{box.config.workdir}/{box.config.repo_dest}", workdir=box.config.workdir,
        )
        yield CodingEnvironment(agent, box, Workspace(box, checkout), config, checkout, mcp)
