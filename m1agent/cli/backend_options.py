"""The backend options every command shares (``--base-url``, ``--raw``, ``--model``, ``--region``), and the
one place a backend is built from them: ``make_backend`` turns ``BackendSettings`` (the config's
``[backend]`` table with the flags on top) into a backend object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any

import typer

from m1agent.backends.base import Backend
from m1agent.cli.config import BackendSettings, ConfigError

BaseUrl = Annotated[str | None, typer.Option("--base-url", help="A vLLM server's /v1 URL.")]
Raw = Annotated[bool, typer.Option("--raw", help="With --base-url: use raw /v1/completions.")]
Model = Annotated[str | None, typer.Option("--model", help="Model name on the server.")]
Region = Annotated[str | None, typer.Option("--region", help="Hosted API region: global or china.")]

REAL_M1_HELP = (
    "To use a real M1: pass --base-url http://HOST:8000/v1 for a vLLM server (add --raw to use its raw "
    "completions endpoint, the recommended way), or set MINIMAX_API_KEY for the hosted MiniMax API "
    "(--region china for the mainland host)."
)


def backend_overrides(
    *, base_url: str | None = None, raw: bool = False, model: str | None = None, region: str | None = None
) -> dict[str, Any]:
    """The ``[backend]`` table the flags stand for; ``None`` leaves the config's value (``load_config``).

    A URL on the command line means a vLLM server, whatever kind the config names.
    """
    return {
        "url": base_url, "raw": True if raw else None, "model": model, "region": region,
        "kind": "vllm" if base_url else None,
    }  # fmt: skip


def make_backend(settings: BackendSettings, environ: Mapping[str, str] | None = None) -> Backend:
    """The backend ``settings`` name. Keys come from the variable ``api_key_env`` names, never a file."""
    from m1agent.backends import CHINA_HOST, GLOBAL_HOST, VLLM, Completions, MiniMax

    env = os.environ if environ is None else environ
    kind = settings.resolved_kind
    key = env.get(settings.key_variable) if settings.key_variable else None
    model = settings.model or None
    if kind == "vllm":
        return VLLM(settings.url, model=model, api_key=key, context_window=settings.context_window)
    if kind == "completions":
        return Completions(settings.url, model=model, api_key=key, context_window=settings.context_window)
    if kind == "minimax":
        if not key:
            raise ConfigError(
                f"no M1 backend configured: set {settings.key_variable} for the hosted API, "
                "or give a vLLM server with --base-url (or backend.url in m1agent.toml)",
                hint="run `m1agent doctor` to check the setup",
            )
        host = CHINA_HOST if settings.region == "china" else GLOBAL_HOST
        return MiniMax(key, host=host, model=model or "MiniMax-M1")
    raise ConfigError(f"backend kind {kind!r} cannot be built from options; use vllm, completions or minimax")


def real_backend(
    *, base_url: str | None, raw: bool = False, model: str | None = None, region: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Backend | None:
    """The real M1 the flags alone point at (no config file is read): a vLLM URL first, then a hosted
    key; ``None`` for neither, so that a command can fall back to a recording."""
    settings = BackendSettings(url=base_url or "", raw=raw, model=model or "", region=region or "global")
    env = os.environ if environ is None else environ
    if not settings.url and not env.get(settings.key_variable):
        return None
    return make_backend(settings, env)


def describe(backend: Backend) -> str:
    """One line naming the backend and model (never a key)."""
    return f"{backend.name} · {backend.model or 'the server’s model'}"
