"""Scripted M1 servers on 127.0.0.1, for testing agents over the real wire.

Each server is a real HTTP server on a free loopback port, run from a background thread. What the model
writes comes from a script: a list of raw M1 outputs (``<think>…</think>`` + text + ``<tool_calls>``
block), one per generation request; an entry may also be a callable ``body -> str``. Faults can be
injected per request. Every request is recorded.

    from m1agent.backends import VLLM, Completions, MiniMax
    from m1agent.testing import Fault, MiniMaxServer, VLLMServer

    with VLLMServer(script=[raw_m1_output], faults={0: Fault.rate_limit(1.0)}) as srv:
        backend = VLLM(srv.base_url)            # or Completions(srv.base_url)
        ...
        assert srv.bodies[-1]["temperature"] == 1.0

    async with MiniMaxServer(script=[...], api_key="k") as srv:
        backend = MiniMax(api_key="k", host=srv.host)

Common to both servers (``ScriptedServer``):

- ``start()``/``stop()``, or use as a sync or async context manager; ``port``, ``url``.
- ``requests``: every ``RecordedRequest(method, path, headers, body)``; ``bodies``: the JSON bodies of
  the generation requests only; ``remaining``: script entries not yet used; ``add_script(*outputs)``.
- ``faults={n: Fault...}`` strikes the ``n``-th generation request (0-based, failed ones counted). A
  request that meets a fault does not use up its script entry.
- ``counter``: the token counter for ``usage``, ``max_tokens`` and ``/tokenize`` (default
  ``m1agent.tokens.load_counter()``); ``chunk_chars``/``chunk_delay`` shape the streamed pieces.
- A request beyond the end of the script gets an HTTP 400 that says so (not retried by clients).

``Fault``: ``http(status, message, retry_after=)``, ``rate_limit(retry_after=1.0)``,
``server_error(500|503)``, ``context_too_long()``, ``reset(after_chars=)``, ``stall(after_chars=,
seconds=)``, ``malformed_sse(after_chars=)``, and for ``MiniMaxServer`` ``base_resp(code, message=,
in_stream=)``.
"""

from m1agent.testing.faults import Fault
from m1agent.testing.minimax import MiniMaxServer
from m1agent.testing.server import RecordedRequest, ScriptedServer, ScriptExhausted
from m1agent.testing.vllm import VLLMServer

__all__ = ["Fault", "MiniMaxServer", "RecordedRequest", "ScriptExhausted", "ScriptedServer", "VLLMServer"]
