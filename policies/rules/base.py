"""What every rule kind shares: the context it reads, and the three hooks it may implement.

A rule returns ``None`` when it has nothing to say; the engine turns the first denial (or request
to ask the user) into the call's decision and records it with the rule's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from m1agent.policies.state import ConversationState
from m1agent.policies.view import DomainView, EmptyView

from m1agent.messages import AssistantMessage, Message, UserMessage
from m1agent.policy import Decision
from m1agent.protocol.types import ToolCallPart, Turn
from m1agent.tool import ToolReturn


@dataclass(slots=True)
class PolicyContext:
    """What a rule may read: the conversation, the state, the domain view, the clock, the tool kinds."""

    history: Sequence[Message]
    state: ConversationState
    view: DomainView = field(default_factory=EmptyView)
    write_tools: frozenset[str] = frozenset()
    now: datetime | None = None

    def is_write(self, tool: str) -> bool:
        """Whether ``tool`` changes the domain state."""
        return tool in self.write_tools

    def latest_user_message(self) -> tuple[int, UserMessage] | None:
        """The index and message of the user's latest message, if any."""
        history = self.history
        for index in range(len(history) - 1, -1, -1):
            message = history[index]
            if isinstance(message, UserMessage):
                return index, message
        return None

    def agent_text_before(self, index: int) -> str:
        """The text of the last agent message with text before position ``index``."""
        history = self.history
        for position in range(min(index, len(history)) - 1, -1, -1):
            message = history[position]
            if isinstance(message, UserMessage):
                return ""
            if isinstance(message, AssistantMessage) and message.text.strip():
                return message.text
        return ""


class Rule:
    """A reusable rule kind. Subclasses override the hooks they need; the defaults say nothing."""

    name: str = "rule"

    def check_turn(self, turn: Turn, ctx: PolicyContext) -> Sequence[Decision | None] | None:
        """Per-call decisions over a whole turn, or ``None`` to leave the turn alone."""
        return None

    def check_call(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        """A denial or a request to ask the user, or ``None`` to let the call pass this rule."""
        return None

    def after_call(self, call: ToolCallPart, result: ToolReturn, ctx: PolicyContext) -> str | None:
        """Update ``ctx.state`` from a result; return a short note for the audit log, if any."""
        return None


def arg_text(arguments: Mapping[str, Any], name: str) -> str | None:
    """``arguments[name]`` when it is a non-empty string (ids), else ``None``."""
    if not isinstance(arguments, Mapping):
        return None
    value = arguments.get(name)
    return value if isinstance(value, str) and value else None


def tool_matches(patterns: frozenset[str], tool: str) -> bool:
    """Whether ``tool`` is named by ``patterns`` (``"*"`` names every tool)."""
    return tool in patterns or "*" in patterns


Predicate = Callable[[ToolCallPart, PolicyContext], "str | Decision | None"]
