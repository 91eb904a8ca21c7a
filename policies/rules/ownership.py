"""Same-user ownership: every id a call names must belong to the authenticated user."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from m1agent.policies.rules.base import PolicyContext, Rule, arg_text

from m1agent.policy import Decision
from m1agent.protocol.types import ToolCallPart


@dataclass(frozen=True, slots=True)
class OwnedBy:
    """Where an id argument's record lives, and which of its fields names the owner."""

    collection: str
    owner_field: str = "user_id"
    label: str = ""


class Ownership(Rule):
    """Deny calls whose user argument, or whose records' owner, is not the authenticated user.

    Records are looked up through the read-only domain view; an id with no record is left to the
    tool, which reports it.
    """

    def __init__(
        self,
        owned: Mapping[str, OwnedBy],
        *,
        user_args: Iterable[str] = ("user_id",),
        exempt: Iterable[str] = (),
        name: str = "same_user",
    ) -> None:
        self.owned = dict(owned)
        self.user_args = tuple(user_args)
        self.exempt = frozenset(exempt)
        self.name = name

    def check_call(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        user = ctx.state.authenticated_user
        if user is None or call.name in self.exempt:
            return None
        arguments = call.arguments
        for arg in self.user_args:
            value = arg_text(arguments, arg)
            if value is not None and value != user:
                return Decision.deny(
                    f"`{call.name}` names user {value}, but this conversation is with the authenticated "
                    f"user {user}. Only {user}'s own account and records can be used; tell the user so.",
                    self.name,
                )
        for arg, where in self.owned.items():
            record_id = arg_text(arguments, arg)
            if record_id is None:
                continue
            record = ctx.view.get(where.collection, record_id)
            if record is None:
                continue
            owner = record.get(where.owner_field)
            if owner != user:
                label = where.label or where.collection.rstrip("s")
                return Decision.deny(
                    f"{label.capitalize()} {record_id} does not belong to the authenticated user {user}, "
                    f"so `{call.name}` was not run. Only {user}'s own records can be viewed or changed.",
                    self.name,
                )
        return None
