"""MCP server settings, and the ``mcpServers`` files users paste from the well-known desktop clients.

A file holds ``{"mcpServers": {"name": {...}}}`` (JSON or TOML). An entry with ``command`` is a stdio
server; one with ``url`` is streamable HTTP, or legacy SSE when ``"type": "sse"`` (or the URL ends in
``/sse``). The per-project file is merged over the user file, server by server.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from m1agent.errors import M1AgentError

Transport = Literal["stdio", "http", "sse"]

DEFAULT_CONNECT_TIMEOUT = 30.0
# Tools run builds, searches and crawls: a short default is the most reported MCP complaint.
DEFAULT_CALL_TIMEOUT = 300.0
DEFAULT_MAX_OUTPUT_CHARS = 20_000
PROJECT_FILES = (".m1agent/mcp.json", ".m1agent/mcp.toml", ".mcp.json")
USER_FILES = ("mcp.json", "mcp.toml")


class MCPConfigError(M1AgentError):
    """An MCP config file or entry is malformed."""

    hint = "fix the mcpServers entry: each server needs a 'command' (stdio) or a 'url' (http/sse)"


@dataclass(slots=True)
class MCPServerConfig:
    """How to reach one MCP server and how to treat its tools.

    Tool names in ``allowed_tools``, ``blocked_tools``, ``approval`` and ``tool_timeouts`` are the
    server's own (not prefixed) and may be glob patterns (``git_*``). ``approval`` says which calls
    wait for the user's approval: ``True`` (all), a list of names, ``"writes"`` (every tool the server
    does not annotate read-only) or ``"destructive"`` (tools annotated destructive).
    """

    name: str
    transport: Transport = "stdio"
    command: str = ""
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    bearer_token: str | None = field(default=None, repr=False)
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    call_timeout: float = DEFAULT_CALL_TIMEOUT
    allowed_tools: list[str] | None = None
    blocked_tools: list[str] = field(default_factory=list)
    approval: bool | list[str] | Literal["writes", "destructive"] = False
    tool_timeouts: dict[str, float] = field(default_factory=dict)
    max_retries: int = 2
    max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS
    prefix: str | None = None
    enabled: bool = True
    mode: str = "auto"
    reconnect: bool = True

    def __post_init__(self) -> None:
        if self.transport not in ("stdio", "http", "sse"):
            raise MCPConfigError(f"server {self.name!r}: unknown transport {self.transport!r}")
        if self.transport == "stdio" and not self.command:
            raise MCPConfigError(f"server {self.name!r}: a stdio server needs a 'command'")
        if self.transport != "stdio" and not self.url:
            raise MCPConfigError(f"server {self.name!r}: an {self.transport} server needs a 'url'")
        if isinstance(self.approval, str) and self.approval not in ("writes", "destructive"):
            raise MCPConfigError(
                f"server {self.name!r}: approval must be true/false, a list of tool names, "
                f"'writes' or 'destructive', not {self.approval!r}"
            )
        for label, value in (("connect_timeout", self.connect_timeout), ("call_timeout", self.call_timeout)):
            if not value > 0:
                raise MCPConfigError(f"server {self.name!r}: {label} must be > 0 seconds, not {value!r}")

    def __repr__(self) -> str:
        # Headers and env often carry keys; show only their names.
        where = " ".join([self.command, *self.args]) if self.transport == "stdio" else self.url
        return (
            f"MCPServerConfig(name={self.name!r}, transport={self.transport!r}, target={where!r}, "
            f"env_keys={sorted(self.env)}, header_keys={sorted(self.headers)})"
        )

    def http_headers(self) -> dict[str, str]:
        """Headers for HTTP/SSE requests, with the bearer token as ``Authorization``."""
        headers = dict(self.headers)
        if self.bearer_token:
            headers["Authorization"] = f"Bearer {self.bearer_token}"
        return headers

    def tool_allowed(self, tool_name: str) -> bool:
        """Whether the allow and block lists let this (original) tool name through."""
        if self.allowed_tools is not None and not _matches(tool_name, self.allowed_tools):
            return False
        return not _matches(tool_name, self.blocked_tools)

    def needs_approval(self, tool_name: str, annotations: Any = None) -> bool:
        """Whether calls of this (original) tool name wait for the user's approval.

        ``annotations`` are the tool's MCP annotations (``read_only_hint``, ``destructive_hint``).
        """
        if isinstance(self.approval, bool):
            return self.approval
        if self.approval == "writes":
            return not (annotations is not None and annotations.read_only_hint)
        if self.approval == "destructive":
            # The spec's default for a tool that is not read-only is "may be destructive".
            if annotations is None or annotations.read_only_hint:
                return annotations is None
            return annotations.destructive_hint is not False
        return _matches(tool_name, self.approval)

    def timeout_for(self, tool_name: str) -> float:
        """The call timeout of this (original) tool name: its own entry, else the server's."""
        for pattern, seconds in self.tool_timeouts.items():
            if fnmatch.fnmatchcase(tool_name, pattern):
                return float(seconds)
        return self.call_timeout


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

