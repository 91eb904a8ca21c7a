"""The backend options every command shares (``--base-url``, ``--raw``, ``--model``, ``--region``), and
choosing a backend from them and the environment."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from m1agent.backends.base import Backend

BaseUrl = Annotated[str | None, typer.Option("--base-url", help="A vLLM server's /v1 URL.")]
Raw = Annotated[bool, typer.Option("--raw", help="With --base-url: use raw /v1/completions.")]
Model = Annotated[str | None, typer.Option("--model", help="Model name on the server.")]
Region = Annotated[str | None, typer.Option("--region", help="Hosted API region: global or china.")]

REAL_M1_HELP = (
    "To use a real M1: pass --base-url http://HOST:8000/v1 for a vLLM server (add --raw to use its raw "
    "completions endpoint, the recommended way), or set MINIMAX_API_KEY for the hosted MiniMax API "
    "(--region china for the mainland host)."
)


def real_backend(
    *, base_url: str | None, raw: bool = False, model: str | None = None, region: str | None = "global"
) -> Backend | None:
    """The real M1 the options point at: a vLLM URL first, then a hosted key; ``None`` for neither."""
    from m1agent.backends import VLLM, Completions, MiniMax

    if base_url:
        return Completions(base_url, model=model) if raw else VLLM(base_url, model=model)
    if os.environ.get("MINIMAX_API_KEY"):
        from m1agent.backends import CHINA_HOST, GLOBAL_HOST

        host = CHINA_HOST if region == "china" else GLOBAL_HOST
        return MiniMax(host=host, model=model or "MiniMax-M1")
    return None


def describe(backend: Backend) -> str:
    """One line naming the backend and model (never a key)."""
    return f"{backend.name} · {backend.model}"
