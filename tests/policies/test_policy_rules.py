"""Each rule kind, through the engine, over a small shop domain."""

from __future__ import annotations

from policy_shop import Conversation, authenticated, shop_engine

from m1agent.messages import UserMessage
from m1agent.protocol.types import ToolCallPart, Turn


def test_one_call_per_turn_refuses_extra_calls_with_a_reason() -> None:
    engine = shop_engine()
    turn = Turn(tool_calls=(ToolCallPart("find_user", {}, "c0"), ToolCallPart("get_order", {}, "c1")))
    first, second = engine.check_turn(turn, [UserMessage("hi")])
    assert first.action == "allow"
    assert second.action == "deny" and second.rule == "one_call_per_turn"
    assert "only `find_user` ran" in second.reason and "`get_order` was not run" in second.reason


def test_text_beside_a_call_refuses_the_call() -> None:
    engine = shop_engine()
    turn = Turn(text="Let me look.", tool_calls=(ToolCallPart("find_user", {}, "c0"),))
    (decision,) = engine.check_turn(turn, [])
    assert decision.action == "deny" and decision.rule == "no_text_with_call"


def test_nothing_but_identity_and_exempt_tools_runs_before_authentication(convo: Conversation) -> None:
    convo.user("cancel #A1")
    assert convo.call("get_order", order_id="#A1") == "deny"
    assert "not authenticated" in convo.last_reason() and "`find_user`" in convo.last_reason()
    assert convo.call("list_products") == "allow"
    convo.user("I'm ann@example.com")
    assert convo.call("find_user", "Error: not found", is_error=True, email="ann@example.com") == "allow"
    assert convo.engine.state.authenticated_user is None
    assert convo.call("find_user", '"ann"', email="ann@example.com") == "allow"
    assert convo.engine.state.authenticated_user == "ann"
    assert convo.call("get_order", order_id="#A1") == "allow"


def test_only_the_identity_the_user_stated_is_looked_up(convo: Conversation) -> None:
    convo.user("Hi, I'm ann@example.com, please cancel my order.")
    # An identity from anywhere else (a guess, a tool result, another customer) is refused.
    assert convo.call("find_user", "bob", email="bob@example.com") == "deny"
    assert "has not given email bob@example.com" in convo.last_reason()
    assert convo.call("find_user", "ann", email="ann@example.co") == "deny"  # not a substring match
    assert convo.engine.state.authenticated_user is None
    assert convo.call("find_user", "ann", email="ANN@example.com") == "allow"
    assert convo.engine.state.authenticated_user == "ann"


def test_a_later_lookup_never_switches_the_user(convo: Conversation) -> None:
    authenticated(convo)
    assert convo.call("find_user", "bob", email="bob@example.com") == "allow"
    assert convo.engine.state.authenticated_user == "ann"
    assert "stays with ann" in convo.engine.audit[-1].reason


def test_records_of_another_user_are_refused(convo: Conversation) -> None:
    authenticated(convo)
    assert convo.call("get_order", order_id="#B1") == "deny"
    assert "does not belong to the authenticated user ann" in convo.last_reason()
    assert convo.call("get_user", user_id="bob") == "deny"
    assert convo.call("get_order", order_id="#ZZ") == "allow"  # no such record: the tool says so


def test_a_write_needs_a_read_of_the_record_first(convo: Conversation) -> None:
    authenticated(convo)
    convo.say("I will cancel order #A1 because it is no longer needed. Shall I proceed?")
    convo.user("Yes, please.")
    assert convo.call("cancel_order", order_id="#A1", reason="no longer needed") == "deny"
    assert "get_order" in convo.last_reason() and "not been looked up" in convo.last_reason()


def test_confirmation_gate_releases_a_write_after_details_and_a_yes(convo: Conversation) -> None:
    authenticated(convo)
    assert convo.call("get_order", order_id="#A1") == "allow"
    args = {"order_id": "#A1", "reason": "no longer needed"}
    assert convo.call("cancel_order", **args) == "deny"
    assert "explicit yes" in convo.last_reason()
    convo.say("I can cancel order #A1 (reason: no longer needed). Do you want me to go ahead?")
    convo.user("Maybe, let me think.")
    assert convo.call("cancel_order", **args) == "deny"
    assert "not an unconditional yes" in convo.last_reason()
    convo.say("I can cancel order A1 (reason: no longer needed). Confirm?")
    convo.user("Yes, go ahead.")
    assert convo.call("cancel_order", **args) == "allow"
    # The same yes does not release the same write twice.
    assert convo.call("cancel_order", **args) == "deny"
    assert "already used" in convo.last_reason()


def test_the_yes_covers_only_what_the_agent_named(convo: Conversation) -> None:
    authenticated(convo)
    convo.say("Shall I change the address of order #A1 to zip 10001?")
    convo.user("yes")
    assert convo.call("change_address", order_id="#A2", zip="10001") == "deny"
    assert "did not state order_id=#A2" in convo.last_reason()
    assert convo.call("change_address", order_id="#A1", zip="10001") == "allow"


def test_argument_constraints(convo: Conversation) -> None:
    authenticated(convo)
    convo.call("get_order", order_id="#A1")
    convo.say("Cancel #A1 because of price? Please confirm.")
    convo.user("Yes")
    assert convo.call("cancel_order", order_id="#A1", reason="price") == "deny"
    assert "must be one of 'no longer needed', 'ordered by mistake'" in convo.last_reason()


def test_once_only_limit_per_argument(convo: Conversation) -> None:
    authenticated(convo)
    convo.say("Change the address of #A1 and #A2 to zip 10001?")
    convo.user("Yes please")
    assert convo.call("change_address", order_id="#A1", zip="10001") == "allow"
    assert convo.call("change_address", order_id="#A2", zip="10001") == "deny"  # one yes, one call
    convo.say("Now order #A2: change its address to zip 10001?")
    convo.user("Yes")
    assert convo.call("change_address", order_id="#A2", zip="10001") == "allow"
    convo.say("Change the address of #A1 to zip 20002?")
    convo.user("Yes")
    assert convo.call("change_address", order_id="#A1", zip="20002") == "deny"
    assert "only once for order_id #A1" in convo.last_reason()


def test_post_transfer_stop(convo: Conversation) -> None:
    assert convo.engine.run_end() is None
    assert convo.call("transfer", summary="out of scope") == "allow"
    assert convo.call("list_products") == "deny"
    assert "exactly: YOU ARE BEING TRANSFERRED" in convo.last_reason()
    end = convo.engine.run_end()
    assert end is not None and end.reason == "transferred" and end.message.startswith("YOU ARE BEING")


def test_the_view_cache_is_dropped_after_a_write(convo: Conversation) -> None:
    authenticated(convo)
    view = convo.engine.view
    convo.call("get_order", order_id="#A1")
    convo.call("get_order", order_id="#A1")
    assert view.hits == 1  # type: ignore[attr-defined]
    convo.say("Change the address of #A1 to zip 10001?")
    convo.user("yes")
    convo.call("change_address", order_id="#A1", zip="10001")
    assert view._cache == {}  # type: ignore[attr-defined]
