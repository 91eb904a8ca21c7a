"""Ways of reaching M1: vLLM (or SGLang) chat, raw completions, the hosted MiniMax API, and replay.

The backend classes load on first use, so that importing m1agent does not pay for the HTTP clients.
What each kind of server does is a ``ServerProfile`` (``m1agent.backends.profile``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from m1agent.backends.base import Backend, FinishReason, ModelEvent, ModelRequest, ModelResponse
from m1agent.backends.profile import (
    HOSTED_NATIVE,
    HOSTED_OPENAI,
    RAW_COMPLETIONS,
    REPLAY,
    SGLANG_CHAT,
    VLLM_CHAT,
    ServerProfile,
)

if TYPE_CHECKING:
    from m1agent.backends.completions import Completions
    from m1agent.backends.minimax import CHINA_HOST, GLOBAL_HOST, MiniMax
    from m1agent.backends.replay import Replay
    from m1agent.backends.transport import RetryPolicy, Timeouts
    from m1agent.backends.vllm import VLLM

_LAZY = {
    "RetryPolicy": "transport",
    "Timeouts": "transport",
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
    "HOSTED_NATIVE",
    "HOSTED_OPENAI",
    "RAW_COMPLETIONS",
    "REPLAY",
    "SGLANG_CHAT",
    "VLLM",
    "VLLM_CHAT",
    "Backend",
    "Completions",
    "FinishReason",
    "MiniMax",
    "ModelEvent",
    "ModelRequest",
    "ModelResponse",
    "Replay",
    "RetryPolicy",
    "ServerProfile",
    "Timeouts",
]
