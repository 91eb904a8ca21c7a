"""Ways of reaching M1: vLLM chat, raw completions, the hosted MiniMax API, and replay."""

from m1agent.backends.base import Backend, FinishReason, ModelEvent, ModelRequest, ModelResponse

__all__ = ["Backend", "FinishReason", "ModelEvent", "ModelRequest", "ModelResponse"]
