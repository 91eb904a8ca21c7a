"""The confirmation gate: a write runs only after the agent stated exactly that change and the user
said an unconditional yes to that message.

The agent's message before the user's yes is the proposal. It must name the action (one of the
tool's action words), state every value the call sets (found as whole, typed values: see
``m1agent.policies.binding``), and end by asking for a yes to it (not an open question, not a choice
between changes, not a question about something else). The reply must be an unconditional yes to it
(the detector), must not name a different change or a value the proposal did not state. One yes
releases one call: the next write needs a new proposal and a new yes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from m1agent.policies.binding import Prose, leaves, states
from m1agent.policies.rules.base import PolicyContext, Rule
from m1agent.policies.yes import KeywordYesDetector, YesDetector

from m1agent.policy import Decision
from m1agent.protocol.types import ToolCallPart
from m1agent.tool import ToolReturn

_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_REQUEST = re.compile(r"\b(confirm|proceed|go ahead|let me know|reply yes|say yes|your (ok|okay|approval))\b")
_CONSENT = re.compile(
    r"\b(proceed|go ahead|confirm\w*|correct|right|ok|okay|good|fine|agree|approve|continue|accurate|"
    r"sounds?|works?|do (that|this|it|so)|make (this|that|the|these) changes?|apply|all set|what you want)\b"
)
_OPEN = re.compile(r"^(?:(?:ok|okay|so|and|also|great|now)\W+)*(what|which|how|when|where|why|who)\b")


def confirmation_key(index: int, proposal: str, reply: str) -> str:
    """The identity of one confirmation: where the yes is, and what the two messages said."""
    digest = hashlib.sha256(f"{proposal}\x00{reply}".encode()).hexdigest()[:16]
    return f"{index}:{digest}"


def _stem(word: str) -> str:
    word = word.lower()
    return word[:-1] if len(word) > 4 and word.endswith("s") else word


@lru_cache(maxsize=256)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    if not terms:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + ")")


def _names(text: str, terms: Iterable[str]) -> bool:
    """Whether ``text`` has a word starting with one of ``terms`` ("cancel" in "cancellation")."""
    pattern = _terms_pattern(tuple(terms))
    return pattern is not None and pattern.search(text) is not None


class ConfirmationGate(Rule):
    """Release a gated call (a write tool, or one of ``tools``) only under a fresh, exact confirmation.

    ``actions`` maps a tool to the words that name what it does ("cancel", "bag"); by default the
    words of its name. ``implied`` lists, per tool, argument paths the message need not state because
    another rule fixes them (the authenticated user id, bag fees the membership decides). ``labels``
    maps an argument name to words one of which must stand near its number ("bag" near 3); ``enums``
    maps an argument name to its values, so a shorter value is not found inside a longer one.
    """

    def __init__(
        self,
        tools: Iterable[str] | Mapping[str, Any] = (),
        *,
        actions: Mapping[str, Sequence[str]] | None = None,
        implied: Mapping[str, Sequence[str]] | None = None,
        labels: Mapping[str, Sequence[str]] | None = None,
        enums: Mapping[str, Sequence[str]] | None = None,
        detector: YesDetector | None = None,
        name: str = "confirmation",
    ) -> None:
        self.tools = frozenset(tools)
        self.actions = {tool: tuple(t.lower() for t in terms) for tool, terms in (actions or {}).items()}
        self.implied = {tool: frozenset(paths) for tool, paths in (implied or {}).items()}
        self.labels = {arg: tuple(words) for arg, words in (labels or {}).items()}
        self.enums = {arg: tuple(values) for arg, values in (enums or {}).items()}
        self.detector = detector or KeywordYesDetector()
        self.name = name
        self._distinct: dict[frozenset[str], dict[str, tuple[str, ...]]] = {}

    def gates(self, tool: str, ctx: PolicyContext) -> bool:
        """Whether ``tool`` needs a confirmation: it is a write tool, or named in ``tools``."""
        return tool in self.tools or ctx.is_write(tool)

    def terms(self, tool: str) -> tuple[str, ...]:
        """The words that name ``tool``'s action."""
        found = self.actions.get(tool)
        return found if found else tuple(_stem(w) for w in tool.split("_") if len(w) > 2)

    # --- the check ----------------------------------------------------------------------------

    def check_call(self, call: ToolCallPart, ctx: PolicyContext) -> Decision | None:
        if not self.gates(call.name, ctx):
            return None
        latest = ctx.latest_user_message()
        if latest is None:
            return self._deny(call, "The user has not confirmed this change.")
        index, message = latest
        reply = message.content if isinstance(message.content, str) else ""
        proposal = ctx.agent_text_before(index)
        if not proposal.strip():
            return self._deny(call, "No message of yours stated this change before the user's latest message.")
        if confirmation_key(index, proposal, reply) in ctx.state.confirmations_used:
            return self._deny(call, "The user's yes was already used by a call; one yes releases one call.")
        terms = self.terms(call.name)
        why = self._reply_problem(reply, proposal, terms, call.name, ctx)
        if why:
            return self._deny(call, f"The user's latest message is not an unconditional yes to your message: {why}.")
        why = self._proposal_problem(call, proposal, terms, ctx)
        if why:
            return self._deny(call, f"The yes does not cover this call: {why}.")
        return None

    def after_call(self, call: ToolCallPart, result: ToolReturn, ctx: PolicyContext) -> str | None:
        # The engine calls this only for calls it let run; a failed write still uses the yes up,
        # since it may have changed something and the next attempt is a new proposal.
        if not self.gates(call.name, ctx):
            return None
        latest = ctx.latest_user_message()
        if latest is None:
            return None
        index, message = latest
        reply = message.content if isinstance(message.content, str) else ""
        ctx.state.confirmations_used.add(confirmation_key(index, ctx.agent_text_before(index), reply))
        return None

    # --- the two messages ---------------------------------------------------------------------

    def _reply_problem(self, reply: str, proposal: str, terms: Sequence[str], tool: str,
                       ctx: PolicyContext) -> str | None:
        detector = self.detector
        verdict = getattr(detector, "verdict", None)
        if callable(verdict):
            why = verdict(reply, terms)
        else:
            judge = getattr(detector, "is_yes_to", None)
            agreed = judge(reply, proposal) if callable(judge) else detector.is_yes(reply)
            why = None if agreed else "it is not an explicit yes"
        if why:
            return str(why)
        said, asked = Prose.of(reply), Prose.of(proposal)
        text = said.text
        others = [t for other, words in self._distinctive(ctx).items() if other != tool for t in words]
        if _names(text, others) and not _names(text, terms):
            return "it asks for a different change than the one your message states"
        # digits only: "one" or "no" in a reply is rarely a value
        new = [str(int(n) if n.is_integer() else n) for n, at in said.numbers
               if said.text[at:at + 1].isdigit() and not asked.has_number(n)]
        new += [i for i in said.ids if not asked.has_id(i)]
        new += ["-".join(str(p) for p in d if p) for d in said.dates if d not in asked.dates]
        if new:
            return f"it gives {', '.join(new)}, which your message did not state"
        return None

    def _proposal_problem(self, call: ToolCallPart, proposal: str, terms: Sequence[str],
                          ctx: PolicyContext) -> str | None:
        prose = Prose.of(proposal)
        if not _names(prose.text, terms):
            return f"your message did not say it will {'/'.join(terms)}"
        sentences = [s.strip() for s in _SENTENCES.split(prose.text) if s.strip()]
        asks = [s for s in sentences if "?" in s] or [s for s in sentences if _REQUEST.search(s)]
        if not asks:
            return "your message did not ask the user to confirm it"
        request = asks[-1].rsplit("?", 1)[0] if asks[-1].count("?") > 1 else asks[-1]
        if _OPEN.match(request):
            return "your message ends with an open question, not a request for a yes to this change"
        others = [t for other, words in self._distinctive(ctx).items() if other != call.name for t in words]
        if re.search(r"\bor\b", request) and _names(request, others):
            return "your message offers a choice between changes; propose one and ask for a yes to it"
        if not (_CONSENT.search(request) or _names(request, terms)):
            return "the question your message ends with is about something else, not this change"
        implied = self.implied.get(call.name, frozenset())
        missing = []
        for path, value in leaves(call.arguments):
            if path in implied:
                continue
            leaf = path.rsplit(".", 1)[-1]
            if not states(prose, leaf, value, labels=self.labels.get(leaf, ()), enum=self.enums.get(leaf, ())):
                missing.append(f"{path}={value}")
        if missing:
            return f"your message did not state {', '.join(dict.fromkeys(missing))}"
        return None

    def _distinctive(self, ctx: PolicyContext) -> dict[str, tuple[str, ...]]:
        """Per gated tool, its action words that name no other gated tool's action."""
        gated = frozenset(self.tools | ctx.write_tools)
        found = self._distinct.get(gated)
        if found is None:
            every = {tool: self.terms(tool) for tool in gated}
            found = {
                tool: tuple(t for t in words if not any(
                    o.startswith(t) or t.startswith(o) for other, ws in every.items() if other != tool for o in ws))
                for tool, words in every.items()
            }
            self._distinct[gated] = found
        return found

    def _deny(self, call: ToolCallPart, why: str) -> Decision:
        return Decision.deny(
            f"{why} `{call.name}` was not run. In one message, state this one change to the user (what it does "
            "and every value it sets) and ask for an explicit yes; make the call only after the user says yes "
            "to that message.",
            self.name,
        )
