# Shipped as source into images with any Python >= 3.8, so it keeps to 3.8 idioms and is not held
# to the host code's type checks.
# ruff: noqa: UP031, SIM105, B905
# mypy: ignore-errors
"""What every command shares: capped output capture, process groups, and OOM-kill accounting."""

import os
import select
import signal
import time

RUNNING = {}  # request id -> Popen, for ``cancel``


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
    # Raise the child's OOM score so the kernel kills it, not the agent, at the memory limit.
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


def outcome(code, out, err, started, timed_out=False, oom_killed=False, note=""):
    """A command's reply: exit status, both captures with their whole sizes, and what happened."""
    return {
        "exit": code,
        "stdout": out.text(),
        "stderr": err.text(),
        "stdout_bytes": out.total,
        "stderr_bytes": err.total,
        "timed_out": timed_out,
        "oom_killed": oom_killed,
        "duration": time.monotonic() - started,
        "note": note,
    }
