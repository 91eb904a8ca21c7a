"""The coding agent, assembled once for ``m1agent code``, ``run`` and ``demo``.

``build_coding_agent`` puts together, from a ``CodingConfig``: the backend, the coding tools over the
sandbox's copy of the repository, ``pack_repo``, the MCP servers, the coding policy (mode and rules,
MCP tools included), the thinking governor, the session store and the instructions (built-in, then
``AGENTS.md`` or ``M1AGENT.md``, then the config's). ``coding_environment`` also starts the sandbox and
keeps it for the whole session, so the working copy outlives each run.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from m1agent.agent import Agent
from m1agent.backends.base import Backend
from m1agent.cli.config import CodingConfig, ConfigError
from m1agent.cli.workspace import Workspace
from m1agent.gate import Approver
from m1agent.limits import Limits
from m1agent.policies.coding import coding_policy
from m1agent.policies.rules.access import normalize_path, path_matches
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


def make_backend(config: CodingConfig, environ: dict[str, str] | None = None) -> Backend:
    """The backend the config names. Keys come from the variable ``backend.api_key_env`` names."""
    from m1agent.backends import CHINA_HOST, GLOBAL_HOST, VLLM, Completions, MiniMax

    env = dict(os.environ) if environ is None else environ
    settings = config.backend
    kind = settings.resolved_kind
    key = env.get(settings.key_variable) if settings.key_variable else None
    model = settings.model or None
    if kind == "vllm":
        return VLLM(settings.url, model=model, api_key=key, context_window=settings.context_window)
    if kind == "completions":
        return Completions(settings.url, model=model, api_key=key, context_window=settings.context_window)
    if kind == "minimax":
        if not key:
            raise ConfigError(
                f"no M1 backend configured: set {settings.key_variable} for the hosted API, "
                "or give a vLLM server with --base-url (or backend.url in m1agent.toml)",
                hint="run `m1agent doctor` to check the setup",
            )
        host = CHINA_HOST if settings.region == "china" else GLOBAL_HOST
        return MiniMax(key, host=host, model=model or "MiniMax-M1")
    raise ConfigError(f"backend kind {kind!r} cannot be built from the config; pass a backend object")


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
    policy = coding_policy(
        config.mode,  # type: ignore[arg-type,unused-ignore]  # checked against MODES when built
        allow_commands=rules.allow_commands, deny_commands=rules.deny_commands,
        allow_paths=rules.allow_paths, deny_paths=rules.deny_paths, read_tools=[*READ_TOOLS, *rules.read_tools],
    )
    deny = [*_pack_denied_paths(), *rules.deny_paths]
    toolset = CodingToolset(sandbox, repo_root, workdir)
    toolset.repo.write_guard = lambda path: _refusal(path, deny, rules.allow_paths)
    tools: list[Tool | Toolset] = [toolset, pack_repo_tool(checkout), *extra_tools]
    if mcp is not None:
        tools.append(mcp)
    budget = ThinkingBudget(per_turn=config.budgets.thinking_per_turn, per_run=config.budgets.thinking_per_run)
    resolved = backend if backend is not None else make_backend(config)
    return Agent(
        resolved,
        instructions_for(config, checkout),
        tools=tools,
        policies=[policy],
        limits=limits_for(config),
        approver=approver,
        sessions=config.sessions_path,
        pricing=PriceTable.hosted_m1() if resolved.name == "minimax" else None,
        thinking=ThinkingGovernor(budget),
    )


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
    """A running coding session: the agent, its sandbox, the workspace (``/diff`` ``/apply`` ``/undo``)
    and the MCP servers, kept open until the ``coding_environment`` block ends."""

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
    resolved = backend if backend is not None else make_backend(config)
    async with contextlib.AsyncExitStack() as stack:
        box = DockerSandbox(sandbox_config(config), client=client)
        await stack.enter_async_context(box)
        await box.open_repo(checkout)
        mcp = None
        if config.mcp_servers:
            from m1agent.mcp import MCPToolset

            mcp = await stack.enter_async_context(MCPToolset(config.mcp_servers))
        agent = build_coding_agent(
            config, checkout, sandbox=box, backend=resolved, approver=approver, mcp=mcp, extra_tools=extra_tools,
            repo_root=f"{box.config.workdir}/{box.config.repo_dest}", workdir=box.config.workdir,
        )
        yield CodingEnvironment(agent, box, Workspace(box, checkout), config, checkout, mcp)
