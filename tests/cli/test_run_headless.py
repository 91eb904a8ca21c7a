"""`m1agent run --json` end to end: a scripted M1 on a loopback vLLM fixes a failing test in the sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from m1agent.events import ApprovalRequested, RunFinished, ToolCallFinished, event_from_json
from m1agent.testing import VLLMServer

BUGGY = "def add(a, b):\n    return a - b\n"
TESTS = (
    "import unittest\n\nfrom calc import add\n\n\nclass AddTest(unittest.TestCase):\n"
    "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"
)
TEST_COMMAND = "python3 -m unittest -v 2>&1 | tail -5"


def call(name: str, **arguments: object) -> str:
    return "<tool_calls>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_calls>"


SCRIPT = [
    "<think>\nRun the tests first.\n</think>\n" + call("run_shell", command=TEST_COMMAND),
    "<think>\nadd fails. Find it.\n</think>\n" + call("search_files", pattern=r"def add"),
    "<think>\nIt subtracts.\n</think>\n" + call("edit_file", path="calc.py", old_string="return a - b",
                                               new_string="return a + b"),
    "<think>\nCheck again.\n</think>\n" + call("run_shell", command=TEST_COMMAND),
    "<think>\nGreen.\n</think>\nFixed `add` in calc.py: it subtracted. The test passes now.",
]


def make_repo(root: Path) -> Path:
    root.mkdir()
    (root / "calc.py").write_text(BUGGY)
    (root / "test_calc.py").write_text(TESTS)
    return root


def m1agent(args: list[str], tmp: Path, config: str) -> subprocess.CompletedProcess[str]:
    (tmp / "config").mkdir(exist_ok=True)
    (tmp / "config" / "m1agent.toml").write_text(config)
    env = {"PATH": "/usr/bin:/bin", "M1AGENT_CONFIG_DIR": str(tmp / "config"), "XDG_DATA_HOME": str(tmp / "data"),
           "HOME": str(tmp)}
    return subprocess.run([sys.executable, "-m", "m1agent", *args], capture_output=True, text=True, timeout=300,
                          env=env, stdin=subprocess.DEVNULL)


AUTO = 'mode = "auto"\n[rules]\nallow_commands = ["python3 -m unittest*"]\n'


def test_run_json_fixes_the_failing_test_inside_the_sandbox(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    with VLLMServer(script=SCRIPT) as server:
        proc = m1agent(["run", "Make the tests pass.", str(repo), "--json", "--base-url", server.base_url, "--raw"],
                       tmp_path, AUTO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    events = [event_from_json(line) for line in lines[:-1]]  # every line but the last is a run event
    results = [e for e in events if isinstance(e, ToolCallFinished)]
    assert [r.name for r in results] == ["run_shell", "search_files", "edit_file", "run_shell"]
    assert "FAILED (failures=1)" in results[0].content and "calc.py:1: def add(a, b):" in results[1].content
    assert results[3].content.rstrip().endswith("OK") and all(r.status == "ok" for r in results)
    assert not any(isinstance(e, ApprovalRequested) for e in events)  # auto + the allow rule decided
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.stop_reason == "completed"
    changes = json.loads(lines[-1])
    assert changes["kind"] == "workspace_changes" and changes["exit_code"] == 0 and changes["modified"] == ["calc.py"]
    assert "-    return a - b\n+    return a + b" in changes["patch"]
    assert (repo / "calc.py").read_text() == BUGGY  # the checkout is only read
    saved = tmp_path / "data" / "m1agent" / "sessions" / changes["session_id"]
    assert (saved / "transcript.jsonl").is_file() and json.loads((saved / "workspace.json").read_text())["patch"]


def test_ask_mode_without_a_terminal_denies_and_says_how_to_approve(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    script = [SCRIPT[2], "<think>\nNot allowed.\n</think>\nI could not edit calc.py: the edit was not approved."]
    with VLLMServer(script=script) as server:
        proc = m1agent(["run", "Fix it.", str(repo), "--json", "--base-url", server.base_url, "--raw"], tmp_path, "")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "there is no terminal to ask; pass --yes to approve" in proc.stderr
    events = [event_from_json(line) for line in proc.stdout.splitlines()[:-1]]
    denied = [e for e in events if isinstance(e, ToolCallFinished)]
    assert [(e.name, e.status) for e in denied] == [("edit_file", "denied")]
    assert "did not approve" in denied[0].content
    assert (repo / "calc.py").read_text() == BUGGY and json.loads(proc.stdout.splitlines()[-1])["patch"] == ""


def test_a_call_left_waiting_exits_4_and_resume_yes_carries_on(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    with VLLMServer(script=[SCRIPT[2], SCRIPT[4]]) as server:
        base = ["--base-url", server.base_url, "--raw"]
        first = m1agent(["run", "Fix it.", str(repo), "--json", "--stop-on-approval", *base], tmp_path, "")
        assert first.returncode == 4, first.stderr[-3000:]
        session = json.loads(first.stdout.splitlines()[-1])["session_id"]
        second = m1agent(["resume", session, "--json", "--yes", *base], tmp_path, "")
    assert second.returncode == 0, second.stderr[-3000:]
    changes = json.loads(second.stdout.splitlines()[-1])
    assert changes["modified"] == ["calc.py"] and "+    return a + b" in changes["patch"]


def test_apply_commits_on_success_and_a_limit_exits_3(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    for args in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    with VLLMServer(script=[SCRIPT[2], SCRIPT[4], SCRIPT[0]]) as server:
        base = ["--base-url", server.base_url, "--raw", "--json"]
        applied = m1agent(["run", "Fix add.", str(repo), "--apply", *base], tmp_path, AUTO)
        limited = m1agent(["run", "Run the tests.", str(repo), "--max-turns", "1", *base], tmp_path, AUTO)
    assert applied.returncode == 0, applied.stderr[-3000:]
    assert json.loads(applied.stdout.splitlines()[-1])["applied"].startswith("commit ")
    log = subprocess.run(["git", "log", "--format=%s"], cwd=repo, capture_output=True, text=True).stdout
    assert log == "Fix add.\nstart\n" and "return a + b" in (repo / "calc.py").read_text()
    assert limited.returncode == 3, limited.stderr[-3000:]
    assert json.loads(limited.stdout.splitlines()[-1])["stop_reason"] == "max_turns"
