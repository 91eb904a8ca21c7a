"""``m1agent tokens``: count the M1 tokens of stdin."""

from __future__ import annotations

import json
import sys

import typer

from m1agent.tokens import TokenizerError, load_counter

# This module's commands; app.py registers them on the application.
commands = typer.Typer()


@commands.command("tokens")
def tokens_command(
    tokenizer: str | None = typer.Option(
        None, "--tokenizer", help="Model directory holding merges.txt (default: $M1AGENT_TOKENIZER)."
    ),
    server: str | None = typer.Option(None, "--server", help="A vLLM server whose /tokenize counts for us."),
    model: str | None = typer.Option(None, "--model", help="The served model's name, for --server."),
    as_json: bool = typer.Option(False, "--json", help='Print {"count", "exact", "counter"}.'),
) -> None:
    """Count the M1 tokens of stdin (special-token strings count as one each)."""
    try:
        counter = load_counter(tokenizer, server_url=server, model=model)
        text = sys.stdin.buffer.read().decode("utf-8", errors="surrogateescape")
        count = counter.count(text)
    except TokenizerError as error:
        typer.echo(f"m1agent tokens: {error}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps({"count": count, "exact": counter.exact, "counter": counter.name}))
        return
    if not counter.exact:
        typer.echo(
            f"m1agent tokens: {counter.name}: an over-estimate; pass --tokenizer or set M1AGENT_TOKENIZER",
            err=True,
        )
    typer.echo(count)
