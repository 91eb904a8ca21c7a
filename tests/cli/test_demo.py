"""`m1agent demo` end to end: replayed model, real Docker sandbox, real tests, real policy, real diff."""

import subprocess
import sys
from pathlib import Path

from m1agent.cli.demo import REPO


def test_demo_fixes_the_failing_test_in_the_sandbox(tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in REPO.iterdir()}
    proc = subprocess.run(
        [sys.executable, "-m", "m1agent", "demo", "--sessions", str(tmp_path / "sessions")],
        capture_output=True, text=True, timeout=600, env={"PATH": "/usr/bin:/bin", "COLUMNS": "160"},
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "replayed" in out and "MINIMAX_API_KEY" in out
    assert "FAILED (failures=2)" in out  # the first test run, inside the sandbox
    assert "Ran 4 tests" in out and "\nOK" in out.replace("│", "\n").replace(" ", "")  # the second run
    assert "+    words = re.findall" in out and "-    words = title.lower().split" in out
    assert "run completed" in out
    # The bundled checkout is never written; the session transcript was saved.
    assert {p.name: p.read_bytes() for p in REPO.iterdir()} == before
    assert list((tmp_path / "sessions").glob("*/transcript.jsonl"))
