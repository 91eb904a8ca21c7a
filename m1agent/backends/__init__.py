"""Ways of reaching M1: vLLM chat, raw completions, the hosted MiniMax API, and replay."""

from m1agent.backends._http import RetryPolicy, Timeouts
from m1agent.backends.base import Backend, FinishReason, ModelEvent, ModelRequest, ModelResponse
from m1agent.backends.completions import Completions
from m1agent.backends.minimax import CHINA_HOST, GLOBAL_HOST, MiniMax
from m1agent.backends.vllm import VLLM

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
    "RetryPolicy",
    "Timeouts",
]
