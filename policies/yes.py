"""Deciding whether a user's message is an explicit yes.

The keyword detector (the default) is deterministic and strict: a negation, a condition, a hedge, a
question or a change anywhere makes the answer "not an explicit yes", so a doubtful reply asks again
rather than writes. The chat-model detector is optional; it sees the agent's message with the reply.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from m1agent.policies import lexicon


@runtime_checkable
class YesDetector(Protocol):
    """Says whether a message explicitly agrees to what was just proposed."""

    def is_yes(self, text: str) -> bool:
        """True only for an explicit, unconditional yes."""
        ...


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_AFFIRM, _AFFIRM_CJK = lexicon.words(lexicon.AFFIRM), lexicon.pieces(lexicon.AFFIRM_CJK)
_NEGATE, _NEGATE_CJK = lexicon.words(lexicon.NEGATE), lexicon.pieces(lexicon.NEGATE_CJK)
_CONDITION, _CONDITION_CJK = lexicon.words(lexicon.CONDITION), lexicon.pieces(lexicon.CONDITION_CJK)
_HEDGE, _HEDGE_CJK = lexicon.words(lexicon.HEDGE), lexicon.pieces(lexicon.HEDGE_CJK)
_SARCASM = lexicon.words(lexicon.SARCASM)
_FACT = lexicon.words(lexicon.FACT)
_ASK_CJK = lexicon.pieces(lexicon.ASK_CJK)
_ASK_START = re.compile(r"^(?:" + "|".join(sorted(map(re.escape, lexicon.ASK_START), key=len, reverse=True))
                        + r")(?![\w'])")
_FILLER = re.compile(r"^(?:(?:" + "|".join(map(re.escape, lexicon.FILLER)) + r")(?![\w'])\s*)+")
_AGREE_IDIOM = re.compile(r"(?<![\w'])(?:" + "|".join(lexicon.AGREE_IDIOM) + r")(?![\w'])")
_REASON_IDIOM = re.compile(r"(?<![\w'])(?:" + "|".join(lexicon.REASON_IDIOM) + r")(?![\w'])")
_DRAWN_OUT_YES = re.compile(r"(?<!\w)(?:ye+s+|yea+h+|ye+p+|o+k+a+y+)(?!\w)")
_CLAUSE = re.compile(r"[,.;:!\n\u2014\u2013\u3002\uff0c\uff01]+|\s-\s|\s(?:and|but|so|then)\s")
# "si" is yes in Spanish and Italian only as a whole answer ("Si, claro"); before a clause it is "if".
_SI_ANSWER = re.compile(r"^s[iì]\s*(?:[,.!]|$)")
_SI_IF = re.compile(r"(?<![\w'])s[ie](?![\w'])")
_RETRACT = {concept: re.compile(r"(?<![\w'])(?:" + "|".join(map(re.escape, words)) + ")")
            for concept, words in lexicon.RETRACT.items()}
_FACT_PATTERN = re.compile(lexicon.FACT_PATTERN)
_QUESTION_MARKS = ("?", "\uff1f", "\u00bf")


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower().split())


class KeywordYesDetector:
    """An explicit, unconditional yes: an affirmative word, and nothing that says no, sets a
    condition, hedges or defers, asks, mocks, changes the request, or answers another question.

    Negative words that do not refuse ("no problem", "I don't need it anymore", "can't wait") are
    read as what they are. ``verdict`` says why a reply is not a yes; ``action`` (the words naming
    the proposed change) lets "yes, cancel it" confirm a cancellation while "cancel that" takes any
    other request back.

    Examples: "Yes, please proceed." and "Oui, allez-y" are a yes; "yes but use my other card",
    "Yes once my wife agrees", "ok, and what would the refund be", "Correct, that's my booking
    number." and "yeah right" are not.
    """

    def __init__(self, max_chars: int = 400) -> None:
        self.max_chars = max_chars

    def is_yes(self, text: str) -> bool:
        """True for a short message that agrees and does nothing else that matters."""
        return self.verdict(text) is None

    def verdict(self, text: str, action: Sequence[str] = ()) -> str | None:
        """``None`` for an unconditional yes, otherwise what the reply does instead."""
        if not isinstance(text, str):
            return "it is not text"
        reply = _normal(text)
        if not reply or len(reply) > self.max_chars:
            return "it is empty" if not reply else "it is too long to be a plain yes"
        if any(mark in reply for mark in _QUESTION_MARKS):
            return "it asks a question"
        si_answer = _SI_ANSWER.match(reply) is not None
        rest = _REASON_IDIOM.sub(" ", _AGREE_IDIOM.sub(" ok ", reply))
        if _SARCASM.search(rest):
            return "it reads as sarcasm"
        if _NEGATE.search(rest) or _NEGATE_CJK.search(rest):
            return "it says no or not"
        conditional = _CONDITION.search(rest) or _CONDITION_CJK.search(rest)
        # a leading "si" that is the answer is not "if"; a later one is
        if conditional or _SI_IF.search(_SI_ANSWER.sub(" ", rest, count=1) if si_answer else rest):
            return "it sets a condition"
        if _HEDGE.search(rest) or _HEDGE_CJK.search(rest):
            return "it hedges, defers or changes the request"
        if _FACT.search(rest) or _FACT_PATTERN.search(rest):
            return "it answers a question about facts, not the proposed change"
        for clause in _CLAUSE.split(rest):
            clause = _FILLER.sub("", clause.strip())
            if _ASK_START.match(clause) or _ASK_CJK.search(clause):
                return "it asks a question"
        retracting = [concept for concept, pattern in _RETRACT.items() if pattern.search(rest)]
        if any(not any(term.startswith(c) or c.startswith(term) for term in action) for c in retracting):
            return "it takes a request back"
        if not (_AFFIRM.search(rest) or _AFFIRM_CJK.search(rest) or _DRAWN_OUT_YES.search(rest) or si_answer):
            return "it has no yes in it"
        return None


class CallableYesDetector:
    """Wraps any classifier (a model call, for example) and falls back to "no" when it fails."""

    def __init__(self, classify: Callable[[str], bool]) -> None:
        self.classify = classify

    def is_yes(self, text: str) -> bool:
        """The classifier's answer; any exception counts as "not a yes" (fail closed)."""
        try:
            return bool(self.classify(text))
        except Exception:
            return False


