# Shipped as source into images with any Python >= 3.8 (see processes.py).
# ruff: noqa: UP031, SIM105
# mypy: ignore-errors
"""Shell commands: each runs under bash (or sh) in its own process group, killed when it ends."""

import os
import subprocess
import threading
import time

from .processes import RUNNING, Capture, exit_status, kill_group, oom_kills, outcome, prefer_as_oom_victim, pump

GRACE_AFTER_EXIT = 0.2  # how long to keep reading pipes held open by a finished command's children
SHELL = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"


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


def run_shell(req):
    cap = int(req.get("cap", 65536))
    out, err = Capture(cap), Capture(cap)
    before = oom_kills()
    start = time.monotonic()
    deadline = start + float(req.get("timeout", 60))
    proc, command_fd = SPARES.take()
    RUNNING[req["id"]] = proc
    try:
        view = memoryview(req["cmd"].encode())
        while view:
            view = view[os.write(command_fd, view):]
    except OSError:
        pass
    os.close(command_fd)
    if req.get("stdin") is not None:
        threading.Thread(target=feed_stdin, args=(proc, req["stdin"]), daemon=True).start()
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
    # Any OOM kill while it ran: the victim may be a child, whose death the shell reports as 137.
    oom = (not timed_out) and oom_kills() > before >= 0
    return outcome(exit_status(code), out, err, start, timed_out, oom)
