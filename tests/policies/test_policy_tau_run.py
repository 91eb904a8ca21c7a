"""``m1agent tau run`` end to end: scripted M1 and a scripted simulated user, each behind a loopback
vLLM server; tau2's own evaluator grades; progress, denials with their turn, pass^k and the HTML report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import m1agent.cli.tau_cmd  # noqa: F401  (registers the command, whether or not app.py lists it yet)
from m1agent.cli.app import app
from m1agent.testing import VLLMServer

# Airline task 0: Emma Kim wants reservation EHGLP3 cancelled, which the policy does not allow.
USER_LINES = ["Hi, I'm Emma Kim (emma_kim_9957). Please cancel reservation EHGLP3.", "###STOP###"]


def call(name: str, **arguments: Any) -> str:
    line = json.dumps({"name": name, "arguments": arguments})
    return f"<think>\nNext.\n</think>\n<tool_calls>\n{line}\n</tool_calls>"


def agent_script() -> list[str]:
    return [
        call("get_user_details", user_id="emma_kim_9957"),
        call("get_reservation_details", reservation_id="EHGLP3"),
        call("cancel_reservation", reservation_id="EHGLP3"),  # refused: not eligible under the policy
        "<think>\nIt was refused.\n</think>\nSorry, reservation EHGLP3 cannot be cancelled under our policy.",
    ]


def test_tau_run_grades_with_tau2_and_reports_denials(tmp_path: Path, counter: Any) -> None:
    trials = 2
    with VLLMServer(script=agent_script() * trials, counter=counter) as m1, VLLMServer(
        script=USER_LINES * trials, tool_parser=None, counter=counter
    ) as user:
        report = tmp_path / "report.html"
        outcome = CliRunner().invoke(app, [
            "tau", "run", "--domain", "airline", "--tasks", "0", "--trials", str(trials),
            "--base-url", m1.base_url, "--user-base-url", user.base_url, "--user-model", user.model,
            "--report", str(report),
        ])
        user_requests = [r.body for r in user.requests if r.path.endswith("/chat/completions")]
    assert outcome.exit_code == 0, outcome.output
    lines = outcome.output.splitlines()
    assert lines[0].startswith("[1/2] task 0 trial 0: pass (end user_stop, 1 denials")
    assert lines[1].strip() == "turn 3: cancel_reservation denied by cancel_eligibility"
    assert "airline: 2 trials; pass^1 1.000, pass^2 1.000; 2 policy denials" in outcome.output
    page = report.read_text()
    assert "pass^2: 1.000" in page and "cancel_eligibility" in page
    # The simulated user got tau2's guidelines and the task's scenario, and saw the agent's reply.
    system = user_requests[0]["messages"][0]["content"]
    assert "EHGLP3" in system and "###STOP###" in system
    assert "cannot be cancelled" in user_requests[1]["messages"][-1]["content"]


def test_tau_run_needs_a_user_model() -> None:
    outcome = CliRunner().invoke(app, ["tau", "run", "--domain", "airline"])
    assert outcome.exit_code == 2 and "--user-base-url is required" in outcome.output
    outcome = CliRunner().invoke(app, ["tau", "run", "--domain", "telecom", "--user-base-url", "x"])
    assert outcome.exit_code == 2 and "unknown domain" in outcome.output


def test_tau_replay_command_reports_each_task() -> None:
    outcome = CliRunner().invoke(app, ["tau", "replay", "--domain", "retail", "--tasks", "17,18"])
    assert outcome.exit_code == 0, outcome.output
    assert "task 17: match" in outcome.output
    assert "task 18: MISMATCH (exchange_delivered_order_items denied by item_change_allowed)" in outcome.output
    assert "retail: 1/2 DB matches; gold actions denied in tasks 18" in outcome.output
