"""TerminalSession's methods, the ones slash commands call, on real parts: a Docker sandbox, a loopback
vLLM, an MCP server over stdio and the transcript on disk. No terminal: the runs here need no answers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from rich.console import Console

from m1agent.backends import Completions
from m1agent.cli.coding import coding_environment
from m1agent.cli.config import BackendSettings, CodingConfig, Rules
from m1agent.cli.terminal_session import TerminalSession
from m1agent.cli.workspace import saved_workspace
from m1agent.events import ContextChanged, ToolCallFinished
from m1agent.testing import VLLMServer

SERVER = Path(__file__).resolve().parents[1] / "mcp" / "servers" / "well_behaved.py"
BIG = "".join(f"line {i}: some text the model read once and no longer needs\n" for i in range(80))


def calls(thought: str, *pairs: tuple[str, dict[str, object]]) -> str:
    lines = "\n".join(json.dumps({"name": n, "arguments": a}) for n, a in pairs)
    return f"<think>\n{thought}\n</think>\n<tool_calls>\n{lines}\n</tool_calls>"


SCRIPT = [
    calls("Read it, then write a.txt.", ("read_file", {"path": "big.txt"}),
          ("write_file", {"path": "a.txt", "content": "a\n"})),
    "<think>\nWritten.\n</think>\nWrote a.txt.",
    calls("Echo, then write b.txt.", ("calc__echo", {"text": "hi"}),
          ("write_file", {"path": "b.txt", "content": "b\n"})),
    "<think>\nThe write was refused.\n</think>\nI could not write b.txt.",
]


async def test_thinking_mode_compact_model_and_resume_go_through_the_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "big.txt").write_text(BIG)
    sessions = tmp_path / "sessions"
    monkeypatch.setenv("M1AGENT_TEST_KEY", "sesame")
    console = Console(record=True, width=150, color_system=None)
    with VLLMServer(script=SCRIPT, api_key="sesame") as server:
        # As `m1agent code --base-url URL --raw` has it: the backend is the config's, its key in a variable.
        backend_settings = BackendSettings(url=server.base_url, raw=True, api_key_env="M1AGENT_TEST_KEY")
        config = CodingConfig(mode="auto", sessions_dir=str(sessions), rules=Rules(read_tools=["calc__echo"]),
                              mcp_servers={"calc": {"command": sys.executable, "args": [str(SERVER)]}},
                              backend=backend_settings)
        async with coding_environment(config, repo) as env:
            session = TerminalSession(env, console)
            assert session.history() == [] and session.session_id is None
            await session.run("Write a.txt.")
            sid = session.session_id
            assert sid is not None and "+a" in saved_workspace(sessions, sid)["patch"]  # kept after the run

            first = session.agent
            session.set_thinking_budget(4_096)
            session.set_mode("read-only")
            assert session.agent is not first and first.thinking.budget.per_turn == 40_000  # never changed
            assert session.agent.thinking.budget.per_turn == 4_096 and session.status.mode == "read-only"
            await session.run("Now b.txt.")
            assert server.bodies[2]["max_tokens"] < server.bodies[0]["max_tokens"] - 30_000
            results = [e for e in session.agent.sessions.load(sid) if isinstance(e, ToolCallFinished)]
            # The config's read tool stays allowed after /mode; the write is refused in read-only mode.
            assert {(e.name, e.status) for e in results[-2:]} == {("calc__echo", "ok"), ("write_file", "denied")}
            assert session.last_thought()[0].strip() == "The write was refused." and session.last_thought()[1] > 0
            assert [t.servers for t in session.mcp_toolsets()] == [["calc"]]

            tokens, result = await session.compact()
            assert result is not None and tokens == result.tokens_before and result.stubbed
            events = session.agent.sessions.load(sid)
            assert isinstance(events[-1], ContextChanged) and events[-1].what == "compaction"  # in the transcript
            read_call = next(e.call_id for e in results if e.name == "read_file")
            log = session.agent.sessions.open(sid)
            assert log.read_output(read_call) is not None and BIG[:40] in (log.read_output(read_call) or "")
            log.close()
            assert BIG not in json.dumps([getattr(m, "content", "") for m in session.history()])

            backend, before = session.backend, session.agent
            session.switch_model("MiniMaxAI/another")
            # A new backend built from the config's settings (its key too), a new agent; the old ones unchanged.
            assert session.backend is not backend and isinstance(session.backend, Completions)
            assert session.backend.model == "MiniMaxAI/another" and backend.model == "MiniMaxAI/MiniMax-M1-80k"
            assert before.backend is backend and session.status.model == "MiniMaxAI/another"
            await session.run("Hello?")
            assert server.bodies[-1]["model"] == "MiniMaxAI/another"  # the server does not serve it: 404
            assert server.requests[-1].headers.get("authorization") == "Bearer sesame"

            session.new_conversation()
            assert session.session_id is None and session.history() == []
            assert not await session.resume("s_missing")
            assert await session.resume(sid)
            assert session.session_id == sid and session.history()
            await session.aclose()  # closes the backend /model built; the first is the environment's
    text = console.export_text()
    assert "Wrote a.txt." in text and "does not exist" in text
    assert "its saved changes were not put back: the working copy has changes of its own" in text

    # A new process: a fresh sandbox, and the session's changes come back with it.
    async with coding_environment(config, repo, backend=Completions("http://127.0.0.1:9/v1")) as env:
        again = TerminalSession(env, Console(record=True, width=150, color_system=None))
        assert await again.resume(sid)
        assert (await again.workspace.diff()).added == ["a.txt"]
        assert "its changes are back in the working copy" in again.console.export_text()
