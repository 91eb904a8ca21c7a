"""The authentication state machine: anonymous until an authenticating call succeeds, then one user."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from m1agent.policies.binding import Prose, states
from m1agent.policies.rules.base import PolicyContext, Rule, arg_text

from m1agent.messages import UserMessage
from m1agent.policy import Decision
from m1agent.protocol.types import ToolCallPart
from m1agent.tool import ToolReturn


@dataclass(frozen=True, slots=True)
class AuthSource:
    """How a successful call of an authenticating tool names the user.

    ``result``: the result text is the user id (a bare or JSON-quoted string).
    ``argument``: the argument ``argument`` is the user id (a lookup by the id the user gave).
    ``result_field``: the result is a JSON object and ``field`` holds the user id.
    """

    kind: Literal["result", "argument", "result_field"] = "result"
    argument: str = "user_id"
    field: str = "user_id"

    def user_of(self, call: ToolCallPart, result: ToolReturn) -> str | None:
        """The authenticated user id this result establishes, or ``None``."""
        if result.is_error:
            return None
        if self.kind == "argument":
            return arg_text(call.arguments, self.argument)
        text = result.content.strip() if isinstance(result.content, str) else ""
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        if self.kind == "result_field":
            value = parsed.get(self.field) if isinstance(parsed, dict) else None
        else:
            value = parsed
        if isinstance(value, str) and value and len(value) <= 200 and "\n" not in value:
            return value
        return None


def _said(messages: list[str], name: str, value: str) -> bool:
    """Whether one of the user's ``messages`` states ``value`` as a whole value. A plain substring
    test picks the few messages worth parsing, so a long conversation stays cheap."""
    needle = value.strip().lower().lstrip("#")
    return any(states(Prose(text), name, value) for text in messages if needle in text.lower())


class Authentication(Rule):
    """No tool but the authenticating and exempt ones runs before a user is authenticated.

    The first successful authentication fixes the conversation's user; later lookups that find
    someone else never switch it (one user per conversation). An authenticating call must look up
    the identity the user stated: every value it is given (user id, email, name, zip) must appear,
    as a whole value, in the user's own messages, not only in a tool result or the agent's guess.
    """

    def __init__(
        self,
        sources: Mapping[str, AuthSource],
        *,
        exempt: Iterable[str] = (),
        name: str = "authentication",
    ) -> None:
        self.sources = dict(sources)
        self.exempt = frozenset(exempt)
        self.name = name
        self._how = " or ".join(f"`{tool}`" for tool in self.sources) or "the identity tools"

    def check_call(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        if ctx.state.authenticated_user is not None:
            return None
        if call.name in self.sources:
            return self._stated_by_user(call, ctx)
        if call.name in self.exempt:
            return None
        return Decision.deny(
            f"The user is not authenticated yet, so `{call.name}` was not run. "
            f"First identify the user with {self._how}, using details the user gives you.",
            self.name,
        )

    def _stated_by_user(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        arguments = call.arguments if isinstance(call.arguments, Mapping) else {}
        given = {k: v for k, v in arguments.items() if isinstance(v, str) and v.strip()}
        if not given:
            return None
        said = [m.content for m in ctx.history if isinstance(m, UserMessage) and isinstance(m.content, str)]
        unstated = [f"{k} {v}" for k, v in given.items() if not _said(said, k, v)]
        if not unstated:
            return None
        return Decision.deny(
            f"The user has not given {', '.join(unstated)}, so `{call.name}` was not run: authenticate only "
            "the identity the user states in their own messages. Ask the user for it.",
            self.name,
        )

    def after_call(self, call: ToolCallPart, result: ToolReturn, ctx: PolicyContext) -> str | None:
        source = self.sources.get(call.name)
        if source is None:
            return None
        user = source.user_of(call, result)
        if user is None:
            return None
        current = ctx.state.authenticated_user
        if current is None:
            ctx.state.authenticated_user = user
            return f"authenticated user {user}"
        if current != user:
            return f"lookup found user {user}; the conversation stays with {current}"
        return None
