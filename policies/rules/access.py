"""Rules for a coding agent: a mode (read-only / ask / auto), path rules and command rules.

The same engine serves the coding agent and the τ domains: these are just more rule kinds.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Literal

from m1agent.policies.rules.base import PolicyContext, Rule

from m1agent.policy import Decision
from m1agent.protocol.types import ToolCallPart

Mode = Literal["read-only", "ask", "auto"]
_SEGMENTS = re.compile(r"&&|\|\||[;|\n]")


class ModeGate(Rule):
    """``read-only`` refuses every tool outside ``read_tools``; ``ask`` asks before each of them;
    ``auto`` lets them through (the path and command rules still decide). Unknown tools (an MCP
    server's, say) count as writes, so a new tool is never silently trusted."""

    def __init__(self, mode: Mode, read_tools: Iterable[str], *, name: str = "mode") -> None:
        if mode not in ("read-only", "ask", "auto"):
            raise ValueError(f"mode must be read-only, ask or auto, not {mode!r}")
        self.mode = mode
        self.read_tools = frozenset(read_tools)
        self.name = name

    def check_call(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        if call.name in self.read_tools or self.mode == "auto":
            return None
        if self.mode == "read-only":
            return Decision.deny(
                f"This session is read-only, so `{call.name}` was not run. Explain the change instead, "
                "or ask the user to switch to ask or auto mode.",
                self.name,
            )
        return Decision.ask(f"`{call.name}` changes files or runs a command", self.name)


def normalize_path(path: str, roots: Sequence[str] = ("/work", "/workspace")) -> str | None:
    """A workspace-relative POSIX path, or ``None`` if it leaves the workspace (absolute paths count
    as inside only under one of ``roots``, the sandbox's work folder)."""
    cleaned = posixpath.normpath(path.replace("\\", "/"))
    for root in roots:
        if cleaned == root:
            cleaned = "."
        elif cleaned.startswith(root + "/"):
            cleaned = cleaned[len(root) + 1 :]
    if cleaned.startswith("/") or cleaned == ".." or cleaned.startswith("../"):
        return None
    return "." if cleaned in ("", ".") else cleaned


def path_matches(path: str, patterns: Sequence[str]) -> str | None:
    """The first pattern that matches ``path`` or its file name, or any folder above it."""
    parts = path.split("/")
    candidates = [path, parts[-1], *("/".join(parts[: i + 1]) for i in range(len(parts) - 1))]
    for pattern in patterns:
        if any(fnmatchcase(candidate, pattern) for candidate in candidates):
            return pattern
    return None


class PathRules(Rule):
    """``path_args`` maps a tool to the arguments that hold paths. Deny patterns win; with allow
    patterns, a path must match one. Paths that leave the workspace are always refused."""

    def __init__(
        self,
        path_args: Mapping[str, Sequence[str]],
        *,
        allow: Sequence[str] = (),
        deny: Sequence[str] = (),
        name: str = "paths",
    ) -> None:
        self.path_args = {tool: tuple(args) for tool, args in path_args.items()}
        self.allow = tuple(allow)
        self.deny = tuple(deny)
        self.name = name

    def check_call(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        args = self.path_args.get(call.name)
        if not args or not isinstance(call.arguments, Mapping):
            return None
        for arg in args:
            raw = call.arguments.get(arg)
            if not isinstance(raw, str):
                continue
            path = normalize_path(raw)
            if path is None:
                return Decision.deny(f"`{raw}` is outside the workspace; use a path inside it.", self.name)
            hit = path_matches(path, self.deny)
            if hit is not None:
                return Decision.deny(f"`{raw}` is off limits (rule `{hit}`); do not touch it.", self.name)
            if self.allow and path_matches(path, self.allow) is None:
                return Decision.deny(
                    f"`{raw}` is not among the paths this session may use ({', '.join(self.allow)}).", self.name
                )
        return None


class CommandRules(Rule):
    """``command_args`` maps a tool to its command argument. A command is split at ``&&``, ``||``,
    ``;``, ``|`` and newlines; any part matching a deny pattern refuses it; if every part matches an
    allow pattern it is allowed; otherwise ``unlisted`` decides (``ask`` by default)."""

    def __init__(
        self,
        command_args: Mapping[str, str],
        *,
        allow: Sequence[str] = (),
        deny: Sequence[str] = (),
        unlisted: Literal["allow", "ask", "deny"] = "ask",
        name: str = "commands",
    ) -> None:
        self.command_args = dict(command_args)
        self.allow = tuple(allow)
        self.deny = tuple(deny)
        self.unlisted = unlisted
        self.name = name

    def check_call(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        arg = self.command_args.get(call.name)
        command = call.arguments.get(arg) if arg and isinstance(call.arguments, Mapping) else None
        if not isinstance(command, str):
            return None
        parts = [" ".join(p.split()) for p in _SEGMENTS.split(command) if p.strip()]
        for part in parts:
            hit = next((p for p in self.deny if fnmatchcase(part, p)), None)
            if hit is not None:
                return Decision.deny(f"The command `{part}` is not allowed (rule `{hit}`).", self.name)
        opaque = "$(" in command or "`" in command
        if parts and not opaque and all(any(fnmatchcase(p, a) for a in self.allow) for p in parts):
            return Decision.allow()
        if self.unlisted == "allow":
            return None
        if self.unlisted == "deny":
            return Decision.deny(f"The command `{command}` is not on the allow list.", self.name)
        return Decision.ask(f"run `{command}`", self.name)
