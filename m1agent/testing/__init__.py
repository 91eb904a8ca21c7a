"""Scripted M1 servers on 127.0.0.1, for testing agents over the real wire.

Each server is a real HTTP server on a free loopback port, run from a background thread. What the model
writes comes from a script: a list of raw M1 outputs (``<think>…</think>`` + text + ``<tool_calls>``
block), one per generation request. Faults can be injected per request. Every request body is recorded.

    from m1agent.backends import VLLM, Completions, MiniMax
    from m1agent.testing import Fault, MiniMaxServer, VLLMServer

    with VLLMServer(script=[raw_m1_output], faults={0: Fault.rate_limit(1.0)}) as srv:
        backend = VLLM(srv.base_url)            # or Completions(srv.base_url)
        ...
        assert srv.bodies[-1]["temperature"] == 1.0

    async with MiniMaxServer(script=[...], api_key="k") as srv:
        backend = MiniMax(api_key="k", host=srv.host)

Servers work as sync and async context managers, or with ``start()``/``stop()``.
"""

from m1agent.testing.faults import Fault
from m1agent.testing.minimax import MiniMaxServer
from m1agent.testing.server import RecordedRequest, ScriptedServer, ScriptExhausted
from m1agent.testing.vllm import VLLMServer

__all__ = ["Fault", "MiniMaxServer", "RecordedRequest", "ScriptExhausted", "ScriptedServer", "VLLMServer"]
