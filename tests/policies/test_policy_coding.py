"""The coding pack: modes, path rules and command rules, through the same engine."""

from __future__ import annotations

from m1agent.policies.coding import coding_policy

from m1agent.protocol.types import ToolCallPart


def decide(engine, name: str, **arguments: object) -> str:  # type: ignore[no-untyped-def]
    return engine.check_call(ToolCallPart(name, dict(arguments), "c"), []).action


def test_ask_mode_asks_before_writes_and_commands_but_not_reads() -> None:
    engine = coding_policy("ask")
    assert decide(engine, "read_file", path="src/app.py") == "allow"
    assert decide(engine, "write_file", path="src/app.py", content="x") == "ask"
    assert decide(engine, "run_shell", command="pytest -q") == "ask"
    assert decide(engine, "some_mcp_tool", x=1) == "ask"  # unknown tools count as writes


def test_read_only_mode_refuses_writes() -> None:
    engine = coding_policy("read-only")
    assert decide(engine, "write_file", path="a.py") == "deny"
    assert "read-only" in engine.audit[-1].reason
    assert decide(engine, "list_files", path=".") == "allow"


def test_auto_mode_runs_allowed_commands_and_asks_for_the_rest() -> None:
    engine = coding_policy("auto")
    assert decide(engine, "run_shell", command="pytest -q && ruff check .") == "allow"
    assert decide(engine, "run_shell", command="pip install requests") == "ask"
    assert decide(engine, "run_shell", command="ls $(cat list)") == "ask"
    assert decide(engine, "write_file", path="src/new.py") == "allow"


def test_deny_rules_win_in_every_mode() -> None:
    for mode in ("ask", "auto"):
        engine = coding_policy(mode)  # type: ignore[arg-type]
        assert decide(engine, "run_shell", command="ls && sudo rm -rf /") == "deny"
        assert decide(engine, "run_shell", command="git push origin main") == "deny"
        assert decide(engine, "read_file", path=".env") == "deny"
        assert decide(engine, "write_file", path="deploy/id_rsa") == "deny"
        assert decide(engine, "write_file", path=".git/config") == "deny"
        assert decide(engine, "read_file", path="../outside.txt") == "deny"
        assert decide(engine, "read_file", path="/etc/passwd") == "deny"


def test_user_configuration_adds_rules() -> None:
    engine = coding_policy("auto", allow_commands=["npm test*"], deny_paths=["secrets/*"], allow_paths=["src/*"])
    assert decide(engine, "run_shell", command="npm test -- --watch=false") == "allow"
    assert decide(engine, "read_file", path="secrets/token.txt") == "deny"
    assert decide(engine, "write_file", path="docs/readme.md") == "deny"
    assert decide(engine, "write_file", path="src/main.py") == "allow"


def test_sandbox_paths_and_prefixed_tools() -> None:
    engine = coding_policy("auto", prefix="box_")
    assert decide(engine, "box_read_file", path="/work/src/app.py") == "allow"
    assert decide(engine, "box_read_file", path="/work/.env") == "deny"
    assert decide(engine, "box_read_file", path="/work/../etc/passwd") == "deny"
    assert decide(engine, "box_run_shell", command="curl http://example.com") == "deny"
    assert decide(engine, "read_file", path="/etc/passwd") == "allow"  # not a sandbox tool of this engine
