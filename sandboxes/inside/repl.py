# Shipped as source into images with any Python >= 3.8 (see processes.py).
# ruff: noqa: SIM105, B905
# mypy: ignore-errors
"""The notebook-like Python session: one persistent interpreter, fed one cell at a time."""

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

from .processes import RUNNING, Capture, exit_status, kill_group, oom_kills, outcome, prefer_as_oom_victim

WORKER = r'''
import ast, json, os, sys, traceback
ctl_in = os.fdopen(int(sys.argv[1]), "rb")
ctl_out = os.fdopen(int(sys.argv[2]), "wb", buffering=0)
ns = {"__name__": "__main__", "__builtins__": __builtins__}
def run(code):
    tree = ast.parse(code, "<cell>", "exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, "<cell>", "exec"), ns)
    if last is not None:
        value = eval(compile(last, "<cell>", "eval"), ns)
        if value is not None:
            print(repr(value))
for line in ctl_in:
    code, status = json.loads(line)["code"], 0
    try:
        run(code)
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 1
    except BaseException as e:
        status = 1
        tb = traceback.format_exception(type(e), e, e.__traceback__)
        sys.stderr.write("".join(l for l in tb if 'File "<string>"' not in l))
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    ctl_out.write((json.dumps({"status": status}) + "\n").encode())
'''

RESTARTED = "the Python process was restarted; variables from earlier cells are gone"


class Repl:
    """One persistent Python process; cells run one at a time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc = None

    def ensure(self, cwd):
        """Start the interpreter (in ``cwd`` when it is a folder) unless it runs; True when started."""
        if self.proc is not None and self.proc.poll() is None:
            return False
        req_r, req_w = os.pipe()
        done_r, done_w = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-c", WORKER, str(req_r), str(done_w)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(req_r, done_w),
            start_new_session=True,
            cwd=cwd if cwd and os.path.isdir(cwd) else None,
        )
        prefer_as_oom_victim(self.proc.pid)
        os.close(req_r)
        os.close(done_w)
        self.req = os.fdopen(req_w, "wb", buffering=0)
        self.done = os.fdopen(done_r, "rb", buffering=0)
        return True

    def reset(self):
        if self.proc is not None:
            kill_group(self.proc)
            self.proc.wait()
            for f in (self.req, self.done, self.proc.stdout, self.proc.stderr):
                f.close()
            self.proc = None

    def run(self, req):
        with self.lock:
            return self._run(req)

    def _wait_for_cell(self, streams, timeout):
        """Read the cell's output until it says done; (status, timed_out). A status of None or
        "dead" means the interpreter stopped or had to be left behind."""
        done_fd = self.done.fileno()
        done_buf = bytearray()
        status, timed_out, interrupted = None, False, False
        deadline = time.monotonic() + timeout
        while status is None:
            now = time.monotonic()
            if now >= deadline:
                if interrupted:
                    break
                # First try KeyboardInterrupt, which keeps the variables; kill only if that fails.
                timed_out, interrupted = True, True
                os.killpg(self.proc.pid, signal.SIGINT)
                deadline = now + 1.0
                continue
            ready, _, _ = select.select([done_fd, *streams], [], [], min(deadline - now, 0.05))
            if not ready and self.proc.poll() is not None:
                break
            for fd in ready:
                chunk = os.read(fd, 65536)
                if fd == done_fd:
                    if not chunk:
                        status = "dead"
                    done_buf += chunk
                    if b"\n" in done_buf:
                        status = json.loads(bytes(done_buf).split(b"\n")[0])["status"]
                elif chunk:
                    streams[fd].add(chunk)
        # The cell flushed before saying done: whatever it printed is already in the pipes.
        while True:
            ready, _, _ = select.select(list(streams), [], [], 0)
            chunks = [os.read(fd, 65536) for fd in ready]
            for fd, chunk in zip(ready, chunks):
                streams[fd].add(chunk)
            if not any(chunks):
                break
        return status, timed_out

    def _run(self, req):
        cap = int(req.get("cap", 65536))
        out, err = Capture(cap), Capture(cap)
        fresh = self.ensure(req.get("cwd"))
        RUNNING[req["id"]] = self.proc
        before = oom_kills()
        start = time.monotonic()
        try:
            self.req.write((json.dumps({"code": req["code"]}) + "\n").encode())
        except OSError:
            pass
        streams = {self.proc.stdout.fileno(): out, self.proc.stderr.fileno(): err}
        status, timed_out = self._wait_for_cell(streams, float(req.get("timeout", 60)))
        note, oom = "fresh Python state" if fresh else "", False
        if timed_out and isinstance(status, int):
            note = "interrupted (KeyboardInterrupt); variables from earlier cells are kept"
        if status is None or status == "dead":
            try:
                code = self.proc.wait(timeout=2)  # its pipes closed: it is exiting, or gone
            except subprocess.TimeoutExpired:
                code = None
            oom = code == -9 and not timed_out and oom_kills() > before >= 0
            self.reset()
            note = RESTARTED
            status = exit_status(code) if code is not None else 137
        RUNNING.pop(req["id"], None)
        return outcome(status if isinstance(status, int) else 1, out, err, start, timed_out, oom, note)


REPL = Repl()
