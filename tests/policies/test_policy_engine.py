"""The engine itself: audit log, denial bound, fail-closed rules, sinks."""

from __future__ import annotations

import json
from pathlib import Path

from m1agent.policies import JsonlAuditLog, PolicyEngine, Rule
from policy_shop import Conversation, shop_engine

from m1agent.policy import EndsRun, Policy
from m1agent.protocol.types import ToolCallPart
from m1agent.tool import ToolReturn


def test_engine_implements_the_core_protocols() -> None:
    engine = shop_engine()
    assert isinstance(engine, Policy)
    assert isinstance(engine, EndsRun)


def test_every_decision_and_state_change_is_audited_with_its_reason(tmp_path: Path) -> None:
    log = JsonlAuditLog(tmp_path / "audit.jsonl")
    convo = Conversation(shop_engine(sinks=[log]))
    convo.call("get_order", order_id="#A1")
    convo.user("I'm ann@example.com")
    convo.call("find_user", "ann", email="ann@example.com")
    log.close()
    entries = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(e["point"], e["action"]) for e in entries] == [("call", "deny"), ("call", "allow"), ("after", "note")]
    assert entries[0]["rule"] == "authentication" and entries[0]["tool"] == "get_order"
    assert entries[2]["reason"] == "authenticated user ann"
    assert [e.to_json() for e in convo.engine.audit] == entries


def test_repeated_denials_hit_the_bound_and_an_allowed_call_resets_it() -> None:
    convo = Conversation(shop_engine(max_consecutive_denials=3))
    convo.call("get_order", order_id="#A1")
    convo.call("get_order", order_id="#A1")
    assert convo.engine.run_end() is None
    convo.call("list_products")
    assert convo.engine.state.consecutive_denials == 0
    for _ in range(3):
        convo.call("get_order", order_id="#A1")
    end = convo.engine.run_end()
    assert end is not None and "3 calls in a row" in end.reason


def test_total_denial_bound() -> None:
    convo = Conversation(shop_engine(max_denials=2))
    convo.call("get_order", order_id="#A1")
    convo.call("list_products")
    convo.call("get_order", order_id="#A1")
    end = convo.engine.run_end()
    assert end is not None and "2 calls in this run" in end.reason


class Broken(Rule):
    name = "broken"

    def check_call(self, call: ToolCallPart, ctx: object) -> None:  # type: ignore[override]
        raise KeyError("boom")

    def after_call(self, call: ToolCallPart, result: ToolReturn, ctx: object) -> None:  # type: ignore[override]
        raise ValueError("bad state")


def test_a_rule_that_raises_fails_closed_and_never_crashes_the_engine() -> None:
    engine = PolicyEngine([Broken()], sinks=[lambda entry: 1 / 0])
    call = ToolCallPart("anything", {}, "c")
    decision = engine.check_call(call, [])
    assert decision.action == "deny" and decision.rule == "broken" and "KeyError" in decision.reason
    entries = len(engine.audit)
    engine.after_call(call, ToolReturn("x"), [])  # a call the engine refused did not run: nothing to learn
    assert len(engine.audit) == entries
    engine.after_call(ToolCallPart("anything", {}, "d"), ToolReturn("x"), [])
    assert engine.audit[-1].reason.startswith("state update failed: ValueError")


def test_ask_holds_only_when_no_rule_denies() -> None:
    from m1agent.policy import Decision

    class Asks(Rule):
        name = "asks"

        def check_call(self, call, ctx):  # type: ignore[no-untyped-def]
            return Decision.ask("write to disk?")

    engine = PolicyEngine([Asks()])
    assert engine.check_call(ToolCallPart("w", {}), []).action == "ask"
    engine = PolicyEngine([Asks(), Broken()])
    assert engine.check_call(ToolCallPart("w", {}), []).action == "deny"


def test_reset_forgets_the_conversation(convo: Conversation) -> None:
    convo.user("hi")
    convo.call("find_user", "ann")
    convo.engine.reset()
    assert convo.engine.state.authenticated_user is None and convo.engine.audit == []


def test_results_are_read_as_the_tool_gave_them(convo: Conversation) -> None:
    """The engine gets each tool's own ``ToolReturn``: no prefix, the error flag and metadata intact."""
    convo.user("I'm ann")
    call = ToolCallPart("find_user", {"email": "ann@example.com"}, "c1")
    convo.engine.after_call(call, ToolReturn("no such user", is_error=True), convo.history)
    assert convo.engine.state.authenticated_user is None
    convo.engine.after_call(call, ToolReturn('"ann"'), convo.history)
    assert convo.engine.state.authenticated_user == "ann"
    assert convo.engine.state.calls_run == 1
