"""Policy packs: a folder with ``pack.toml`` (the rules, as data) and ``predicates.py`` (plain functions).

Built-in packs live in ``m1agent.policies.<name>``; any folder with the same layout is a user pack.
The manifest's sections map one to one onto the rule kinds in ``m1agent.policies.rules``.
"""

from __future__ import annotations

import importlib
import importlib.resources
import importlib.util
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from m1agent.policies.audit import AuditSink
from m1agent.policies.engine import PolicyEngine
from m1agent.policies.rules import (
    ArgConstraint,
    Authentication,
    AuthSource,
    CallLimit,
    ConfirmationGate,
    OneCallPerTurn,
    OwnedBy,
    Ownership,
    PostTransferStop,
    PredicateRule,
    ReadBeforeWrite,
    Rule,
)
from m1agent.policies.rules.access import CommandRules, ModeGate, PathRules
from m1agent.policies.view import CachedView, DomainView
from m1agent.policies.yes import YesDetector

from m1agent.errors import M1AgentError


class PackError(M1AgentError):
    """A pack is missing, or its manifest is not valid."""

    hint = "check the pack folder: it needs a pack.toml (see the README's section on policy packs)"


@dataclass(slots=True)
class Pack:
    """A loaded pack: its manifest, its predicates module (if any), and where it came from."""

    name: str
    manifest: dict[str, Any]
    predicates: ModuleType | None = None
    location: str = ""
    extra_rules: list[Rule] = field(default_factory=list)

    @property
    def write_tools(self) -> frozenset[str]:
        """The tools the manifest marks as changing state."""
        return frozenset(self.manifest.get("write_tools", ()))

    @property
    def clock(self) -> datetime | None:
        """The domain's fixed "now", if the manifest sets one."""
        value = self.manifest.get("clock")
        if value is None:
            return None
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

    def policy_text(self) -> str:
        """The domain's policy text, read at run time from the package the manifest names."""
        source = self.manifest.get("policy_text")
        if not source:
            return ""
        package, resource = source["package"], source["resource"]
        try:
            return (importlib.resources.files(package) / resource).read_text(encoding="utf-8")
        except (ModuleNotFoundError, FileNotFoundError) as exc:
            raise PackError(
                f"the {self.name} policy text comes from the package {package!r}, which is not installed",
                hint=f"install it (pip install 'm1agent[{source.get('extra', package)}]')",
            ) from exc

    def rules(self, detector: YesDetector | None = None) -> list[Rule]:
        """The pack's rules, in the order the engine should run them (cheap and decisive first)."""
        return build_rules(self.manifest, self._predicate, detector) + list(self.extra_rules)

    def build_engine(
        self,
        *,
        view: DomainView | None = None,
        detector: YesDetector | None = None,
        sinks: Iterable[AuditSink] = (),
        cache_view: bool = True,
        write_tools: Iterable[str] = (),
    ) -> PolicyEngine:
        """An engine for one conversation; ``view`` is wrapped in a cache dropped after each write.
        ``write_tools`` adds to the manifest's (e.g. the tools an environment itself marks as writes)."""
        engine_cfg = self.manifest.get("engine", {})
        if view is not None and cache_view and not isinstance(view, CachedView):
            view = CachedView(view)
        return PolicyEngine(
            self.rules(detector),
            view=view,
            write_tools=self.write_tools | frozenset(write_tools),
            now=self.clock,
            max_consecutive_denials=int(engine_cfg.get("max_consecutive_denials", 5)),
            max_denials=engine_cfg.get("max_denials"),
            sinks=sinks,
            name=self.name,
        )

    def _predicate(self, name: str) -> Callable[..., Any]:
        function = getattr(self.predicates, name, None) if self.predicates is not None else None
        if not callable(function):
            raise PackError(f"pack {self.name!r} names predicate {name!r}, which predicates.py does not define")
        return function


