"""Fuzzing the airline and retail packs over tau2's real databases: whatever the arguments, no rule
raises (a raising rule would refuse the call with "could not check", a false positive)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from m1agent.policies.pack import load_pack
from m1agent.policies.tau.domain import TauDomain, TauView

from m1agent.messages import AssistantMessage, UserMessage
from m1agent.protocol.types import ToolCallPart, Turn
from m1agent.tool import ToolReturn

IDS = {
    "airline": ["mia_li_3668", "mei_hernandez_8984", "NO6JO3", "AIXC49", "R9QDGB", "HAT001", "2024-05-20"],
    "retail": ["james_li_5688", "#W2611340", "6469567736", "8310926033", "gift_card_1725971"],
}


@pytest.fixture(scope="module", params=["airline", "retail"])
def domain(request: pytest.FixtureRequest) -> tuple[str, Any, list[str]]:
    env = TauDomain(request.param).new_env()
    return request.param, env, [t.name for t in TauDomain.tools(env)]


def values(name: str) -> st.SearchStrategy[Any]:
    scalar = st.one_of(st.sampled_from(IDS[name]), st.integers(-5, 500), st.floats(allow_nan=True),
                       st.text(max_size=6), st.none(), st.booleans())
    return st.recursive(scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["flight_number", "date", "payment_id", "amount", "first_name", "item_id"]), inner,
        max_size=3), max_leaves=10)


ARGS = ["user_id", "reservation_id", "order_id", "flights", "passengers", "payment_methods", "cabin", "amount",
        "total_baggages", "nonfree_baggages", "item_ids", "new_item_ids", "reason", "payment_id", "email"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_domain_rules_never_raise(domain: tuple[str, Any, list[str]], data: st.DataObject) -> None:
    name, env, tools = domain
    engine = load_pack(name).build_engine(view=TauView(env))
    user = IDS[name][0]
    history: list[Any] = [UserMessage(f"I'm {user}")]
    auth = ToolCallPart("get_user_details" if name == "airline" else "find_user_id_by_email",
                        {"user_id": user}, "a")
    engine.after_call(auth, ToolReturn(user), history)
    for index in range(data.draw(st.integers(1, 6))):
        tool = data.draw(st.sampled_from(tools))
        arguments = data.draw(st.dictionaries(st.sampled_from(ARGS), values(name), max_size=5))
        call = ToolCallPart(tool, arguments, f"c{index}")
        history += [AssistantMessage(text=data.draw(st.sampled_from(["", f"Shall I {tool} {arguments}?"]))),
                    UserMessage(data.draw(st.sampled_from(["yes", "no", "Yes, go ahead."]))),
                    AssistantMessage(tool_calls=(call,))]
        for decision in [*engine.check_turn(Turn(tool_calls=(call,)), history), engine.check_call(call, history)]:
            assert not decision.reason.startswith("The policy could not check"), decision
        engine.after_call(call, ToolReturn(data.draw(st.sampled_from(["{}", "Error: no", user]))), history)
    assert not [e for e in engine.audit if e.reason.startswith("state update failed")]
