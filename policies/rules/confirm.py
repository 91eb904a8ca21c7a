"""The confirmation gate: a write runs only after the agent named it and the user said yes to it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from m1agent.policies.rules.base import PolicyContext, Rule
from m1agent.policies.yes import KeywordYesDetector, YesDetector

from m1agent.policy import Decision
from m1agent.protocol.types import ToolCallPart
from m1agent.tool import ToolReturn

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_SPACES = re.compile(r"\s+")


def key_values(arguments: Any, path: str) -> Iterator[Any]:
    """The scalar values at ``path`` (dot-separated; lists are walked element by element)."""
    stack: list[tuple[Any, list[str]]] = [(arguments, path.split(".") if path else [])]
    while stack:
        value, rest = stack.pop()
        if isinstance(value, list | tuple):
            stack.extend((item, rest) for item in reversed(value))
        elif not rest:
            if isinstance(value, Mapping):
                stack.extend((item, []) for item in reversed(list(value.values())))
            else:
                yield value
        elif isinstance(value, Mapping) and rest[0] in value:
            stack.append((value[rest[0]], rest[1:]))


def normalize_text(text: str) -> str:
    """Lower case, single spaces, and no thousands separators, for finding values in prose."""
    return _SPACES.sub(" ", _THOUSANDS.sub("", text.lower()))


def is_mentioned(text: str, value: Any) -> bool:
    """Whether ``value`` appears in the already normalized ``text``."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            shown = f"{value:.2f}".rstrip("0").rstrip(".")
        else:
            shown = str(int(value))
        return re.search(rf"(?<![\d.]){re.escape(shown)}(?:\.0+)?(?![\d])", text) is not None
    shown = _SPACES.sub(" ", str(value).lower()).strip().lstrip("#")
    return not shown or shown in text


def fingerprint(call: ToolCallPart) -> str:
    """The call's identity for confirmations: its name and canonical arguments."""
    try:
        args = json.dumps(call.arguments, sort_keys=True, default=str)
    except (TypeError, ValueError):
        args = repr(call.arguments)
    return f"{call.name}:{args}"


class ConfirmationGate(Rule):
    """Release a write only when the user's latest message is an explicit yes and the agent message
    just before it named the call's key arguments (``key_args`` maps a tool to argument paths).

    One yes releases each distinct call once; the same call again needs a new confirmation.
    """

    def __init__(
        self,
        key_args: Mapping[str, Sequence[str]],
        *,
        detector: YesDetector | None = None,
        name: str = "confirmation",
    ) -> None:
        self.key_args = {tool: tuple(paths) for tool, paths in key_args.items()}
        self.detector = detector or KeywordYesDetector()
        self.name = name

    def gates(self, tool: str, ctx: PolicyContext) -> bool:
        """Whether ``tool`` needs a confirmation: it has key arguments, or it is a write tool."""
        return tool in self.key_args or ctx.is_write(tool)

    def check_call(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        if not self.gates(call.name, ctx):
            return None
        paths = self.key_args.get(call.name, ())
        ask = (
            f"Before `{call.name}` runs, list what it will do ({self._describe(paths)}) in a message to "
            "the user and ask for an explicit yes; make the call after the user says yes."
        )
        latest = ctx.latest_user_message()
        if latest is None:
            return Decision.deny(f"The user has not confirmed this change. {ask}", self.name)
        index, message = latest
        if not self.detector.is_yes(message.content):
            return Decision.deny(
                f"The user's latest message is not an explicit yes, so `{call.name}` was not run. {ask}",
                self.name,
            )
        text = normalize_text(ctx.agent_text_before(index))
        missing = [
            str(value) for path in paths for value in key_values(call.arguments, path)
            if not is_mentioned(text, value)
        ]
        if not text or missing:
            named = f" It did not name: {', '.join(dict.fromkeys(missing))}." if missing else ""
            return Decision.deny(
                "The yes does not cover this call: your message before it did not describe this change."
                f"{named} {ask}",
                self.name,
            )
        if (index, fingerprint(call)) in ctx.state.confirmations_used:
            return Decision.deny(
                f"That yes was already used for this exact `{call.name}` call. {ask}", self.name
            )
        return None

    def after_call(self, call: ToolCallPart, result: ToolReturn, ctx: PolicyContext) -> str | None:
        if result.is_error or not self.gates(call.name, ctx):
            return None
        latest = ctx.latest_user_message()
        if latest is not None:
            ctx.state.confirmations_used.add((latest[0], fingerprint(call)))
        return None

    @staticmethod
    def _describe(paths: Sequence[str]) -> str:
        return "naming " + ", ".join(paths) if paths else "every detail"
