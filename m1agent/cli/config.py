"""``m1agent.toml``: the coding agent's settings, merged from the user's file, the project's, the
environment and command-line flags (in that order, later wins).

The user's file is ``$M1AGENT_CONFIG_DIR/m1agent.toml`` (default ``~/.config/m1agent/m1agent.toml``);
the project's is ``m1agent.toml`` or ``.m1agent/m1agent.toml`` at the repository root. A project
file comes with the code, so it may tighten approvals but not loosen them: its ``mode`` counts only
when stricter, and its ``allow_commands`` and ``read_tools`` only when the user's file says ``trust_project = true``.
Keys never live in these files; ``api_key_env`` names the variable that holds one.

    mode = "ask"                      # read-only | ask | auto
    [backend]
    kind = "vllm"                     # vllm | completions | minimax (default: from url / key)
    url = "http://gpu-box:8000/v1"    # vLLM; add raw = true for its /v1/completions
    model = "MiniMaxAI/MiniMax-M1-80k"
    region = "global"                 # hosted API: global | china
    api_key_env = "MINIMAX_API_KEY"   # the variable's NAME
    [budgets]
    max_turns = 50
    thinking_per_turn = 40000
    [sandbox]
    image = "m1agent-sandbox:2"
    memory = "1g"
    [rules]
    allow_commands = ["npm test*"]
    deny_paths = ["secrets/*"]
    [mcp_servers.git]
    command = "uvx"
    args = ["mcp-server-git"]
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from m1agent.errors import M1AgentError

USER_FILE = "m1agent.toml"
PROJECT_FILES = ("m1agent.toml", ".m1agent/m1agent.toml")
MODES = ("read-only", "ask", "auto")
_STRICTNESS = {"read-only": 0, "ask": 1, "auto": 2}

ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "M1AGENT_MODE": ("mode",),
    "M1AGENT_BACKEND": ("backend", "kind"),
    "M1AGENT_BASE_URL": ("backend", "url"),
    "M1AGENT_RAW": ("backend", "raw"),
    "M1AGENT_MODEL": ("backend", "model"),
    "M1AGENT_REGION": ("backend", "region"),
    "M1AGENT_SANDBOX_IMAGE": ("sandbox", "image"),
    "M1AGENT_SESSIONS_DIR": ("sessions_dir",),
}


class ConfigError(M1AgentError):
    """A config file or override is malformed; the message names the file and the key."""

    hint = "fix the named key in m1agent.toml (see `m1agent doctor`)"


@dataclass(slots=True)
class BackendSettings:
    """Where M1 runs. ``kind`` empty means: ``url`` given -> vllm (completions when ``raw``), else minimax."""

    kind: str = ""
    url: str = ""
    raw: bool = False
    model: str = ""
    region: str = "global"
    api_key_env: str = ""
    context_window: int | None = None

    @property
    def resolved_kind(self) -> str:
        """``vllm``, ``completions``, ``minimax`` or ``replay``."""
        if self.kind:
            return "completions" if self.kind == "vllm" and self.raw else self.kind
        if self.url:
            return "completions" if self.raw else "vllm"
        return "minimax"

    @property
    def key_variable(self) -> str:
        """The environment variable that holds the key ("" for none)."""
        return self.api_key_env or ("MINIMAX_API_KEY" if self.resolved_kind == "minimax" else "")


@dataclass(slots=True)
class Budgets:
    """Run limits and the thinking budget (tokens); ``None`` means unlimited."""

    max_turns: int | None = 50
    max_tool_calls: int | None = None
    max_tokens: int | None = None
    max_cost: float | None = None
    max_wall_time: float | None = None
    thinking_per_turn: int = 40_000
    thinking_per_run: int | None = None


@dataclass(slots=True)
class SandboxSettings:
    """The Docker sandbox's image and limits (unset ones keep ``SandboxConfig``'s defaults)."""

    image: str = ""
    memory: str = ""
    cpus: float | None = None
    pids_limit: int | None = None
    work_size: str = ""
    network: str = ""
    runtime: str = ""


@dataclass(slots=True)
class Rules:
    """Allow and deny patterns for commands and paths, added to the coding policy's own.

    ``read_tools`` names more tools that only read (MCP tools, by their prefixed names such as
    ``git__git_status``): they run without approval in every mode. Every other MCP tool counts as a
    write, like ``edit_file``: refused in read-only mode, asked about in ask mode.
    """

    allow_commands: list[str] = field(default_factory=list)
    deny_commands: list[str] = field(default_factory=list)
    allow_paths: list[str] = field(default_factory=list)
    deny_paths: list[str] = field(default_factory=list)
    read_tools: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CodingConfig:
    """The merged settings. ``sources`` lists the files read, lowest precedence first."""

    mode: str = "ask"
    backend: BackendSettings = field(default_factory=BackendSettings)
    budgets: Budgets = field(default_factory=Budgets)
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    rules: Rules = field(default_factory=Rules)
    mcp_servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions_dir: str = ""
    instructions: str = ""  # added after the built-in instructions and AGENTS.md
    trust_project: bool = False
    sources: list[str] = field(default_factory=list)

    @property
    def sessions_path(self) -> Path:
        """Where transcripts go: ``sessions_dir``, else ``$XDG_DATA_HOME/m1agent/sessions``."""
        if self.sessions_dir:
            return Path(self.sessions_dir).expanduser()
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "m1agent" / "sessions"


_SECTIONS: dict[str, type] = {
    "backend": BackendSettings, "budgets": Budgets, "sandbox": SandboxSettings, "rules": Rules,
}  # fmt: skip


def user_config_path() -> Path:
    """``$M1AGENT_CONFIG_DIR/m1agent.toml``, else ``$XDG_CONFIG_HOME/m1agent/m1agent.toml``."""
    if os.environ.get("M1AGENT_CONFIG_DIR"):
        return Path(os.environ["M1AGENT_CONFIG_DIR"]) / USER_FILE
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "m1agent" / USER_FILE


def project_config_path(repo: str | Path) -> Path | None:
    """The project's file at the repository root, if there is one."""
    for name in PROJECT_FILES:
        path = Path(repo) / name
        if path.is_file():
            return path
    return None


