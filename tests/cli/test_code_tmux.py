"""`m1agent code` as a person uses it: tmux types into it, its screen is read back; a loopback M1 answers.

The model is a scripted vLLM (raw completions); the Docker sandbox, the tools, the policy, the approval
prompt, the diff and the git operations on the checkout are real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from m1agent.testing import VLLMServer

ORIGINAL = 'def greet() -> str:\n    return "hello"\n'
CHANGED = 'def greet() -> str:\n    return "hello, world"\n'


def _call(name: str, arguments: dict[str, object]) -> str:
    return "<tool_calls>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_calls>"


SCRIPT = [
    "<think>\nThe person wants greet to say hello world. I read hello.py before changing it.\n</think>\n"
    + _call("read_file", {"path": "hello.py"}),
    "<think>\nIt returns the bare greeting. One line changes; writing the file needs approval.\n</think>\n"
    "I'll change the greeting.\n" + _call("write_file", {"path": "hello.py", "content": CHANGED}),
    "<think>\nThe file is written.\n</think>\nDone: `greet` now returns \"hello, world\".",
]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "hello.py").write_text(ORIGINAL)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "hello.py")
    _git(repo, "commit", "-q", "-m", "first")
    return repo


def test_a_session_with_thinking_a_tool_call_an_approval_diff_apply_and_undo(tmp_path: Path, terminal) -> None:
    repo = _repo(tmp_path)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path / "home"), "TERM": "xterm-256color",
        "GIT_AUTHOR_NAME": "Tester", "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "Tester", "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    with VLLMServer(script=SCRIPT, chunk_chars=12, chunk_delay=0.01) as server:
        screen = terminal(["env", "-i", *(f"{k}={v}" for k, v in env.items()), sys.executable, "-m", "m1agent",
                           "code", str(repo), "--base-url", server.base_url, "--raw"])
        # The sandbox started; the prompt is up with its status line under it.
        status = screen.wait_screen("· mode ask · context 0/131.1K (0%) · thinking 0 · $0", timeout=120)
        assert "completions" in status

        screen.type_line("Make greet say hello world")
        screen.wait_for("allow write_file?")
        out = screen.scrollback()
        assert "▸ thought:" in out and "/ 40,000 thinking tokens" in out  # thinking folded with its count
        assert "read_file: ok" in out and 'return "hello"' in out  # the read call's result panel
        assert "approval needed: write_file" in out and "hello, world" in out  # the call's arguments
        screen.type_line("y")
        screen.wait_for('Done: `greet` now returns "hello, world".')
        status = screen.wait_screen("· mode ask · context ")
        assert "thinking 0 ·" not in status  # the turns' thinking tokens were counted
        assert (repo / "hello.py").read_text() == ORIGINAL  # the sandbox's copy changed, not the checkout

        screen.type_line("/diff")
        out = screen.wait_for("working copy vs your checkout")
        assert '+    return "hello, world"' in out and '-    return "hello"' in out

        screen.type_line("/apply")
        screen.wait_for("applied as commit")
        assert (repo / "hello.py").read_text() == CHANGED
        assert _git(repo, "log", "--format=%s").splitlines()[0].startswith("m1agent:")
        assert not _git(repo, "status", "--porcelain").strip()

        screen.type_line("/undo")
        screen.wait_for("dropped commit")
        assert (repo / "hello.py").read_text() == ORIGINAL
        assert _git(repo, "log", "--format=%s").splitlines() == ["first"]

        screen.type_line("/cost")
        screen.wait_for("requests 3")
        screen.type_line("/exit")
        final = screen.wait_for("[program exited]", timeout=60)
    assert "saved under" in final
    assert len(server.bodies) == 3
