"""Driving a terminal program as a person does: tmux on its own socket, send-keys, capture-pane."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest


class TmuxScreen:
    """One detached tmux session running ``command`` in a ``width`` × ``height`` terminal."""

    def __init__(self, command: Sequence[str], *, width: int = 150, height: int = 50) -> None:
        self.socket = f"m1agent-test-{uuid.uuid4().hex[:8]}"
        self._tmux("new-session", "-d", "-s", "main", "-x", str(width), "-y", str(height),
                   # keep the pane when the program ends, so that its last screen can still be read
                   shlex.join(command) + "; echo '[program exited]'; sleep 600")

    def _tmux(self, *args: str) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def send(self, *keys: str) -> None:
        """Keys as tmux names them (``Enter``, ``Escape``, ``C-c``); literal text otherwise."""
        for key in keys:
            if key in ("Enter", "Escape", "Up", "Down", "BSpace") or (key.startswith("C-") and len(key) == 3):
                self._tmux("send-keys", "-t", "main", key)
            else:
                self._tmux("send-keys", "-t", "main", "-l", key)

    def type_line(self, text: str) -> None:
        self.send(text, "Enter")

    def screen(self) -> str:
        """The visible screen."""
        return self._tmux("capture-pane", "-p", "-t", "main")

    def scrollback(self, *, colours: bool = False) -> str:
        """Everything the program printed so far (screen and history); ``colours`` keeps the escapes."""
        return self._tmux("capture-pane", "-p", "-J", *(["-e"] if colours else []), "-S", "-", "-t", "main")

    def wait_for(self, text: str, *, timeout: float = 60.0, count: int = 1) -> str:
        """Poll until ``text`` appears ``count`` times in the scrollback; returns the scrollback."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.scrollback()
            if out.count(text) >= count:
                return out
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear within {timeout:g} s; the screen:\n{out}")
            time.sleep(0.2)

    def wait_screen(self, text: str, *, timeout: float = 60.0) -> str:
        """Poll until ``text`` is on the visible screen (e.g. the status line under a prompt)."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.screen()
            if text in out:
                return out
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} was not on the screen within {timeout:g} s; the screen:\n{out}")
            time.sleep(0.2)

    def prompt_line(self) -> str:
        """The last prompt line on the screen (where the person is typing)."""
        lines = [line.rstrip() for line in self.screen().splitlines() if line.startswith("›")]
        return lines[-1] if lines else ""

    def wait_prompt(self, expected: str, *, timeout: float = 30.0) -> None:
        """Poll until the prompt line reads exactly ``expected``."""
        deadline = time.monotonic() + timeout
        while self.prompt_line() != expected:
            if time.monotonic() > deadline:
                raise AssertionError(f"the prompt line is {self.prompt_line()!r}, not {expected!r}:\n{self.screen()}")
            time.sleep(0.2)

    def kill_program(self) -> None:
        """SIGKILL the program in the pane (a crash, as far as it can tell)."""
        shell = self._tmux("list-panes", "-t", "main", "-F", "#{pane_pid}").split()[0]
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", shell], capture_output=True, text=True).stdout
        for pid in children.split():
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] != b"sleep":
                os.kill(int(pid), signal.SIGKILL)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)


@pytest.fixture
def terminal() -> Iterator[Callable[..., TmuxScreen]]:
    """Start programs in tmux terminals; every one is closed at the end of the test."""
    screens: list[TmuxScreen] = []

    def start(command: Sequence[str], **size: int) -> TmuxScreen:
        screens.append(TmuxScreen(command, **size))
        return screens[-1]

    yield start
    for screen in screens:
        screen.close()
