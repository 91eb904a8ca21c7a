"""``m1agent parse``: read raw M1 output on stdin and show how it parses."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.markup import escape

from m1agent.protocol.parse import parse
from m1agent.protocol.stream import StreamParser
from m1agent.protocol.types import Turn

# This module's commands; app.py registers them on the application.
commands = typer.Typer()


@commands.command("parse")
def parse_command(
    as_json: bool = typer.Option(
        False, "--json", help='Print exactly {"thinking", "text", "tool_calls", "problems"} (problem kinds sorted).'
    ),
    chunk: int = typer.Option(
        0, "--chunk", min=0, help="Feed the streaming parser N characters at a time (0: parse the text whole)."
    ),
) -> None:
    """Parse raw M1 output read from stdin into thinking, text, tool calls and problems."""
    text = sys.stdin.read()
    turn = _stream(text, chunk) if chunk else parse(text)
    if as_json:
        typer.echo(json.dumps(turn.to_json(), ensure_ascii=False, indent=1))
        return
    _show(turn)


def _stream(text: str, size: int) -> Turn:
    parser = StreamParser()
    for start in range(0, len(text), size):
        parser.feed(text[start : start + size])
    return parser.close()


def _show(turn: Turn) -> None:
    console = Console(highlight=False)
    if turn.thinking:
        console.rule("[dim]thinking")
        console.print(escape(turn.thinking), style="dim")
    if turn.text:
        console.rule("text")
        console.print(escape(turn.text))
    for call in turn.tool_calls:
        console.rule(f"[bold cyan]tool call {call.id}")
        console.print(f"[bold]{escape(call.name)}[/bold]")
        console.print_json(json.dumps(call.arguments, ensure_ascii=False))
    for problem in turn.problems:
        console.rule(f"[bold red]problem: {problem.kind}")
        console.print(escape(problem.detail))
        if problem.raw:
            console.print(escape(problem.raw), style="red")
    if not (turn.thinking or turn.text or turn.tool_calls or turn.problems):
        console.print("[dim](empty output)[/dim]")
