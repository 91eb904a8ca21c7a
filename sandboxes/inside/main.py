# Shipped as source into images with any Python >= 3.8 (see processes.py).
# ruff: noqa: UP031, SIM105
# mypy: ignore-errors
"""The agent's loop: JSON-line requests in on stdin, replies out on stdout, each on its own thread.

Requests carry an ``id``; replies come back with the same ``id``, possibly out of order. Operations:

- ``sh``: run ``cmd`` under bash (or sh), with optional ``stdin``, a ``timeout`` and an output ``cap``.
- ``py``: run ``code`` in the persistent Python process (started in ``cwd`` when it starts).
- ``module``: call ``handle(request)`` of the resident module ``module`` (loaded from ``source``).
- ``cancel``: kill the command of request ``target``.
- ``ping``: answer at once.
"""

import json
import os
import signal
import sys
import threading

from . import modules
from .processes import RUNNING, kill_group, oom_kills
from .repl import REPL
from .shell import SPARES, run_shell

OUT_LOCK = threading.Lock()


def reply(message):
    data = (json.dumps(message) + "\n").encode()
    with OUT_LOCK:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def cancel(req):
    proc = RUNNING.get(req.get("target"))
    if proc is not None:
        kill_group(proc)
    return {"cancelled": proc is not None}


OPS = {
    "sh": run_shell,
    "py": REPL.run,
    "module": modules.call,
    "ping": lambda req: {"pong": True},
    "cancel": cancel,
}


def handle(req):
    op = req.get("op")
    try:
        result = answer(op, req)
    except BaseException as exc:
        result = {"error": "%s: %s" % (type(exc).__name__, exc)}
    result["id"] = req.get("id")
    result["ooms"] = oom_kills()  # lets the host tell, if this agent dies later, whether memory did it
    try:
        reply(result)
    except (TypeError, ValueError) as exc:  # a resident module returned something JSON cannot carry
        reply({"id": req.get("id"), "error": "the reply could not be sent: %s" % exc})
    if op == "sh":
        SPARES.refill()


def answer(op, req):
    try:
        if op not in OPS:
            raise ValueError("unknown op %r" % (op,))
        result = OPS[op](req)
    except OSError as exc:
        if op not in ("sh", "py"):
            raise
        # Typically the pids limit (a fork bomb still dying off): a result the model can act on.
        message = "could not start the command: %s; retry once running processes have ended\n" % exc
        result = {
            "exit": 126, "stdout": "", "stderr": message, "stdout_bytes": 0,
            "stderr_bytes": len(message), "timed_out": False, "oom_killed": False, "duration": 0.0,
        }
    return result


def main():
    # Threads here mostly wait on I/O; a short switch interval lets a new request's thread run
    # without waiting up to 5 ms for one that is busy starting the next spare shell.
    sys.setswitchinterval(0.0002)
    os.umask(0o022)
    home = os.environ.get("HOME")
    if home:
        try:
            os.makedirs(home, exist_ok=True)
        except OSError:
            pass
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    threading.Thread(target=SPARES.refill, daemon=True).start()
    reply({"ready": True, "pid": os.getpid(), "python": sys.version.split()[0], "ooms": oom_kills()})
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        req = json.loads(line)
        threading.Thread(target=handle, args=(req,), daemon=True).start()
