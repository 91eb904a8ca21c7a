"""The ``pack_repo`` tool: the model asks for a packed view of a repository under a token budget.

``pack_repo_tool(root)`` binds a host folder (and optionally a token counter and a cache folder)
to the ``pack_repo`` function; the model sets only the query, the folder inside, the budget and
the globs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

from pydantic import Field

from m1agent.context.pack import PackOptions, TokenCounter, pack_repository
from m1agent.errors import ToolArgumentsInvalid
from m1agent.function_tool import FunctionTool
from m1agent.tool import ToolReturn

MAX_BUDGET = 900_000
Budget = Annotated[int, Field(ge=1000, le=MAX_BUDGET)]


def _target(root: Path, sub: str) -> Path:
    real_root = Path(os.path.realpath(root))
    target = Path(os.path.realpath(real_root / sub))
    if target != real_root and real_root not in target.parents:
        raise ToolArgumentsInvalid(f"path {sub!r} is outside the repository; give a folder inside it")
    if not target.is_dir():
        raise ToolArgumentsInvalid(f"path {sub!r} is not a folder of the repository")
    return target


def pack_repo(
    root: Path,
    counter: TokenCounter | None,
    cache_dir: Path | None,
    query: str = "",
    path: str = ".",
    budget: Budget = 32_000,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> ToolReturn:
    """Pack the repository's most relevant files for a question into one text under a token budget:
    whole files first, then signatures only, then paths. Use it to get oriented in a codebase.

    Args:
        query: What you are looking for; ranks the files.
        path: A folder inside the repository (default: all).
        budget: Maximum tokens of the result.
        include: Globs to keep.
        exclude: Globs to drop.
    """
    target = _target(root, path or ".")
    options = PackOptions(
        query=query, budget=budget, cache_dir=cache_dir, include=tuple(include), exclude=tuple(exclude)
    )
    result = pack_repository(target, options, counter=counter)
    ledger = result.ledger
    summary = {lvl: len(ledger.by_level(lvl)) for lvl in ("full", "signatures", "head", "path", "dropped")}
    note = (
        f"\n(packed {result.total_tokens} of {options.budget} tokens: "
        + ", ".join(f"{n} {lvl}" for lvl, n in summary.items())
        + (f"; secrets redacted in {len(ledger.redacted)} file(s)" if ledger.redacted else "")
        + ")"
    )
    return ToolReturn(result.text + note, metadata={"ledger": ledger.to_json()})


def pack_repo_tool(
    root: str | Path, *, counter: TokenCounter | None = None, cache_dir: Path | None = None
) -> FunctionTool:
    """``pack_repo`` over ``root`` (never reads outside it); runs in a worker thread."""
    bound = {"root": Path(root), "counter": counter, "cache_dir": cache_dir}
    return FunctionTool(pack_repo, bind=bound, timeout=120.0, max_retries=1)
