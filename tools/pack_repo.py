"""The ``pack_repo`` tool: the model asks for a packed view of a repository under a token budget."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from m1agent.context.pack import PackOptions, TokenCounter, pack_repository
from m1agent.errors import ToolArgumentsInvalid
from m1agent.messages import ToolSpec
from m1agent.tool import ApprovalRule, RunContext, ToolReturn

_MAX_BUDGET = 900_000


@dataclass(slots=True)
class PackRepoTool:
    """Packs ``root`` (or a folder inside it) for a query; never reads outside ``root``."""

    root: Path
    counter: TokenCounter | None = None
    default_budget: int = 32_000
    cache_dir: Path | None = None
    name: str = "pack_repo"
    description: str = (
        "Pack the repository's most relevant files for a question into one text under a token budget: "
        "whole files first, then signatures only, then paths. Use it to get oriented in a codebase."
    )
    parameters: dict[str, Any] = field(
        default_factory=lambda: {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What you are looking for; ranks the files."},
                "path": {"type": "string", "description": "A folder inside the repository (default: all)."},
                "budget": {"type": "integer", "minimum": 1000, "maximum": _MAX_BUDGET,
                           "description": "Maximum tokens of the result."},
                "include": {"type": "array", "items": {"type": "string"}, "description": "Globs to keep."},
                "exclude": {"type": "array", "items": {"type": "string"}, "description": "Globs to drop."},
            },
            "additionalProperties": False,
        }
    )  # fmt: skip
    sequential: bool = False
    needs_approval: ApprovalRule = False
    timeout: float | None = 120.0
    max_retries: int = 1

    def spec(self) -> ToolSpec:
        """The tool as the model sees it."""
        return ToolSpec(self.name, self.description, self.parameters)

    def _target(self, arguments: Mapping[str, Any]) -> Path:
        root = Path(os.path.realpath(self.root))
        sub = arguments.get("path") or "."
        if not isinstance(sub, str):
            raise ToolArgumentsInvalid("path must be a string: a folder inside the repository")
        target = Path(os.path.realpath(root / sub))
        if target != root and root not in target.parents:
            raise ToolArgumentsInvalid(f"path {sub!r} is outside the repository; give a folder inside it")
        if not target.is_dir():
            raise ToolArgumentsInvalid(f"path {sub!r} is not a folder of the repository")
        return target

    def _options(self, arguments: Mapping[str, Any]) -> PackOptions:
        unknown = set(arguments) - set(self.parameters["properties"])
        if unknown:
            raise ToolArgumentsInvalid(
                f"unknown argument(s) {sorted(unknown)}; allowed: {sorted(self.parameters['properties'])}"
            )
        budget = arguments.get("budget", self.default_budget)
        if not isinstance(budget, int) or isinstance(budget, bool) or not 1000 <= budget <= _MAX_BUDGET:
            raise ToolArgumentsInvalid(f"budget must be an integer from 1000 to {_MAX_BUDGET}")
        query = arguments.get("query", "")
        if not isinstance(query, str):
            raise ToolArgumentsInvalid("query must be a string")
        globs: dict[str, tuple[str, ...]] = {}
        for key in ("include", "exclude"):
            value = arguments.get(key, [])
            if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
                raise ToolArgumentsInvalid(f"{key} must be a list of glob strings")
            globs[key] = tuple(value)
        return PackOptions(
            query=query, budget=budget, cache_dir=self.cache_dir, include=globs["include"], exclude=globs["exclude"]
        )

    async def invoke(self, arguments: dict[str, Any], ctx: RunContext[Any]) -> ToolReturn:
        """Pack and return the text; the ledger summary goes into ``metadata``."""
        target = self._target(arguments)
        options = self._options(arguments)
        result = await asyncio.to_thread(pack_repository, target, options, counter=self.counter)
        ledger = result.ledger
        summary = {lvl: len(ledger.by_level(lvl)) for lvl in ("full", "signatures", "head", "path", "dropped")}
        note = (
            f"\n(packed {result.total_tokens} of {options.budget} tokens: "
            + ", ".join(f"{n} {lvl}" for lvl, n in summary.items())
            + (f"; secrets redacted in {len(ledger.redacted)} file(s)" if ledger.redacted else "")
            + ")"
        )
        return ToolReturn(result.text + note, metadata={"ledger": ledger.to_json()})
