"""The typer application: each command lives in its own module, and this one registers them all.

Only the entry point imports this module; a command module never does, so each can be imported (and
tested) on its own.
"""

import typer

from m1agent.cli import (
    code_cmd,
    demo_cmd,
    doctor_cmd,
    mcp_cmd,
    pack_cmd,
    parse_cmd,
    render_cmd,
    run_cmd,
    sandbox_cmd,
    sessions_cmd,
    tau_cmd,
    tokens_cmd,
)

app = typer.Typer(name="m1agent", help="An agent framework built on MiniMax-M1.", no_args_is_help=True)


@app.callback()
def _root() -> None:
    """An agent framework built on MiniMax-M1."""


@app.command()
def version() -> None:
    """Print the version."""
    from m1agent import __version__

    typer.echo(__version__)


# In the order `m1agent --help` lists them.
for _module in (parse_cmd, pack_cmd, sandbox_cmd, mcp_cmd, render_cmd, tokens_cmd, tau_cmd, demo_cmd, code_cmd,
                run_cmd, doctor_cmd, sessions_cmd):
    app.registered_commands.extend(_module.commands.registered_commands)
    app.registered_groups.extend(_module.commands.registered_groups)
