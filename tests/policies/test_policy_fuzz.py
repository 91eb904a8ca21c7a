"""Property-based fuzzing: no sequence of calls and messages crashes the engine, and no write ever
runs without an explicit yes that followed an agent message naming it, and no yes releases two."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from m1agent.policies import KeywordYesDetector
from policy_shop import WRITES, shop_engine

from m1agent.messages import AssistantMessage, Message, ToolResultMessage, UserMessage
from m1agent.protocol.types import ParseProblem, ToolCallPart, Turn
from m1agent.tool import ToolReturn

TOOLS = ["find_user", "get_order", "cancel_order", "change_address", "list_products", "transfer", "x"]
ids = st.sampled_from(["#A1", "#A2", "#B1", "#ZZ", "", "ann", "bob"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8), ids)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=5), inner, max_size=3), max_leaves=8)
arguments = st.dictionaries(
    st.sampled_from(["order_id", "user_id", "reason", "zip", "email", "summary"]) | st.text(max_size=4),
    st.one_of(ids, json_values, st.sampled_from(["no longer needed", "10001"])),
    max_size=4,
)
calls = st.builds(ToolCallPart, st.sampled_from(TOOLS) | st.text(max_size=6), arguments, st.text(max_size=5))
words = st.sampled_from(["yes", "Yes, go ahead.", "no", "maybe", "ok", "#A1", "#B1", "10001", "cancel",
                         "no longer needed", "?", "ann", "bob", "sure"])
prose = st.lists(words | st.text(max_size=10), max_size=6).map(" ".join)
results = st.builds(ToolReturn, st.sampled_from(["ann", "bob", '"ann"', "Error", "{}"]) | st.text(max_size=10),
                    st.booleans())
writes = st.builds(ToolCallPart, st.sampled_from(WRITES), st.fixed_dictionaries(
    {"order_id": ids, "zip": st.sampled_from(["10001", "20002"]),
     "reason": st.sampled_from(["no longer needed", "price"])}), st.text(max_size=3))
# Composite steps steer the fuzzer into authenticated, confirmed states where writes can pass.
proposal = st.lists(st.sampled_from(["#A1", "#A2", "#B1", "10001", "no longer needed", "zip"]),
                    min_size=1, max_size=5).map(lambda ws: "Shall I do this: " + " ".join(ws) + "?")
step = st.one_of(
    st.tuples(st.just("user"), prose),
    st.tuples(st.just("call"), st.just(ToolCallPart("find_user", {}, "a")), st.just(ToolReturn("ann"))),
    st.tuples(st.just("call"), st.builds(ToolCallPart, st.just("get_order"), st.fixed_dictionaries(
        {"order_id": ids})), st.just(ToolReturn("{}"))),
    st.tuples(st.just("agent"), proposal),
    st.tuples(st.just("user"), st.sampled_from(["yes", "Yes, go ahead.", "no", "yes?", "Sure"])),
    st.tuples(st.just("call"), writes, results),
    st.tuples(st.just("propose"), proposal, st.sampled_from(["yes", "Sure", "no", "ok?"]), writes, results),
    writes.flatmap(lambda call: st.tuples(
        st.just("propose"), st.just(f"Shall I {call.name} {' '.join(map(str, call.arguments.values()))}?"),
        st.sampled_from(["yes", "Yes, go ahead.", "ok"]), st.just(call), results)),
    st.tuples(st.just("agent"), prose),
    st.tuples(st.just("call"), calls, results),
    st.tuples(st.just("turn"), st.lists(calls, max_size=3), prose),
)


def explicitly_confirmed(call: ToolCallPart, history: list[Message], used: set[int]) -> bool:
    """The invariant, derived independently of the gate: the latest user message is a yes and an agent
    message with text comes before it (after the previous user message), and no call used it yet."""
    user_index = max((i for i, m in enumerate(history) if isinstance(m, UserMessage)), default=-1)
    if user_index < 0 or not KeywordYesDetector().is_yes(history[user_index].content):  # type: ignore[union-attr]
        return False
    if user_index in used:
        return False
    for message in reversed(history[:user_index]):
        if isinstance(message, UserMessage):
            return False
        if isinstance(message, AssistantMessage) and message.text.strip():
            return True
    return False


SIGNED_IN = [("call", ToolCallPart("find_user", {}, "a"), ToolReturn("ann"))] + [
    ("call", ToolCallPart("get_order", {"order_id": i}, "r"), ToolReturn("{}")) for i in ("#A1", "#A2")]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), st.lists(step, max_size=20))
def test_engine_never_crashes_and_never_writes_unconfirmed(signed_in: bool, steps: list[tuple[Any, ...]]) -> None:
    steps = SIGNED_IN + steps if signed_in else steps
    engine = shop_engine(max_consecutive_denials=10**6)
    history: list[Message] = []
    used: set[int] = set()
    for kind, *rest in steps:
        if kind == "propose":
            text, answer, call, result = rest
            history.extend([AssistantMessage(text=text), UserMessage(answer)])
            kind, rest = "call", [call, result]
        if kind == "user":
            history.append(UserMessage(rest[0]))
        elif kind == "agent":
            history.append(AssistantMessage(text=rest[0]))
        elif kind == "turn":
            turn = Turn(text=rest[1], tool_calls=tuple(rest[0]), problems=(ParseProblem("x", "y"),))
            decisions = engine.check_turn(turn, history)
            assert len(decisions) == len(turn.tool_calls)
            if len(turn.tool_calls) > 1:
                assert all(d.action == "deny" for d in decisions[1:])
        else:
            call, result = rest
            history.append(AssistantMessage(tool_calls=(call,)))
            decision = engine.check_call(call, history)
            assert decision.action in ("allow", "deny", "ask")
            if decision.action == "deny":
                assert decision.reason and decision.rule
            if decision.action == "allow":
                if call.name in WRITES:
                    assert explicitly_confirmed(call, history, used), (call, history)
                    event("a write was allowed")
                    used.add(max(i for i, m in enumerate(history) if isinstance(m, UserMessage)))
                engine.after_call(call, result, history)
            history.append(ToolResultMessage(call.id, call.name, result.content, result.is_error))
        engine.run_end()
    assert all(entry.action in ("allow", "deny", "ask", "note") for entry in engine.audit)
