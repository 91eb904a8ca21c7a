"""The typer application; each command lives in its own module and registers itself here."""

import typer

app = typer.Typer(name="m1agent", help="An agent framework built on MiniMax-M1.", no_args_is_help=True)


@app.callback()
def _root() -> None:
    """An agent framework built on MiniMax-M1."""


@app.command()
def version() -> None:
    """Print the version."""
    from m1agent import __version__

    typer.echo(__version__)

from m1agent.cli import parse_cmd
from m1agent.cli import pack_cmd
from m1agent.cli import sandbox_cmd
from m1agent.cli import mcp_cmd
from m1agent.cli import render_cmd
from m1agent.cli import tokens_cmd
from m1agent.cli import tau_cmd
from m1agent.cli import demo_cmd
from m1agent.cli import code_cmd
from m1agent.cli import run_cmd
from m1agent.cli import doctor_cmd
from m1agent.cli import sessions_cmd
