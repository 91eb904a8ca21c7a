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

from m1agent.testing import Fault, VLLMServer

ORIGINAL = 'def greet() -> str:\n    return "hello"\n'
CHANGED = 'def greet() -> str:\n    return "hello, world"\n'


def _call(name: str, arguments: dict[str, object]) -> str:
    return "<tool_calls>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_calls>"


LONG_THOUGHT = "".join(f"Step {i}: weigh what the greeting should say and where it is defined.\n" for i in range(30))
SCRIPT = [
    "<think>\n" + LONG_THOUGHT + "The person wants greet to say hello world; I read hello.py first.\n</think>\n"
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
    with VLLMServer(script=SCRIPT, chunk_chars=40, chunk_delay=0.04) as server:
        screen = terminal(["env", "-i", *(f"{k}={v}" for k, v in env.items()), sys.executable, "-m", "m1agent",
                           "code", str(repo), "--base-url", server.base_url, "--raw"])
        # The sandbox started; the prompt is up with its status line under it.
        status = screen.wait_screen("· mode ask · context 0/131.1K (0%) · thinking 0 · $0", timeout=120)
        assert "completions" in status

        screen.type_line("Make greet say hello world")
        # While the model thinks: its last lines, dimmed, under a live count against the budget.
        live = screen.wait_screen("thinking… ")
        assert "/ 40,000 thinking tokens" in live and "Step " in live
        screen.wait_for("allow write_file?")
        out = screen.scrollback()
        assert "thinking… " not in out and "Step 3:" not in out  # folded: the live view is gone
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
        coloured = screen.scrollback(colours=True)  # syntax-highlighted: added and removed lines in colour
        added = next(line for line in coloured.splitlines() if '+    return "hello, world"' in line)
        removed = next(line for line in coloured.splitlines() if '-    return "hello"' in line)
        assert "\x1b[" in added.split("+    return")[0] and "\x1b[" in removed.split("-    return")[0]
        assert added.split("+    return")[0] != removed.split("-    return")[0]

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
        # The script is used up: the server refuses the next request; the session reports it and goes on.
        screen.type_line("One more thing")
        out = screen.wait_for("run backend_error")
        assert "the script has only 3 entries" in out
        screen.wait_screen("· mode ask · context ")
        # The process dies without /exit (SIGKILL): what the runs did was kept as they ended.
        screen.kill_program()
        screen.wait_for("[program exited]", timeout=60)
        (session_id,) = [p.name for p in (tmp_path / "home/.local/share/m1agent/sessions").iterdir()]

        # Carried on later: the conversation and the working copy's changes come back.
        again = terminal(["env", "-i", *(f"{k}={v}" for k, v in env.items()), sys.executable, "-m", "m1agent",
                          "code", str(repo), "--base-url", server.base_url, "--raw", "--resume", session_id])
        out = again.wait_for("its changes are back in the working copy", timeout=120)
        assert f"resumed session {session_id} (" in out
        again.wait_screen("· mode ask · context ")
        again.type_line("/diff")
        out = again.wait_for("working copy vs your checkout")
        assert '+    return "hello, world"' in out
        again.type_line("/exit")
        again.wait_for("[program exited]", timeout=60)
    assert len(server.bodies) == 4


WRITE_A = _call("write_file", {"path": "a.txt", "content": "a\n"})
WRITE_B = _call("write_file", {"path": "b.txt", "content": "b\n"})
SECOND_SCRIPT = [
    "<think>\nThe person asked over three lines; I would write a.txt.\n</think>\n" + WRITE_A,
    "<think>\nRefused: I will leave the repository as it is, say so.\n</think>\nI left everything as it was.",
    "<think>\nNow allowed: a.txt first.\n</think>\n" + WRITE_A,
    "<think>\nThen b.txt.\n</think>\n" + WRITE_B,
    "<think>\nBoth are written.\n</think>\nWrote a.txt and b.txt.",
    "<think>\nOnce more, a third file.\n</think>\n" + _call("write_file", {"path": "c.txt", "content": "c\n"}),
    "<think>\nThe session is read-only now.\n</think>\nRead-only: I stop here.",
]


def test_multi_line_input_answers_n_and_always_modes_thinking_context_clear_and_resume(
    tmp_path: Path, terminal
) -> None:
    repo = _repo(tmp_path)
    home = tmp_path / "home"
    config = home / ".config" / "m1agent" / "m1agent.toml"
    config.parent.mkdir(parents=True)
    server_script = Path(__file__).resolve().parents[1] / "mcp" / "servers" / "well_behaved.py"
    config.write_text(  # an MCP server from the user's config, for /mcp
        f"[mcp_servers.demo]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(server_script))}]\n"
    )
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "TERM": "xterm-256color"}
    # The first request stalls mid-thought: Ctrl-C cancels that run, and the session carries on.
    with VLLMServer(script=SECOND_SCRIPT, faults={0: Fault.stall(after_chars=30, seconds=60)}) as server:
        screen = terminal(["env", "-i", *(f"{k}={v}" for k, v in env.items()), sys.executable, "-m", "m1agent",
                           "code", str(repo), "--base-url", server.base_url, "--raw"])
        screen.wait_screen("· mode ask · context 0/", timeout=120)
        screen.type_line("This one hangs")
        screen.wait_screen("thinking… ")
        screen.send("C-c")
        screen.wait_for("interrupted")
        screen.wait_screen("· mode ask · context ")

        # Multi-line input: a trailing backslash and Esc-Enter both start a new line; Enter sends.
        screen.send("first line\\", "Enter", "second line", "Escape", "Enter", "third line", "Enter")
        screen.wait_for("allow write_file?")
        screen.type_line("n")
        screen.wait_for("I left everything as it was.")
        assert "refused" in screen.scrollback()
        sent = server.bodies[1]["prompt"]
        assert "first line\nsecond line\nthird line" in sent

        screen.wait_screen("· mode ask · context ")
        screen.type_line("/thinking")
        screen.wait_for("I will leave the repository as it is, say so.")  # the last thought, unfolded

        screen.type_line("/thinking low")
        screen.wait_for("thinking budget: up to 4,096 tokens per answer")
        screen.type_line("Go ahead")
        screen.wait_for("allow write_file?", count=2)
        screen.type_line("a")
        screen.wait_for("Wrote a.txt and b.txt.")
        out = screen.scrollback()
        assert "/ 4,096 thinking tokens" in out
        # Both requests answered a person's message; the second was made after /thinking low.
        assert server.bodies[3]["max_tokens"] < server.bodies[1]["max_tokens"] - 30_000
        assert out.count("allow write_file?") == 2  # b.txt needed no second question
        assert "write_file is approved for the rest of this session" in out

        screen.type_line("/mode read-only")
        screen.wait_screen("· mode read-only · ")
        screen.type_line("Once more")
        screen.wait_for("Read-only: I stop here.")
        assert "policy denied" in screen.scrollback()
        assert screen.scrollback().count("allow write_file?") == 2

        screen.type_line("/context")
        out = screen.wait_for("tool results")
        assert "instructions" in out and "thinking" in out

        screen.type_line("/clear")
        screen.wait_screen("new conversation")
        screen.type_line("/resume")
        sessions = home / ".local" / "share" / "m1agent" / "sessions"
        (session_id,) = [p.name for p in sessions.iterdir() if p.is_dir()]
        screen.wait_for(session_id)
        screen.type_line(f"/resume {session_id}")
        screen.wait_for(f"resumed session {session_id}")

        screen.type_line("/help")
        out = screen.wait_for("Esc-Enter for a new line")
        assert all(f"/{name}" in out for name in ("context", "cost", "thinking", "compact", "mcp", "model", "undo"))
        screen.type_line("/model")
        screen.wait_for("backend completions · model MiniMaxAI/MiniMax-M1-80k · context window 131,072")
        screen.type_line("/model MiniMaxAI/other")  # a backend built from the same flags, another name
        screen.wait_for("backend completions · model MiniMaxAI/other · context window")
        screen.type_line("/mcp")
        out = screen.wait_for("demo:")
        assert "echo" in out.split("demo:")[-1]
        screen.type_line("/compact")
        screen.wait_for("compacted:")
        screen.type_line("/nonsense")
        screen.wait_for("unknown command /nonsense: /help lists the commands")
        # History: Up brings back the last line; Ctrl-C drops it; Ctrl-D leaves.
        screen.wait_prompt("›")
        screen.send("Up")
        screen.wait_prompt("› /nonsense")
        screen.send("C-c")
        screen.wait_prompt("›")
        screen.send("C-d")
        final = screen.wait_for("[program exited]", timeout=60)
        assert "unknown command /nonsense" in final and final.count("unknown command") == 1
        assert f"`m1agent code --resume {session_id}` carries it on" in final.replace("\n", "")
    assert len(server.bodies) == len(SECOND_SCRIPT) + 1  # the stalled request, then one per script entry
    history = (home / ".local" / "share" / "m1agent" / "history").read_text()
    assert "/mode read-only" in history and "Go ahead" in history
    assert not (repo / "a.txt").exists()  # nothing was applied