def read_toml(path: Path) -> dict[str, Any]:
    """One file's table; ``ConfigError`` naming the file when it is not valid TOML."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    _refuse_keys(data, str(path))
    return data


def _refuse_keys(data: Mapping[str, Any], where: str) -> None:
    backend = data.get("backend", {})
    if isinstance(backend, Mapping) and ("api_key" in backend or "key" in backend):
        raise ConfigError(
            f"{where}: an API key must not be written in the config file",
            hint="put it in an environment variable and set backend.api_key_env to that variable's name",
        )


def merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value in ``over`` replaces the one in ``base``."""
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merge(dict(result[key]), value)
        else:
            result[key] = value
    return result


def _tighten_only(user: Mapping[str, Any], project: dict[str, Any]) -> dict[str, Any]:
    """A project's settings without what would loosen the user's approvals."""
    if user.get("trust_project"):
        return project
    project = dict(project)
    project.pop("trust_project", None)
    user_mode = str(user.get("mode", "ask"))
    mode = project.get("mode")
    if mode is not None and _STRICTNESS.get(str(mode), 99) > _STRICTNESS.get(user_mode, 1):
        project.pop("mode")
    rules = project.get("rules")
    if isinstance(rules, Mapping) and ("allow_commands" in rules or "read_tools" in rules):
        project["rules"] = {k: v for k, v in rules.items() if k not in ("allow_commands", "read_tools")}
    return project


def _environment(environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, key in ENV_OVERRIDES.items():
        if name not in environ:
            continue
        value: Any = environ[name]
        if key == ("backend", "raw"):
            value = value.strip().lower() in ("1", "true", "yes", "on")
        target = found
        for part in key[:-1]:
            target = target.setdefault(part, {})
        target[key[-1]] = value
    return found


def _build(data: Mapping[str, Any], sources: list[str]) -> CodingConfig:
    known = {f.name for f in fields(CodingConfig)} - {"sources"}
    kwargs: dict[str, Any] = {"sources": sources}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"unknown setting {key!r} (from {', '.join(sources) or 'flags'})")
        section = _SECTIONS.get(key)
        if section is None:
            kwargs[key] = value
            continue
        if not isinstance(value, Mapping):
            raise ConfigError(f"[{key}] must be a table")
        allowed = {f.name for f in fields(section)}
        unknown = set(value) - allowed
        if unknown:
            raise ConfigError(f"unknown key(s) {sorted(unknown)} in [{key}]; known: {sorted(allowed)}")
        kwargs[key] = section(**value)
    config = CodingConfig(**kwargs)
    if config.mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {config.mode!r}")
    if config.backend.resolved_kind not in ("vllm", "completions", "minimax", "replay"):
        raise ConfigError(f"backend.kind must be vllm, completions, minimax or replay, not {config.backend.kind!r}")
    if config.backend.resolved_kind in ("vllm", "completions") and not config.backend.url:
        raise ConfigError(f"backend.kind {config.backend.kind!r} needs backend.url (the server's /v1 URL)")
    if not isinstance(config.mcp_servers, Mapping):
        raise ConfigError("[mcp_servers] must be a table of name -> server")
    return config


def load_config(
    repo: str | Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    user_file: str | Path | None = None,
) -> CodingConfig:
    """The merged config for ``repo``: user file, project file, environment, then ``overrides``
    (a nested mapping shaped like the file, e.g. ``{"mode": "auto", "backend": {"url": ...}}``;
    ``None`` values are left out, so unset flags change nothing)."""
    env = os.environ if environ is None else environ
    sources: list[str] = []
    user_path = Path(user_file) if user_file is not None else user_config_path()
    user = read_toml(user_path) if user_path.is_file() else {}
    if user:
        sources.append(str(user_path))
    data = dict(user)
    project_path = project_config_path(repo) if repo is not None else None
    if project_path is not None:
        data = merge(data, _tighten_only(user, read_toml(project_path)))
        sources.append(str(project_path))
    data = merge(data, _environment(env))
    if overrides:
        _refuse_keys(overrides, "flags")
        data = merge(data, _drop_none(overrides))
    return _build(data, sources)


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            inner = _drop_none(value)
            if inner:
                result[key] = inner
        elif value is not None:
            result[key] = value
    return result
