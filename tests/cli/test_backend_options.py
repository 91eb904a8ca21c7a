"""The shared backend options: the flags over m1agent.toml, and the one function that builds a backend."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from m1agent import Agent
from m1agent.backends import CHINA_HOST
from m1agent.cli.app import app
from m1agent.cli.backend_options import backend_overrides, describe, make_backend, real_backend
from m1agent.cli.coding import build_config
from m1agent.testing import VLLMServer


def test_the_flags_win_over_the_files_and_a_url_means_a_vllm_server(tmp_path: Path) -> None:
    user = tmp_path / "user.toml"
    user.write_text('[backend]\nkind = "minimax"\nmodel = "m-file"\nregion = "china"\n')
    flagged = build_config(tmp_path, backend=backend_overrides(base_url="http://gpu:8000/v1", raw=True, model="m-flag"),
                           mode="read-only", max_turns=3, user_file=user)
    assert flagged.backend.resolved_kind == "completions" and flagged.backend.model == "m-flag"
    assert flagged.mode == "read-only" and flagged.budgets.max_turns == 3
    backend = make_backend(flagged.backend)
    assert describe(backend) == "completions · m-flag"
    unset = build_config(tmp_path, backend=backend_overrides(), user_file=user)  # no flag changes anything
    assert unset.backend.resolved_kind == "minimax" and unset.backend.model == "m-file"
    hosted = make_backend(unset.backend, {"MINIMAX_API_KEY": "k-123"})
    assert hosted.name == "minimax" and hosted.host == CHINA_HOST  # type: ignore[attr-defined]


async def test_the_flags_alone_reach_a_real_server_or_leave_the_choice_to_the_command() -> None:
    assert real_backend(base_url=None, environ={}) is None  # the demo replays its recording then
    hosted = real_backend(base_url=None, region="china", environ={"MINIMAX_API_KEY": "k-123"})
    assert hosted is not None and hosted.name == "minimax" and hosted.host == CHINA_HOST  # type: ignore[attr-defined]
    with VLLMServer(script=["<think>\nShort.\n</think>\nHi there."]) as server:
        backend = real_backend(base_url=server.base_url, raw=True)
        assert backend is not None
        result = await Agent(backend).run("Say hi.")
        await backend.aclose()
    assert result.output == "Hi there." and backend.name == "completions"
    assert server.requests[-1].path == "/v1/completions"


def test_tau_builds_its_backend_the_same_way() -> None:
    outcome = CliRunner().invoke(app, ["tau", "run", "--domain", "airline", "--user-base-url", "http://127.0.0.1:9/v1",
                                       "--backend", "sglang"])
    assert outcome.exit_code == 2 and "backend kind 'sglang' cannot be built" in outcome.output
