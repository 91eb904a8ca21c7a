"""Ways of reaching M1: vLLM chat, raw completions, the hosted MiniMax API, and replay.

The backend classes load on first use, so that importing m1agent does not pay for the HTTP clients.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from m1agent.backends.base import Backend, FinishReason, ModelEvent, ModelRequest, ModelResponse

if TYPE_CHECKING:
    from m1agent.backends._http import RetryPolicy, Timeouts
    from m1agent.backends.completions import Completions
    from m1agent.backends.minimax import CHINA_HOST, GLOBAL_HOST, MiniMax
    from m1agent.backends.replay import Replay
    from m1agent.backends.vllm import VLLM

_LAZY = {
    "RetryPolicy": "_http",
    "Timeouts": "_http",
    "Completions": "completions",
    "CHINA_HOST": "minimax",
    "GLOBAL_HOST": "minimax",
    "MiniMax": "minimax",
    "Replay": "replay",
    "VLLM": "vllm",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'm1agent.backends' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"m1agent.backends.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "CHINA_HOST",
    "GLOBAL_HOST",
    "VLLM",
    "Backend",
    "Completions",
    "FinishReason",
    "MiniMax",
    "ModelEvent",
    "ModelRequest",
    "ModelResponse",
    "Replay",
    "RetryPolicy",
    "Timeouts",
]