def build_rules(
    manifest: dict[str, Any], predicate: Callable[[str], Callable[..., Any]], detector: YesDetector | None
) -> list[Rule]:
    """Turn a manifest's sections into rule objects."""
    rules: list[Rule] = []
    protocol = manifest.get("protocol", {})
    if protocol.get("one_call_per_turn", False):
        rules.append(OneCallPerTurn(forbid_text=bool(protocol.get("forbid_text_with_call", True))))
    transfer = manifest.get("transfer")
    if transfer:
        rules.append(PostTransferStop(transfer.get("tools", ()), message=transfer.get("message", "")))
    auth = manifest.get("auth")
    if auth:
        sources = {tool: AuthSource(**spec) for tool, spec in auth.get("sources", {}).items()}
        rules.append(Authentication(sources, exempt=auth.get("exempt", ())))
    ownership = manifest.get("ownership")
    if ownership:
        owned = {arg: OwnedBy(**spec) for arg, spec in ownership.get("owned", {}).items()}
        rules.append(Ownership(owned, user_args=ownership.get("user_args", ("user_id",)),
                               exempt=ownership.get("exempt", ())))
    reads = manifest.get("read_before_write")
    if reads:
        rules.append(ReadBeforeWrite(reads.get("reads", {}), reads.get("writes", {})))
    for spec in manifest.get("constraints", ()):
        rules.append(ArgConstraint(**spec))
    for spec in manifest.get("limits", ()):
        spec = dict(spec)
        rules.append(CallLimit(spec.pop("tools"), spec.pop("max_calls", 1), **spec))
    for spec in manifest.get("predicates", ()):
        rules.append(PredicateRule(spec["tools"], predicate(spec["function"]), name=spec.get("name", "")))
    if "mode" in manifest:
        rules.append(ModeGate(manifest["mode"], manifest.get("read_tools", ())))
    paths = manifest.get("paths")
    if paths:
        rules.append(PathRules(paths.get("args", {}), allow=paths.get("allow", ()), deny=paths.get("deny", ())))
    commands = manifest.get("commands")
    if commands:
        rules.append(CommandRules(commands.get("args", {}), allow=commands.get("allow", ()),
                                  deny=commands.get("deny", ()), unlisted=commands.get("unlisted", "ask")))
    confirmation = manifest.get("confirmation")
    if confirmation is not None:
        # "key_args" (older manifests) names gated tools; every argument is checked either way.
        tools = set(confirmation.get("tools", ())) | set(confirmation.get("key_args", {}))
        rules.append(ConfirmationGate(
            tools, actions=confirmation.get("actions"), implied=confirmation.get("implied"),
            labels=confirmation.get("labels"), enums=confirmation.get("enums"), detector=detector))
    return rules


def load_pack(name_or_path: str | Path) -> Pack:
    """A built-in pack by name (``"airline"``, ``"retail"``, ``"coding"``) or a pack folder by path."""
    path = Path(name_or_path)
    if path.is_dir():
        return _load_folder(path)
    name = str(name_or_path)
    if not name.isidentifier():
        raise PackError(f"no pack folder at {name_or_path!s}, and it is not a built-in pack name")
    manifest_file = importlib.resources.files("m1agent.policies") / name / "pack.toml"
    if not manifest_file.is_file():
        raise PackError(f"there is no built-in policy pack named {name!r}")
    manifest = _parse(manifest_file.read_text(encoding="utf-8"), str(manifest_file))
    predicates = None
    if (importlib.resources.files("m1agent.policies") / name / "predicates.py").is_file():
        predicates = importlib.import_module(f"m1agent.policies.{name}.predicates")
    return Pack(manifest.get("name", name), manifest, predicates, str(manifest_file))


def _load_folder(folder: Path) -> Pack:
    manifest_file = folder / "pack.toml"
    if not manifest_file.is_file():
        raise PackError(f"{folder} has no pack.toml")
    manifest = _parse(manifest_file.read_text(encoding="utf-8"), str(manifest_file))
    predicates = None
    source = folder / "predicates.py"
    if source.is_file():
        spec = importlib.util.spec_from_file_location(f"m1agent_pack_{folder.name}_predicates", source)
        if spec is None or spec.loader is None:
            raise PackError(f"cannot load {source}")
        predicates = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(predicates)
    return Pack(manifest.get("name", folder.name), manifest, predicates, str(manifest_file))


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{where} is not valid TOML: {exc}") from exc
