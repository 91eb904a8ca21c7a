# Shipped as source into images with any Python >= 3.8 (see processes.py).
# ruff: noqa: UP031
# mypy: ignore-errors
"""Resident modules: host-supplied, standard-library Python loaded once and called in-process.

A call costs a dict lookup and a function call instead of a process start (~60 ms of interpreter
start and imports), which is what makes file tools as fast as a warm shell command. The module's
``handle(request)`` runs on the request's thread; it must return JSON-ready data.

A module's key is its source's SHA-256, checked on loading: whoever loads a key first (code in the
sandbox can reach the agent's pipes too), it names the source the host means.
"""

import threading
import types

LOADED = {}  # key -> module
LOCK = threading.Lock()


def call(req):
    key = req["module"]
    with LOCK:
        module = LOADED.get(key)
        if module is None:
            if "source" not in req:
                return {"error": "module %s is not loaded here; send its source" % key}
            import hashlib  # here, not at the top: it would add to every agent's start

            if hashlib.sha256(req["source"].encode()).hexdigest() != key:
                return {"error": "module %s: the source does not match its key" % key}
            module = types.ModuleType("m1box_module_" + key)
            exec(compile(req["source"], "<module %s>" % key, "exec"), module.__dict__)
            LOADED[key] = module
    return {"reply": module.handle(req["request"])}