# Keys the desktop clients and the other agent frameworks use, mapped to ours.
_ALIASES = {
    "type": "transport",
    "allowedTools": "allowed_tools",
    "allowed": "allowed_tools",
    "blockedTools": "blocked_tools",
    "disabledTools": "blocked_tools",
    "blocked": "blocked_tools",
    "timeout": "call_timeout",
    "callTimeout": "call_timeout",
    "connectTimeout": "connect_timeout",
    "startupTimeout": "connect_timeout",
    "bearerToken": "bearer_token",
    "maxOutputChars": "max_output_chars",
    "requireApproval": "approval",
    "toolTimeouts": "tool_timeouts",
    "maxRetries": "max_retries",
}
_TRANSPORT_ALIASES = {
    "stdio": "stdio",
    "http": "http",
    "streamable-http": "http",
    "streamable_http": "http",
    "streamableHttp": "http",
    "sse": "sse",
}


def expand_env(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in strings (recursively), as the desktop clients do."""
    env = os.environ if environ is None else environ
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: env.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, list):
        return [expand_env(item, env) for item in value]
    if isinstance(value, dict):
        return {key: expand_env(item, env) for key, item in value.items()}
    return value


def server_from_entry(
    name: str, entry: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> MCPServerConfig:
    """One ``mcpServers`` entry as a config. Unknown keys are an error, so typos do not pass silently."""
    if not isinstance(entry, Mapping):
        raise MCPConfigError(f"server {name!r}: the entry must be an object, not {type(entry).__name__}")
    known = {f.name for f in fields(MCPServerConfig)}
    data: dict[str, Any] = {}
    raw = expand_env(dict(entry), environ)
    if "disabled" in raw:  # some desktop clients write this instead of 'enabled'
        data["enabled"] = not raw.pop("disabled")
    for key, value in raw.items():
        target = _ALIASES.get(key, key)
        if target not in known or target == "name":
            raise MCPConfigError(f"server {name!r}: unknown key {key!r}")
        data[target] = value
    transport = data.get("transport")
    if transport is not None:
        if transport not in _TRANSPORT_ALIASES:
            raise MCPConfigError(f"server {name!r}: unknown transport {transport!r}")
        data["transport"] = _TRANSPORT_ALIASES[transport]
    elif "url" in data:
        data["transport"] = "sse" if str(data["url"]).rstrip("/").endswith("/sse") else "http"
    else:
        data["transport"] = "stdio"
    for key in ("args", "blocked_tools"):
        if key in data and not _is_str_list(data[key]):
            raise MCPConfigError(f"server {name!r}: {key!r} must be a list of strings")
    if data.get("allowed_tools") is not None and not _is_str_list(data["allowed_tools"]):
        raise MCPConfigError(f"server {name!r}: 'allowed_tools' must be a list of strings")
    for key in ("env", "headers"):
        if key in data and not isinstance(data[key], Mapping):
            raise MCPConfigError(f"server {name!r}: {key!r} must be an object of strings")
        if key in data:
            data[key] = {str(k): str(v) for k, v in data[key].items()}
    try:
        return MCPServerConfig(name=name, **data)
    except TypeError as exc:
        raise MCPConfigError(f"server {name!r}: {exc}") from exc


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def read_config_file(path: str | Path) -> dict[str, dict[str, Any]]:
    """The raw ``mcpServers`` table of one JSON or TOML file (empty if the file has none)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MCPConfigError(f"{path}: not valid {path.suffix.lstrip('.') or 'json'}: {exc}") from exc
    servers = data.get("mcpServers", data.get("mcp_servers", {})) if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise MCPConfigError(f"{path}: 'mcpServers' must be an object of name -> server")
    return servers


def user_config_dir() -> Path:
    """Where the user's config lives: ``$M1AGENT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/m1agent``."""
    if os.environ.get("M1AGENT_CONFIG_DIR"):
        return Path(os.environ["M1AGENT_CONFIG_DIR"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "m1agent"


def config_paths(project_dir: str | Path | None = None) -> list[Path]:
    """The files that exist, lowest precedence first: the user's, then the project's."""
    found = [user_config_dir() / name for name in USER_FILES]
    project = Path(project_dir) if project_dir is not None else Path.cwd()
    found += [project / name for name in PROJECT_FILES]
    return [path for path in found if path.is_file()]


def load_config(
    paths: Iterable[str | Path] | None = None,
    *,
    project_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[MCPServerConfig]:
    """Read and merge ``mcpServers`` files (later ones win, entry by entry); disabled servers left out."""
    chosen = config_paths(project_dir) if paths is None else [Path(p) for p in paths]
    merged: dict[str, dict[str, Any]] = {}
    for path in chosen:
        merged.update(read_config_file(path))
    configs = [server_from_entry(name, entry, environ) for name, entry in merged.items()]
    return [config for config in configs if config.enabled]


def configs_from_mapping(
    servers: Mapping[str, Mapping[str, Any]] | Sequence[MCPServerConfig],
) -> list[MCPServerConfig]:
    """Accept configs given as objects or as an ``mcpServers``-style mapping."""
    if isinstance(servers, Mapping):
        return [server_from_entry(name, entry) for name, entry in servers.items()]
    return list(servers)
