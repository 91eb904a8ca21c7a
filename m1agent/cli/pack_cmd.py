"""``m1agent pack``: pack a repository for M1 offline, and show what went in."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

# This module's commands; app.py registers them on the application.
commands = typer.Typer()



@commands.command("pack")
def pack_command(
    path: Annotated[Path, typer.Argument(help="The repository folder.")] = Path("."),
    query: Annotated[str, typer.Option("--query", "-q", help="What the pack is for; ranks the files.")] = "",
    budget: Annotated[
        int | None, typer.Option("--budget", "-b", help="Token budget (default: as much as helps, capped).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the pack here, not stdout.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ledger as JSON.")] = False,
    include: Annotated[list[str] | None, typer.Option("--include", help="Glob of files to keep (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Glob of files to drop (repeatable).")] = None,
    tokenizer: Annotated[
        Path | None, typer.Option("--tokenizer", help="Folder with M1's merges.txt (else $M1AGENT_TOKENIZER).")
    ] = None,
    explain: Annotated[
        str | None, typer.Option("--explain", help="Say why this file (relative path) got its rank and level.")
    ] = None,
) -> None:
    """Pack a repository into one prompt under an exact M1 token budget (no model needed)."""
    from rich.console import Console

    from m1agent.context.pack import PackOptions, pack_repository
    from m1agent.errors import M1AgentError
    from m1agent.tokens import load_counter

    err = Console(stderr=True)
    if not path.is_dir():
        err.print(f"[red]error:[/] {path} is not a folder: give the repository's folder")
        raise typer.Exit(2)
    options = PackOptions(query=query, budget=budget, include=tuple(include or ()), exclude=tuple(exclude or ()))
    try:
        with err.status("packing…") as status:
            result = pack_repository(
                path,
                options,
                counter=lambda: load_counter(tokenizer),
                progress=lambda message: status.update(message + "…"),
            )
    except (M1AgentError, OSError) as error:
        # The project's errors already end with what to do; no traceback for a setup problem.
        err.print(f"error: {error}", highlight=False, markup=False)
        raise typer.Exit(2) from None
    if explain is not None:
        from m1agent.context.explain import explain as explain_file

        sys.stdout.write(explain_file(result.ledger, explain) + "\n")
        return
    if output is not None:
        output.write_text(result.text, encoding="utf-8")
    if as_json:
        sys.stdout.write(json.dumps(result.ledger.to_json(), indent=2) + "\n")
    elif output is None:
        sys.stdout.write(result.text)
    if not as_json:
        err.print(result.ledger.render_tree(), highlight=False, markup=False)
