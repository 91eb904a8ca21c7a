"""The examples run, as a user would run them, against a loopback vLLM server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from loop_helpers import answer, call, calls

from m1agent.testing import VLLMServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_weather(counter: Any) -> None:
    script = [
        calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome", "unit": "f"})),
        answer("Paris: 18°C and clear. Rome: 75°F and sunny."),
    ]
    with VLLMServer(script=script, counter=counter) as server:
        done = run_example("weather.py", "--base-url", server.base_url, "Weather in Paris and Rome?")
        bodies = server.bodies
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Paris: 18°C and clear. Rome: 75°F and sunny.\n[completed: 2 turns, 2 tool calls")
    results = [m["content"] for m in bodies[1]["messages"] if m["role"] == "tool"]
    assert results == ["[get_weather] Paris: 18°C, clear", "[get_weather] Rome: 75°F, sunny"]


def test_deps_and_approval_asked_on_the_console(counter: Any, tmp_path: Path) -> None:
    script = [call("balance", account="me"), call("transfer", to="bob", amount=250), answer("Sent 250 EUR to Bob.")]
    with VLLMServer(script=script, counter=counter) as server:
        done = run_example("deps_and_approval.py", "--base-url", server.base_url, "--sessions", str(tmp_path),
                           "Pay Bob 250", stdin="y\n")
        bodies = server.bodies
    assert done.returncode == 0, done.stderr
    assert "Allow transfer({'to': 'bob', 'amount': 250})? [y/N]" in done.stdout
    assert "Sent 250 EUR to Bob.\n[completed" in done.stdout
    tool_results = [m["content"] for m in bodies[2]["messages"] if m["role"] == "tool"]
    assert tool_results == ["[balance] me: 1000 EUR", "[transfer] Sent 250 EUR to bob; 750 EUR left."]


def test_deps_and_approval_left_pending_then_resumed(counter: Any, tmp_path: Path) -> None:
    script = [call("transfer", to="bob", amount=250), answer("Done: Bob has his 250 EUR.")]
    with VLLMServer(script=script, counter=counter) as server:
        first = run_example("deps_and_approval.py", "--base-url", server.base_url, "--sessions", str(tmp_path),
                            "--later", "Pay Bob 250")
        assert first.returncode == 0, first.stderr
        assert "pending approval: transfer({'to': 'bob', 'amount': 250}) as call_0_0" in first.stdout
        session = first.stdout.split("--resume ")[1].split()[0]
        second = run_example("deps_and_approval.py", "--base-url", server.base_url, "--sessions", str(tmp_path),
                             "--resume", session, "--approve")
        bodies = server.bodies
    assert second.returncode == 0, second.stderr
    assert "Done: Bob has his 250 EUR.\n[completed" in second.stdout
    assert bodies[1]["messages"][-1]["content"] == "[transfer] Sent 250 EUR to bob; 750 EUR left."
