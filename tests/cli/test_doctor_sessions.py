"""`m1agent doctor`, `sessions` and `show` against real servers, a real engine and real transcripts."""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

from m1agent import Agent, tool
from m1agent.backends import Completions
from m1agent.cli.app import app
from m1agent.testing import VLLMServer

SERVERS = Path(__file__).resolve().parents[1] / "mcp" / "servers"


def test_doctor_passes_and_fails_each_line_with_its_fix(tmp_path: Path, tokenizer_dir: Path) -> None:
    config = tmp_path / "m1agent.toml"
    config.write_text(
        f'[mcp_servers.good]\ncommand = "{sys.executable}"\nargs = ["{SERVERS / "well_behaved.py"}"]\n'
        '[mcp_servers.broken]\ncommand = "/nonexistent/server"\nconnect_timeout = 5\n'
    )
    runner = CliRunner()
    with VLLMServer() as server:
        url = server.base_url
        result = runner.invoke(app, ["doctor", str(tmp_path), "--base-url", server.base_url, "--config", str(config)])
        wrong = runner.invoke(app, ["doctor", str(tmp_path), "--base-url", server.base_url, "--model", "other",
                                    "--config", str(tmp_path / "none.toml")])
    out = result.output
    assert result.exit_code == 1, out
    assert f"✓ backend: vllm at {url}, model MiniMaxAI/MiniMax-M1-80k" in out
    assert "✓ tokenizer: exact" in out and "✓ docker: engine" in out and "✓ sandbox image: m1agent-sandbox:" in out
    assert "✓ mcp good: well-behaved 1.0" in out
    assert "✗ mcp broken:" in out and "fix: check its command/url in [mcp_servers]" in out
    assert wrong.exit_code == 1
    assert "✗ backend:" in wrong.output and "fix: set backend.model to one of: MiniMaxAI/MiniMax-M1-80k" in wrong.output
    down = runner.invoke(app, ["doctor", "--base-url", "http://127.0.0.1:9/v1", "--config", str(tmp_path / "x")])
    assert "✗ backend: vllm at http://127.0.0.1:9/v1: ConnectError" in down.output
    assert "fix: start the vLLM server" in down.output


@tool
def lookup(word: str) -> str:
    """Look a word up."""
    return f"{word}: a small test word"


async def test_sessions_lists_and_show_prints_thinking_folded(tmp_path: Path) -> None:
    script = [
        '<think>\nI should look the word up first.\nThen answer.\n</think>\n<tool_calls>\n'
        '{"name": "lookup", "arguments": {"word": "gleam"}}\n</tool_calls>',
        "<think>\nDone.\n</think>\nGleam means a small light.",
    ]
    with VLLMServer(script=script) as server:
        agent = Agent(Completions(server.base_url), "Be brief.", tools=[lookup], sessions=tmp_path / "s")
        result = await agent.run("What does gleam mean?")
    runner = CliRunner()
    listing = runner.invoke(app, ["sessions", "--sessions", str(tmp_path / "s")])
    assert result.session_id in listing.output and "completed" in listing.output
    assert "What does gleam mean?" in listing.output
    shown = runner.invoke(app, ["show", result.session_id, "--sessions", str(tmp_path / "s")])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert "you: What does gleam mean?" in lines
    assert "▸ thought (45 chars): I should look the word up first." in lines
    assert '→ lookup {"word": "gleam"}' in lines and "← lookup [ok]" in lines
    assert "M1: Gleam means a small light." in lines and "Then answer." not in shown.output
    unfolded = runner.invoke(app, ["show", result.session_id, "--thinking", "--sessions", str(tmp_path / "s")])
    assert "  Then answer." in unfolded.output.splitlines()
    missing = runner.invoke(app, ["show", "s_nope", "--sessions", str(tmp_path / "s")])
    assert missing.exit_code == 1
