"""``m1agent render``: OpenAI-format messages and tools on stdin -> the raw M1 prompt on stdout."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer

from m1agent.protocol.render import TEMPLATES, PromptRenderError, render

# This module's commands; app.py registers them on the application.
commands = typer.Typer()

_SHAPE = 'expected {"messages": [...], "tools": [...]} (tools optional)'


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"m1agent render: {message}", err=True)
    raise typer.Exit(code)


def _read_request() -> tuple[list[Any], list[Any] | None]:
    raw = sys.stdin.buffer.read()
    try:
        request = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        _fail("stdin is not UTF-8", 2)
    except json.JSONDecodeError as error:
        _fail(f"stdin is not JSON ({error}); {_SHAPE}", 2)
    if not isinstance(request, dict) or not isinstance(request.get("messages"), list):
        _fail(f"{_SHAPE}", 2)
    tools = request.get("tools")
    if tools is not None and not isinstance(tools, list):
        _fail(f'"tools" must be a list or null; {_SHAPE}', 2)
    return request["messages"], tools


@commands.command("render")
def render_command(
    generation_prompt: bool = typer.Option(
        True, "--generation-prompt/--no-generation-prompt", help="End with the header that opens the model's turn."
    ),
    template: str = typer.Option(
        "hf", "--template",
        help="hf: M1's own template (tokenizer_config.json); vllm: vLLM 0.23's server; vllm-main: unreleased file.",
    ),
) -> None:
    """Render {"messages", "tools"} JSON from stdin into the raw M1 prompt, exactly as the chosen template does."""
    if template not in TEMPLATES:
        _fail(f"--template must be one of {', '.join(TEMPLATES)}", 2)
    messages, tools = _read_request()
    try:
        prompt = render(messages, tools, add_generation_prompt=generation_prompt, template=template)
    except PromptRenderError as error:
        _fail(str(error), 1)
    # Bytes, not text mode: the prompt must come out exactly, whatever the locale's newline or encoding.
    sys.stdout.buffer.write(prompt.encode("utf-8"))
    sys.stdout.buffer.flush()
