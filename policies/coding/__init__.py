"""The coding pack for ``m1agent code``: a mode, path rules and command rules (see pack.toml)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from m1agent.policies.audit import AuditSink
from m1agent.policies.engine import PolicyEngine
from m1agent.policies.pack import load_pack
from m1agent.policies.rules.access import Mode


def coding_policy(
    mode: Mode | None = None,
    *,
    allow_commands: Sequence[str] = (),
    deny_commands: Sequence[str] = (),
    allow_paths: Sequence[str] = (),
    deny_paths: Sequence[str] = (),
    read_tools: Iterable[str] = (),
    prefix: str = "",
    sinks: Iterable[AuditSink] = (),
) -> PolicyEngine:
    """The coding pack's engine, with the user's configuration added to the pack's own rules
    (extra deny rules add to the pack's; extra allow rules add to its allow lists). ``prefix`` is the
    one the sandbox tools were given (``sandbox_tools(sandbox, prefix=...)``)."""
    pack = load_pack("coding")
    manifest = pack.manifest
    if prefix:
        for key in ("read_tools", "write_tools"):
            manifest[key] = [prefix + name for name in manifest.get(key, ())]
        for section in ("paths", "commands"):
            args = manifest.get(section, {}).get("args", {})
            manifest[section]["args"] = {prefix + name: value for name, value in args.items()}
    if mode is not None:
        manifest["mode"] = mode
    manifest["read_tools"] = [*manifest.get("read_tools", ()), *read_tools]
    commands, paths = manifest.setdefault("commands", {}), manifest.setdefault("paths", {})
    commands["allow"] = [*commands.get("allow", ()), *allow_commands]
    commands["deny"] = [*commands.get("deny", ()), *deny_commands]
    paths["allow"] = [*paths.get("allow", ()), *allow_paths]
    paths["deny"] = [*paths.get("deny", ()), *deny_paths]
    return pack.build_engine(sinks=sinks)
