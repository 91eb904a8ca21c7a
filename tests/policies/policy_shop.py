"""A tiny shop domain for the engine tests: two users, their orders, and a conversation builder."""

from __future__ import annotations

from typing import Any

from m1agent.policies import (
    ArgConstraint,
    Authentication,
    AuthSource,
    CachedView,
    CallLimit,
    ConfirmationGate,
    DictView,
    OneCallPerTurn,
    OwnedBy,
    Ownership,
    PolicyEngine,
    PostTransferStop,
    ReadBeforeWrite,
)

from m1agent.messages import AssistantMessage, Message, ToolResultMessage, UserMessage
from m1agent.protocol.types import ToolCallPart
from m1agent.tool import ToolReturn

SHOP: dict[str, Any] = {
    "orders": {
        "#A1": {"user_id": "ann", "status": "pending"},
        "#A2": {"user_id": "ann", "status": "delivered"},
        "#B1": {"user_id": "bob", "status": "pending"},
    },
    "users": {"ann": {"email": "ann@example.com"}, "bob": {"email": "bob@example.com"}},
}
WRITES = ("cancel_order", "change_address")


def shop_engine(**overrides: Any) -> PolicyEngine:
    """Every rule kind over the shop domain."""
    rules = [
        OneCallPerTurn(),
        PostTransferStop(["transfer"]),
        Authentication({"find_user": AuthSource("result")}, exempt=["list_products", "transfer"]),
        Ownership({"order_id": OwnedBy("orders")}),
        ReadBeforeWrite({"get_order": {"order_id": "order"}}, {"cancel_order": {"order_id": "order"}}),
        ArgConstraint("cancel_order", "reason", one_of=["no longer needed", "ordered by mistake"]),
        CallLimit(["change_address"], 1, per=["order_id"]),
        ConfirmationGate({"cancel_order": ["order_id", "reason"], "change_address": ["order_id", "zip"]}),
    ]
    options: dict[str, Any] = {"view": CachedView(DictView(SHOP)), "write_tools": WRITES}
    options.update(overrides)
    return PolicyEngine(rules, **options)


class Conversation:
    """Builds a history the way the loop does, and runs calls through an engine."""

    def __init__(self, engine: PolicyEngine) -> None:
        self.engine = engine
        self.history: list[Message] = []
        self.turn = 0

    def user(self, text: str) -> None:
        self.history.append(UserMessage(text))

    def say(self, text: str) -> None:
        self.history.append(AssistantMessage(text=text))

    def call(self, name: str, result: str = "ok", *, is_error: bool = False, **arguments: Any) -> str:
        """Check one call; if allowed, record it as run with ``result``. Returns the action."""
        self.turn += 1
        call = ToolCallPart(name, arguments, f"call_{self.turn}_0")
        self.history.append(AssistantMessage(tool_calls=(call,)))
        decision = self.engine.check_call(call, self.history)
        if decision.action == "allow":
            self.engine.after_call(call, ToolReturn(result, is_error=is_error), self.history)
            self.history.append(ToolResultMessage(call.id, name, result, is_error))
        else:
            self.history.append(ToolResultMessage(call.id, name, decision.reason, True))
        return decision.action

    def last_reason(self) -> str:
        return self.engine.audit[-1].reason




def authenticated(convo: Conversation) -> Conversation:
    convo.user("Hi, I'm ann@example.com")
    assert convo.call("find_user", "ann", email="ann@example.com") == "allow"
    return convo
