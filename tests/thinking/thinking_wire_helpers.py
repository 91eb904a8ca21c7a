"""Scripted thoughts, loopback servers and backends shared by the thinking wire tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from m1agent.backends import VLLM, Completions, MiniMax
from m1agent.backends.base import Backend
from m1agent.testing import MiniMaxServer, ScriptedServer, VLLMServer
from m1agent.testing.server import ScriptEntry

HEADER = "<beginning_of_sentence>ai name=assistant\n"
LONG = "<think>\n" + "Let me think about this step by step. " * 400 + "\n</think>\nThe answer is 41."
SHORT = "<think>\nSix sevens.\n</think>\nThe answer is 42."
KINDS = ("chat", "raw", "hosted")


def finish_answer(body: dict[str, Any]) -> str:
    """The scripted model picks up where the prompt's unfinished answer stops (raw completions)."""
    already = body["prompt"].rsplit(HEADER, 1)[-1]
    return already + "The answer is 42."


def max_tokens(body: dict[str, Any]) -> int:
    """The output budget a request asked for, whatever the API calls it."""
    return int(body.get("max_completion_tokens") or body.get("max_tokens"))


def all_different(bodies: list[dict[str, Any]]) -> bool:
    """No request body was sent twice unchanged."""
    dumped = [json.dumps(b, sort_keys=True) for b in bodies]
    return len(set(dumped)) == len(dumped)


@asynccontextmanager
async def serve(
    kind: str, script: list[ScriptEntry], counter: Any, **server: Any
) -> AsyncIterator[tuple[ScriptedServer, Backend]]:
    """A loopback server of the given kind and a backend pointed at it."""
    context_window = server.pop("context_window", None)
    if kind == "hosted":
        async with MiniMaxServer(script=script, api_key="k", counter=counter, **server) as hosted:
            yield hosted, MiniMax(api_key="k", host=hosted.host)
        return
    async with VLLMServer(script=script, counter=counter, **server) as srv:
        if kind == "chat":
            yield srv, VLLM(srv.base_url, context_window=context_window)
        else:
            yield srv, Completions(srv.base_url, context_window=context_window)
