"""build_coding_agent's policy covers MCP tools: read-only refuses them unless the config names them reads."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from m1agent.backends import Completions
from m1agent.cli.coding import coding_environment
from m1agent.cli.config import CodingConfig, Rules
from m1agent.events import ToolCallFinished
from m1agent.testing import VLLMServer

SERVER = Path(__file__).resolve().parents[1] / "mcp" / "servers" / "well_behaved.py"


def calls(*pairs: tuple[str, dict[str, object]]) -> str:
    lines = "\n".join(json.dumps({"name": n, "arguments": a}) for n, a in pairs)
    return f"<think>\nUse the tools.\n</think>\n<tool_calls>\n{lines}\n</tool_calls>"


async def test_mcp_tools_follow_the_mode_and_rules(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("x = 1\n")
    config = CodingConfig(
        mode="read-only", sessions_dir=str(tmp_path / "sessions"), rules=Rules(read_tools=["calc__echo"]),
        mcp_servers={"calc": {"command": sys.executable, "args": [str(SERVER)]}},
    )
    script = [
        calls(("calc__add", {"a": 1, "b": 2}), ("calc__echo", {"text": "hi"}), ("read_file", {"path": "a.py"}),
              ("edit_file", {"path": "a.py", "old_string": "x = 1", "new_string": "x = 2"})),
        "<think>\nDone.\n</think>\nRead-only here.",
    ]
    with VLLMServer(script=script) as server:
        async with coding_environment(config, repo, backend=Completions(server.base_url)) as cs:
            finished = [e async for e in cs.agent.stream("Look around.") if isinstance(e, ToolCallFinished)]
            assert (await cs.workspace.diff()).empty
    status = {e.name: e.status for e in finished}
    assert status == {"calc__add": "denied", "calc__echo": "ok", "read_file": "ok", "edit_file": "denied"}
    assert "read-only" in next(e.content for e in finished if e.name == "calc__add")
