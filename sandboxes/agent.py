# It is shipped as source into images with any Python >= 3.8, so it keeps to 3.8 idioms (no
# zip(strict=), no f-strings needed) and is not held to the host code's type checks.
# ruff: noqa: UP031, SIM105, B905
# mypy: ignore-errors
"""The in-container side of a sandbox session. Standard library only; runs on any Python >= 3.8.

The host starts it once per session (``python3 -c <this source>`` over one exec) and talks to it
with JSON lines on its stdin/stdout, so each command costs a fork inside the container instead of a
``docker exec``. Requests carry an ``id``; replies come back with the same ``id``, possibly out of
order, because each request runs on its own thread. Operations:

- ``sh``: run ``cmd`` under bash (or sh), with optional ``stdin``, a ``timeout`` and an output ``cap``.
- ``py``: run ``code`` in a persistent Python process (a notebook-like REPL).
- ``cancel``: kill the command of request ``target``.
- ``ping``: answer at once.

Timeouts are enforced here (the host only keeps a backstop). Every command runs in its own process
group, which is killed when the command ends, so nothing it started outlives it.
"""

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

OUT_LOCK = threading.Lock()
RUNNING = {}  # request id -> Popen, for ``cancel``
GRACE_AFTER_EXIT = 0.2  # how long to keep reading pipes held open by a finished command's children
SHELL = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"


def reply(message):
    data = (json.dumps(message) + "\n").encode()
    with OUT_LOCK:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


