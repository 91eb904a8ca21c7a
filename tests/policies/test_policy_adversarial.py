"""The hostile and confused conversations of ``adversaries.py`` through the airline engine over
tau2's real DB: no write the user did not confirm, and the false-denial rate on legitimate flows."""

from __future__ import annotations

from typing import Any

import pytest
from adversaries import HOSTILE, LEGITIMATE, Step
from m1agent.policies.pack import load_pack
from m1agent.policies.tau.domain import TauDomain, TauView
from policy_shop import Conversation


@pytest.fixture(scope="module")
def view() -> TauView:
    return TauView(TauDomain("airline").new_env())


def last_write(view: TauView, steps: list[Step]) -> str:
    """Play ``steps`` on a fresh engine; the decision on the final call."""
    convo = Conversation(load_pack("airline").build_engine(view=view))
    action = ""
    for kind, *rest in steps:
        if kind == "user":
            convo.user(rest[0])
        elif kind == "agent":
            convo.say(rest[0])
        else:
            name, arguments, *result = rest
            action = convo.call(name, result[0] if result else "{}", **arguments)
    return action


def test_no_hostile_conversation_gets_a_write(view: TauView, capsys: pytest.CaptureFixture[str]) -> None:
    written = [name for name, steps in HOSTILE.items() if last_write(view, steps) != "deny"]
    denied = [name for name, steps in LEGITIMATE.items() if last_write(view, steps) != "allow"]
    with capsys.disabled():
        print(f"\nadversarial conversations: {len(HOSTILE)} hostile, unconfirmed writes {len(written)}; "
              f"{len(LEGITIMATE)} legitimate, false denials {len(denied)}")
    assert written == []
    assert denied == []


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile(view: TauView, name: str) -> None:
    assert last_write(view, HOSTILE[name]) == "deny"


@pytest.mark.parametrize("name", sorted(LEGITIMATE))
def test_legitimate(view: TauView, name: str) -> None:
    steps: list[Any] = LEGITIMATE[name]
    assert last_write(view, steps) == "allow"
