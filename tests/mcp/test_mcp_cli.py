"""``m1agent mcp list`` and ``m1agent mcp call`` on a config file."""

from __future__ import annotations

import json
from pathlib import Path

from mcp_helpers import ours
from typer.testing import CliRunner

from m1agent.cli.app import app


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {
        "calc": ours("well_behaved.py", blockedTools=["distance"]),
        "ghost": {"command": "/nonexistent/server"},
    }}))
    return path


def test_list_shows_health_and_tools(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["mcp", "list", "-c", str(write_config(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "calc: healthy [stdio] well-behaved 1.0 (protocol 2026-07-28)" in result.output
    assert "  - calc__echo" in result.output and "calc__distance" not in result.output
    assert "ghost: failed" in result.output and "command not found: /nonexistent/server" in result.output


def test_call_by_hand(tmp_path: Path) -> None:
    config = str(write_config(tmp_path))
    runner = CliRunner()
    ok = runner.invoke(app, ["mcp", "call", "calc", "add", "--args", '{"a": 2, "b": 40}', "-c", config])
    assert ok.exit_code == 0 and ok.output.strip() == '{"sum":42}'
    failed = runner.invoke(app, ["mcp", "call", "calc", "fail", "--args", '{"message": "no"}', "-c", config])
    assert failed.exit_code == 1 and "MCP tool 'calc__fail' failed" in failed.output
    bad = runner.invoke(app, ["mcp", "call", "calc", "add", "--args", "{a: 1}", "-c", config])
    assert bad.exit_code == 2 and "not JSON" in bad.output