class ChatYesDetector:
    """Asks an OpenAI-compatible chat model whether the reply is an explicit yes.

    The call is synchronous (the engine's checks are), so it holds the event loop for one short
    generation; answers are cached per message. Anything but an answer starting with "yes" — a "no",
    an error, a timeout — counts as "not a yes".
    """

    PROMPT = (
        "You judge a customer's reply to an agent who asked for confirmation before changing something. "
        "Answer with one word: yes if the reply explicitly and unconditionally agrees, otherwise no."
    )
    PROMPT_TO = (
        "An agent proposed one change and asked the customer to confirm it; you see the agent's message and "
        "the customer's reply. Answer with one word: yes only if the reply explicitly and unconditionally "
        "agrees to exactly the change the agent's message states. A condition, a question, a hedge, a change "
        "of details, sarcasm, or an answer to some other question is no."
    )

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self.timeout = timeout
        self._cache: dict[tuple[str, str], bool] = {}

    def __repr__(self) -> str:  # the key never shows
        return f"ChatYesDetector({self.base_url!r}, {self.model!r})"

    def is_yes(self, text: str) -> bool:
        """The model's verdict on ``text`` (cached)."""
        return self.is_yes_to(text, "")

    def is_yes_to(self, text: str, proposal: str) -> bool:
        """The model's verdict on ``text`` as a reply to the agent's message ``proposal`` (cached)."""
        if not isinstance(text, str) or not text.strip():
            return False
        key = (proposal, text)
        if key not in self._cache:
            self._cache[key] = self._ask(text, proposal)
        return self._cache[key]

    def _ask(self, text: str, proposal: str) -> bool:
        import httpx

        prompt, content = self.PROMPT, text
        if proposal:
            prompt, content = self.PROMPT_TO, f"Agent: {proposal}\n\nCustomer: {text}"
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": prompt}, {"role": "user", "content": content}],
            "temperature": 0.0,
            "max_tokens": 512,
        }
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        try:
            response = httpx.post(f"{self.base_url}/chat/completions", json=body, headers=headers,
                                  timeout=self.timeout)
            response.raise_for_status()
            answer = str(response.json()["choices"][0]["message"].get("content") or "")
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
            return False
        # A reasoning model served without a reasoning parser sends its thinking in the content.
        answer = answer.rsplit("</think>", 1)[-1]
        return answer.strip().lower().lstrip("*\"'").startswith("yes")