class Capture:
    """Keeps the first and last ``cap // 2`` bytes of a stream and counts all of them."""

    def __init__(self, cap):
        self.half = max(cap // 2, 1)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, chunk):
        self.total += len(chunk)
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > self.half:
                del self.tail[: len(self.tail) - self.half]

    def text(self):
        omitted = self.total - len(self.head) - len(self.tail)
        head = self.head.decode("utf-8", "replace")
        if omitted <= 0:
            return head + self.tail.decode("utf-8", "replace")
        marker = "\n[... %d bytes omitted ...]\n" % omitted
        return head + marker + self.tail.decode("utf-8", "replace")


def oom_kills():
    """The container's OOM-kill counter (cgroup v2 or v1), or -1 when it cannot be read."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("oom_kill "):
                        return int(line.split()[1])
        except OSError:
            continue
    return -1


def exit_status(code):
    return 128 - code if code is not None and code < 0 else code


def prefer_as_oom_victim(pid):
    # Raise the child's OOM score so the kernel kills it, not this process, at the memory limit.
    # Done from here rather than in a preexec_fn, which would rule out the fast vfork spawn.
    try:
        with open("/proc/%d/oom_score_adj" % pid, "w") as f:
            f.write("1000")
    except OSError:
        pass


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def pump(streams, captures, deadline, done):
    """Read ``streams`` into ``captures`` until EOF, ``deadline``, or ``done()`` says stop."""
    open_fds = {s.fileno(): c for s, c in zip(streams, captures)}
    while open_fds:
        now = time.monotonic()
        if now >= deadline or done(now):
            return False
        ready, _, _ = select.select(list(open_fds), [], [], min(deadline - now, 0.05))
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                open_fds[fd].add(chunk)
            else:
                del open_fds[fd]
    return True


def run_shell(req):
    cap = int(req.get("cap", 65536))
    timeout = float(req.get("timeout", 60))
    stdin_data = req.get("stdin")
    out, err = Capture(cap), Capture(cap)
    before = oom_kills()
    start = time.monotonic()
    deadline = start + timeout
    proc, command_fd = SPARES.take()
    RUNNING[req["id"]] = proc
    try:
        view = memoryview(req["cmd"].encode())
        while view:
            view = view[os.write(command_fd, view):]
    except OSError:
        pass
    os.close(command_fd)
    if stdin_data is not None:
        threading.Thread(target=feed_stdin, args=(proc, stdin_data), daemon=True).start()
    else:
        proc.stdin.close()
    exited_at = []

    def finished(now):
        if proc.poll() is None:
            return False
        if not exited_at:
            exited_at.append(now)
        return now - exited_at[0] > GRACE_AFTER_EXIT

    if pump([proc.stdout, proc.stderr], [out, err], deadline, finished):
        # Pipes closed: reap the command before killing its group, or the kill may race its exit.
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            pass
    timed_out = proc.poll() is None
    kill_group(proc)
    code = proc.wait()
    RUNNING.pop(req["id"], None)
    proc.stdout.close()
    proc.stderr.close()
    return {
        "exit": exit_status(code),
        "stdout": out.text(),
        "stderr": err.text(),
        "stdout_bytes": out.total,
        "stderr_bytes": err.total,
        "timed_out": timed_out,
        # Any OOM kill while it ran: the victim may be a child, whose death the shell reports as 137.
        "oom_killed": (not timed_out) and oom_kills() > before >= 0,
        "duration": time.monotonic() - start,
    }


class SpareShells:
    """Keeps one shell started ahead, waiting for its command on a pipe.

    Starting bash is most of what a short command costs; with a spare ready, a command only has
    to be written to it. The next spare starts once the reply is sent, and a command that arrives
    while it is starting waits for it rather than starting a second one.
    """

    def __init__(self):
        self.cond = threading.Condition()
        self.spare = None
        self.refilling = False

    def spawn(self):
        read_fd, write_fd = os.pipe()
        if SHELL == "/bin/bash":
            script = 'IFS= read -r -d "" -u %d __m1_cmd; exec %d<&-; eval "$__m1_cmd"' % (read_fd, read_fd)
        else:
            script = '__m1_cmd=$(cat <&%d); exec %d<&-; eval "$__m1_cmd"' % (read_fd, read_fd)
        try:
            proc = subprocess.Popen(
                [SHELL, "-c", script],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(read_fd,),
                start_new_session=True,
            )
        finally:
            os.close(read_fd)
        prefer_as_oom_victim(proc.pid)
        return proc, write_fd

    def take(self):
        with self.cond:
            while self.spare is None and self.refilling:
                self.cond.wait()
            spare, self.spare = self.spare, None
        if spare is not None and spare[0].poll() is None:
            return spare
        if spare is not None:
            os.close(spare[1])
        return self.spawn()

    def refill(self):
        with self.cond:
            if self.spare is not None or self.refilling:
                return
            self.refilling = True
        fresh = None
        try:
            fresh = self.spawn()
        except OSError:  # e.g. the pids limit is reached right now: take() spawns on demand
            pass
        finally:
            with self.cond:
                self.spare, self.refilling = fresh, False
                self.cond.notify_all()


SPARES = SpareShells()


def feed_stdin(proc, data):
    try:
        proc.stdin.write(data.encode())
        proc.stdin.close()
    except OSError:
        pass


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


class Repl:
    """One persistent Python process; cells run one at a time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc = None

    def ensure(self):
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

    def _run(self, req):
        cap = int(req.get("cap", 65536))
        timeout = float(req.get("timeout", 60))
        out, err = Capture(cap), Capture(cap)
        fresh = self.ensure()
        RUNNING[req["id"]] = self.proc
        before = oom_kills()
        start = time.monotonic()
        status, timed_out, note = None, False, "fresh Python state" if fresh else ""
        done_buf = bytearray()
        try:
            self.req.write((json.dumps({"code": req["code"]}) + "\n").encode())
        except OSError:
            pass
        streams = {self.proc.stdout.fileno(): out, self.proc.stderr.fileno(): err}
        done_fd = self.done.fileno()
        deadline = start + timeout
        interrupted = False
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
            fds = [done_fd, *streams]
            ready, _, _ = select.select(fds, [], [], min(deadline - now, 0.05))
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
        oom = False
        if timed_out and isinstance(status, int):
            note = "interrupted (KeyboardInterrupt); variables from earlier cells are kept"
        if status is None or status == "dead":
            try:
                code = self.proc.wait(timeout=2)  # its pipes closed: it is exiting, or gone
            except subprocess.TimeoutExpired:
                code = None
            oom = code == -9 and not timed_out and oom_kills() > before >= 0
            self.reset()
            note = "the Python process was restarted; variables from earlier cells are gone"
            status = exit_status(code) if code is not None else 137
        RUNNING.pop(req["id"], None)
        return {
            "exit": status if isinstance(status, int) else 1,
            "stdout": out.text(),
            "stderr": err.text(),
            "stdout_bytes": out.total,
            "stderr_bytes": err.total,
            "timed_out": timed_out,
            "oom_killed": oom,
            "duration": time.monotonic() - start,
            "note": note,
        }


REPL = Repl()


def handle(req):
    try:
        op = req.get("op")
        if op == "sh":
            result = run_shell(req)
        elif op == "py":
            result = REPL.run(req)
        elif op == "ping":
            result = {"pong": True}
        elif op == "cancel":
            proc = RUNNING.get(req.get("target"))
            if proc is not None:
                kill_group(proc)
            result = {"cancelled": proc is not None}
        else:
            result = {"error": "unknown op %r" % (op,)}
    except OSError as exc:
        # Typically the pids limit (a fork bomb still dying off): a result the model can act on.
        message = "could not start the command: %s; retry once running processes have ended\n" % exc
        result = {
            "exit": 126, "stdout": "", "stderr": message, "stdout_bytes": 0,
            "stderr_bytes": len(message), "timed_out": False, "oom_killed": False, "duration": 0.0,
        }
    except BaseException as exc:
        result = {"error": "%s: %s" % (type(exc).__name__, exc)}
    result["id"] = req.get("id")
    result["ooms"] = oom_kills()  # lets the host tell, if this agent dies later, whether memory did it
    reply(result)
    if req.get("op") == "sh":
        SPARES.refill()


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


if __name__ == "__main__":
    main()
