"""mcpServers files: the desktop clients' form, JSON and TOML, project over user, env expansion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from m1agent.mcp.config import MCPConfigError, MCPServerConfig, load_config, server_from_entry


def test_desktop_client_json_is_taken_as_pasted(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {
        "time": {"command": "uvx", "args": ["mcp-server-time"], "env": {"TZ": "UTC"}},
        "remote": {"url": "http://127.0.0.1:9/mcp", "headers": {"X-Team": "a"}},
        "old": {"url": "http://127.0.0.1:9/sse"},
        "off": {"command": "x", "disabled": True},
    }}))
    configs = {c.name: c for c in load_config([path])}
    assert set(configs) == {"time", "remote", "old"}
    assert configs["time"].transport == "stdio" and configs["time"].args == ["mcp-server-time"]
    assert configs["time"].env == {"TZ": "UTC"}
    assert configs["remote"].transport == "http" and configs["remote"].headers == {"X-Team": "a"}
    assert configs["old"].transport == "sse"


def test_project_file_overrides_user_file_server_by_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "user"
    project = tmp_path / "project"
    (project / ".m1agent").mkdir(parents=True)
    user.mkdir()
    (user / "mcp.toml").write_text(
        '[mcpServers.git]\ncommand = "git-server"\n[mcpServers.time]\ncommand = "user-time"\n'
    )
    (project / ".m1agent" / "mcp.json").write_text(json.dumps({"mcpServers": {"time": {"command": "project-time"}}}))
    monkeypatch.setenv("M1AGENT_CONFIG_DIR", str(user))
    configs = {c.name: c for c in load_config(project_dir=project)}
    assert configs["time"].command == "project-time"
    assert configs["git"].command == "git-server"


def test_env_references_are_expanded_and_secrets_stay_out_of_repr() -> None:
    config = server_from_entry(
        "api",
        {"type": "streamable-http", "url": "http://127.0.0.1:1/${PATH_PART}", "bearerToken": "${TOKEN}",
         "headers": {"X-Key": "${KEY:-fallback}"}},
        environ={"PATH_PART": "mcp", "TOKEN": "sk-secret-1"},
    )
    assert config.url == "http://127.0.0.1:1/mcp"
    assert config.http_headers() == {"X-Key": "fallback", "Authorization": "Bearer sk-secret-1"}
    assert "sk-secret-1" not in repr(config) and "fallback" not in repr(config)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"args": ["x"]}, "needs a 'command'"),
        ({"command": "x", "comand": "y"}, "unknown key 'comand'"),
        ({"type": "websocket", "url": "ws://x"}, "unknown transport"),
        ({"command": "x", "args": "a b"}, "list of strings"),
        ({"command": "x", "timeout": 0}, "must be > 0"),
    ],
)
def test_bad_entries_say_what_is_wrong(entry: dict[str, object], message: str) -> None:
    with pytest.raises(MCPConfigError, match=message):
        server_from_entry("s", entry)


def test_bad_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text("{not json")
    with pytest.raises(MCPConfigError, match=r"mcp\.json"):
        load_config([path])


def test_allow_block_approval_and_timeouts_match_globs() -> None:
    config = MCPServerConfig(
        name="git", command="x", allowed_tools=["git_*"], blocked_tools=["git_reset"],
        approval=["git_commit", "git_push*"], tool_timeouts={"git_log": 5}, call_timeout=60,
    )
    assert config.tool_allowed("git_status") and not config.tool_allowed("git_reset")
    assert not config.tool_allowed("rm_rf")
    assert config.needs_approval("git_commit") and not config.needs_approval("git_status")
    assert config.timeout_for("git_log") == 5 and config.timeout_for("git_status") == 60


def test_approval_by_annotation() -> None:
    from mcp.types import ToolAnnotations

    read_only = ToolAnnotations(read_only_hint=True)
    additive = ToolAnnotations(read_only_hint=False, destructive_hint=False)
    destructive = ToolAnnotations(read_only_hint=False, destructive_hint=True)
    writes = MCPServerConfig(name="s", command="x", approval="writes")
    assert [writes.needs_approval("t", a) for a in (read_only, additive, destructive, None)] == [
        False, True, True, True]
    careful = MCPServerConfig(name="s", command="x", approval="destructive")
    assert [careful.needs_approval("t", a) for a in (read_only, additive, destructive, None)] == [
        False, False, True, True]
    with pytest.raises(MCPConfigError, match="approval must be"):
        MCPServerConfig(name="s", command="x", approval="sometimes")  # type: ignore[arg-type]
