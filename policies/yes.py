"""Deciding whether a user's message is an explicit yes.

The keyword detector is deterministic and strict: a hedge, a negation or a question anywhere makes
the answer "not an explicit yes", so a doubtful reply asks again rather than writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class YesDetector(Protocol):
    """Says whether a message explicitly agrees to what was just proposed."""

    def is_yes(self, text: str) -> bool:
        """True only for an explicit, unconditional yes."""
        ...


_AFFIRMATIVE = re.compile(
    r"\b(yes|yeah|yep|yup|yea|sure|ok|okay|confirm|confirmed|i confirm|correct|affirmative|absolutely|"
    r"definitely|certainly|go ahead|proceed|please do|do it|that's right|that is right|sounds good|"
    r"that works|i agree|agreed|of course|y)\b"
)
_NEGATIVE = re.compile(
    r"\b(no|nope|nah|not|don't|dont|do not|never|wait|hold on|hold off|stop|cancel that|rather not|"
    r"hmm|maybe|perhaps|unsure|not sure|instead|but|however|actually|except|unless|if|"
    r"wrong|incorrect|think about|let me)\b"
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})


class KeywordYesDetector:
    """Affirmative words, and none of the words that hedge, negate or change the request.

    Examples: "Yes, please proceed." is a yes; "yes but use my other card", "no", "maybe",
    "yes?" and "ok, wait" are not.
    """

    def __init__(self, max_chars: int = 400) -> None:
        self.max_chars = max_chars

    def is_yes(self, text: str) -> bool:
        """True for a short message that agrees and neither asks, hedges, nor negates."""
        if not isinstance(text, str):
            return False
        cleaned = text.translate(_APOSTROPHES).strip().lower()
        if not cleaned or len(cleaned) > self.max_chars or "?" in cleaned:
            return False
        if _NEGATIVE.search(cleaned):
            return False
        return _AFFIRMATIVE.search(cleaned) is not None


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

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self.timeout = timeout
        self._cache: dict[str, bool] = {}

    def __repr__(self) -> str:  # the key never shows
        return f"ChatYesDetector({self.base_url!r}, {self.model!r})"

    def is_yes(self, text: str) -> bool:
        """The model's verdict on ``text`` (cached)."""
        if not isinstance(text, str) or not text.strip():
            return False
        if text not in self._cache:
            self._cache[text] = self._ask(text)
        return self._cache[text]

    def _ask(self, text: str) -> bool:
        import httpx

        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": self.PROMPT}, {"role": "user", "content": text}],
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
