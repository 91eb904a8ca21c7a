"""m1agent.toml: user file, project file, environment and flags, merged in that order."""

from __future__ import annotations

from pathlib import Path

import pytest

from m1agent.cli.backend_options import make_backend
from m1agent.cli.coding import instructions_for, sandbox_config
from m1agent.cli.config import ConfigError, load_config


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_user_then_project_then_env_then_flags(tmp_path: Path) -> None:
    user = write(tmp_path / "user.toml", 'mode = "auto"\ntrust_project = true\n[backend]\nurl = "http://u:1/v1"\n'
                 'model = "m-user"\n[budgets]\nmax_turns = 7\n[sandbox]\nmemory = "1g"\n')
    repo = tmp_path / "repo"
    write(repo / "m1agent.toml", '[backend]\nmodel = "m-project"\n[rules]\ndeny_paths = ["secrets/*"]\n'
          '[mcp_servers.echo]\ncommand = "echo"\n')
    env = {"M1AGENT_RAW": "1"}
    config = load_config(repo, user_file=user, environ=env, overrides={"mode": None, "budgets": {"max_turns": 3}})
    assert config.mode == "auto" and config.backend.url == "http://u:1/v1" and config.backend.model == "m-project"
    assert config.backend.resolved_kind == "completions" and config.budgets.max_turns == 3
    assert config.rules.deny_paths == ["secrets/*"] and "echo" in config.mcp_servers
    assert sandbox_config(config).memory == "1g" and sandbox_config(config).network == "none"
    assert config.sources == [str(user), str(repo / "m1agent.toml")]
    assert make_backend(config.backend).name == "completions"


def test_a_project_file_cannot_loosen_the_users_approvals(tmp_path: Path) -> None:
    user = write(tmp_path / "user.toml", 'mode = "ask"\n')
    repo = tmp_path / "repo"
    write(repo / ".m1agent" / "m1agent.toml", 'mode = "auto"\n[rules]\nallow_commands = ["*"]\ndeny_paths = ["x"]\n')
    config = load_config(repo, user_file=user, environ={})
    assert config.mode == "ask" and config.rules.allow_commands == [] and config.rules.deny_paths == ["x"]
    write(repo / ".m1agent" / "m1agent.toml", 'mode = "read-only"\n')
    assert load_config(repo, user_file=user, environ={}).mode == "read-only"  # tightening is fine


def test_keys_never_live_in_the_file_and_mistakes_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must not be written in the config file"):
        load_config(None, user_file=write(tmp_path / "a.toml", '[backend]\napi_key = "sk-123"\n'), environ={})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['max_turn'\] in \[budgets\]"):
        load_config(None, user_file=write(tmp_path / "b.toml", "[budgets]\nmax_turn = 3\n"), environ={})
    with pytest.raises(ConfigError, match="mode must be one of"):
        load_config(None, user_file=tmp_path / "none.toml", environ={"M1AGENT_MODE": "yolo"})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(None, user_file=write(tmp_path / "c.toml", "mode = \n"), environ={})


def test_the_hosted_key_comes_from_the_named_variable(tmp_path: Path) -> None:
    config = load_config(None, user_file=write(tmp_path / "u.toml", '[backend]\napi_key_env = "MY_M1_KEY"\n'),
                         environ={})
    with pytest.raises(ConfigError, match="set MY_M1_KEY"):
        make_backend(config.backend, {})
    backend = make_backend(config.backend, {"MY_M1_KEY": "secret-value-123"})
    assert backend.name == "minimax" and "secret-value-123" not in repr(backend)


def test_agents_md_goes_into_the_instructions(tmp_path: Path) -> None:
    write(tmp_path / "AGENTS.md", "Always run `make check`.\n")
    config = load_config(tmp_path, user_file=tmp_path / "none.toml", environ={})
    config.instructions = "Answer in French."
    text = instructions_for(config, tmp_path)
    assert "The repository's AGENTS.md says:\n\nAlways run `make check`." in text
    assert text.endswith("Answer in French.")
