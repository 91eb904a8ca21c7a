"""``m1agent pack`` and the ``pack_repo`` tool, on a real repository."""

from __future__ import annotations

import json

import pytest
from m1agent.tools.pack_repo import pack_repo_tool
from typer.testing import CliRunner

from m1agent.cli.app import app
from m1agent.errors import ToolArgumentsInvalid
from m1agent.tool import RunContext, Tool

FILES = {
    "src/billing.py": "def compute_total(lines):\n    return sum(lines)\n",
    "src/util.py": "def helper():\n    return 1\n",
    "README.md": "# Demo\n",
}


def test_cli_json_ledger_and_output_file(make_repo, tokenizer_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("M1AGENT_CACHE_DIR", str(tmp_path / "cache"))
    root = make_repo(FILES)
    out = tmp_path / "pack.txt"
    args = ["pack", str(root), "--query", "compute total", "--budget", "2000", "--output", str(out), "--json"]
    res = CliRunner().invoke(app, [*args, "--tokenizer", str(tokenizer_dir)])
    assert res.exit_code == 0, res.output
    ledger = json.loads(res.stdout)
    assert ledger["budget"] == 2000 and ledger["total_tokens"] <= 2000
    assert {f["path"] for f in ledger["files"]} == set(FILES)
    assert "def compute_total" in out.read_text()


def test_cli_tree_and_bad_path(make_repo, tokenizer_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("M1AGENT_CACHE_DIR", str(tmp_path / "cache"))
    root = make_repo(FILES)
    res = CliRunner().invoke(app, ["pack", str(root), "--budget", "1500", "--tokenizer", str(tokenizer_dir)])
    assert res.exit_code == 0
    assert "<pack repo=" in res.stdout
    assert "billing.py" in res.stderr and "/ 1,500 tokens" in res.stderr
    bad = CliRunner().invoke(app, ["pack", str(tmp_path / "nope")])
    assert bad.exit_code == 2 and "not a folder" in " ".join(bad.stderr.split())
    no_tokenizer = CliRunner().invoke(app, ["pack", str(root), "--tokenizer", str(tmp_path / "missing")])
    message = " ".join(no_tokenizer.stderr.split())
    assert no_tokenizer.exit_code == 2 and "does not exist" in message and "M1AGENT_TOKENIZER" in message
    assert "Traceback" not in no_tokenizer.output


async def test_tool_packs_and_refuses_paths_outside(make_repo, counter, tmp_path):
    root = make_repo(FILES)
    tool = pack_repo_tool(root, counter=counter, cache_dir=tmp_path / "cache")
    assert isinstance(tool, Tool)
    assert tool.spec().parameters["properties"]["budget"]["maximum"] == 900_000
    ret = await tool.invoke({"query": "compute total", "budget": 1500}, RunContext(deps=None))
    assert "def compute_total" in ret.content and ret.metadata["ledger"]["total_tokens"] <= 1500
    with pytest.raises(ToolArgumentsInvalid, match="outside the repository"):
        await tool.invoke({"path": "../.."}, RunContext(deps=None))
    with pytest.raises(ToolArgumentsInvalid, match="budget"):
        await tool.invoke({"budget": 10}, RunContext(deps=None))
    with pytest.raises(ToolArgumentsInvalid, match="unknown argument"):
        await tool.invoke({"bogus": 1}, RunContext(deps=None))
