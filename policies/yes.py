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
