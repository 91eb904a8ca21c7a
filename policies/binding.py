"""Finding a call's argument values in an agent's message: whole values, by type, never substrings.

A confirmation is only worth what the message it answers said, so every value a write would set
must be found in that message as the same value: the number 16 as a number (not the "16" of
"2024-05-16" or of "HAT016"), a date as a date in any usual spelling, an id as a whole token, an
enum as its words but not inside a longer value of the same argument ("economy" is not in "basic
economy"), a yes/no flag as its argument named with the right polarity.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

_MONTHS = {
    name: number
    for number, names in enumerate(
        (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")), start=1)
    for name in names
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_DATE_PATTERNS = (
    (re.compile(r"(?<![\w-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w-])"), "ymd"),
    (re.compile(r"(?<![\w/])(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?![\w/])"), "mdy"),
    (re.compile(rf"\b{_MONTH}\s+{_DAY}(?:,?\s+(\d{{4}}))?\b"), "MDy"),
    (re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+(\d{{4}}))?\b"), "DMy"),
)
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
# Tokens that are ids, not numbers: letters and digits mixed, or joined by _ # . / -
_ID = re.compile(r"[#\w]*\d[\w#]*(?:[._/-][#\w]+)+|[#\w]*[a-z_#][\w#]*\d[\w#]*|\d+[a-z_][\w#]*", re.I)
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.,])\d+(?:\.\d+)?(?![\w]|[.,]\d)")
_WORDS = {
    "zero": 0, "no": 0, "none": 0, "one": 1, "a single": 1, "single": 1, "two": 2, "three": 3,
    "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "a couple of": 2, "a pair of": 2, "double": 2, "triple": 3,
}
_WORD_NUMBER = re.compile(r"\b(" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")\b")
_NEGATION = re.compile(r"\b(no|not|without|decline[sd]?|declining|none|skip|n't)\b|n't\b")
_SENTENCE = re.compile(r"(?<=[.!?;\n])\s+|\n")


def leaves(arguments: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every scalar in ``arguments`` with its dotted path (list items share their list's path)."""
    if isinstance(arguments, Mapping):
        for key, value in arguments.items():
            yield from leaves(value, f"{path}.{key}" if path else str(key))
    elif isinstance(arguments, list | tuple):
        for item in arguments:
            yield from leaves(item, path)
    else:
        yield path, arguments


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("\u2019", "'").replace("\u2018", "'")


def _parse_iso(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
    except ValueError:
        return None


class Prose:
    """An agent message, prepared once, in which many values are then looked up."""

    def __init__(self, text: str) -> None:
        self.text = _normal(text)
        self.dates: list[tuple[int | None, int, int]] = []
        blanked = self.text
        for pattern, order in _DATE_PATTERNS:
            for match in pattern.finditer(blanked):
                found = self._date(match.groups(), order)
                if found is not None:
                    self.dates.append(found)
                    blanked = blanked[: match.start()] + " " * (match.end() - match.start()) + blanked[match.end():]
        blanked = _TIME.sub(lambda m: " " * len(m.group()), blanked)
        # digits joined by hyphens are a phone number or a code, not numbers
        blanked = re.sub(r"\d+(?:-\d+)+", lambda m: " " * len(m.group()), blanked)
        # an id has a letter, "_" or "#" in it; "1,250.50" is a number
        self.ids = {t.lower().lstrip("#") for t in _ID.findall(blanked) if re.search(r"[a-z_#]", t)}
        # numbers stand alone: what is left once dates, times and ids are blanked out
        blanked = _ID.sub(lambda m: " " * len(m.group()) if re.search(r"[a-z_#]", m.group()) else m.group(),
                          blanked)
        self.numbers: list[tuple[float, int]] = [
            (float(m.group().replace(",", "")), m.start()) for m in _NUMBER.finditer(blanked)
        ]
        self.numbers += [(float(_WORDS[m.group(1)]), m.start()) for m in _WORD_NUMBER.finditer(blanked)]
        self.sentences = [s for s in _SENTENCE.split(self.text) if s.strip()]

    @staticmethod
    def _date(groups: Sequence[str | None], order: str) -> tuple[int | None, int, int] | None:
        parts = dict(zip(order, groups, strict=False))
        try:
            month = _MONTHS[str(parts["M"]).rstrip(".")] if "M" in parts else int(str(parts["m"]))
            day = int(str(parts.get("D") or parts.get("d")))
            year_text = parts.get("y")
            year = int(year_text) if year_text else None
        except (KeyError, ValueError):
            return None
        if year is not None and year < 100:
            year += 2000
        return (year, month, day) if 1 <= month <= 12 and 1 <= day <= 31 else None

    @staticmethod
    @lru_cache(maxsize=512)
    def of(text: str) -> Prose:
        """The prepared ``text``, shared: a proposal is read again for each call it is checked against."""
        return Prose(text)

    # --- lookups ------------------------------------------------------------------------------

    def has_phrase(self, phrase: str) -> bool:
        """``phrase`` as whole words (``_`` and ``-`` read as spaces on both sides)."""
        words = [w for w in re.split(r"[\s_\-]+", _normal(phrase).strip().lstrip("#")) if w]
        if not words:
            return True
        pattern = r"(?<![\w#])#?" + r"[\s_\-]+".join(re.escape(w) for w in words) + r"(?!\w)"
        return re.search(pattern, self.text) is not None

    def has_number(self, value: float, labels: Sequence[str] = ()) -> bool:
        """``value`` as a stand-alone number (or number word), near one of ``labels`` if given."""
        spots = [pos for number, pos in self.numbers if abs(number - value) < 0.005]
        if not spots:
            return False
        if not labels:
            return True
        near = [m.start() for label in labels for m in re.finditer(_label(label), self.text)]
        return any(abs(spot - at) <= 40 for spot in spots for at in near)

    def has_date(self, value: date) -> bool:
        """``value`` in any spelling; a date written without a year matches on month and day."""
        return any(m == value.month and d == value.day and y in (None, value.year) for y, m, d in self.dates)

    def has_id(self, value: str) -> bool:
        """An id as a whole token; ``credit_card_4421486`` also as its kind and its digits (or their
        last four), which is how a message names a card."""
        token = _normal(value).strip().lstrip("#")
        if token in self.ids or self.has_phrase(token):
            return True
        kind, _, digits = token.rpartition("_")
        if not kind or not digits.isdigit() or not self.has_phrase(kind):
            return False
        tails = {digits} | ({digits[-4:]} if len(digits) > 4 else set())
        return any(re.search(rf"(?<![\w]){tail}(?!\w)", self.text) for tail in tails)

    def has_flag(self, name: str, positive: bool) -> bool:
        """A yes/no argument: a sentence names it (its words, e.g. "insurance") with the polarity
        of the value: negated for no, not negated for yes."""
        words = [w for w in name.split("_") if w]
        for sentence in self.sentences:
            if not all(re.search(rf"\b{re.escape(w)}", sentence) for w in words):
                continue
            if bool(_NEGATION.search(sentence)) != positive:
                return True
        return False


def _label(label: str) -> str:
    label = _normal(label)
    # a label may start a word or follow "_" ("bag" in "total_baggages")
    return re.escape(label) if not label[:1].isalnum() else rf"(?<![^\W_]){re.escape(label)}"


def states(prose: Prose, name: str, value: Any, *, labels: Sequence[str] = (), enum: Sequence[str] = ()) -> bool:
    """Whether ``prose`` states ``value`` of the argument ``name`` (the last part of its path)."""
    if value is None or value == "" or value == [] or value == {}:
        return True  # nothing is set
    if isinstance(value, bool) or (isinstance(value, str) and value.lower() in ("yes", "no", "true", "false")):
        positive = value if isinstance(value, bool) else value.lower() in ("yes", "true")
        return prose.has_flag(name, positive)
    if isinstance(value, int | float):
        return prose.has_number(float(value), labels)
    text = str(value).strip()
    day = _parse_iso(text)
    if day is not None:
        return prose.has_date(day)
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return prose.has_number(float(text), labels) if labels else bool(
            re.search(rf"(?<![\w.]){re.escape(text)}(?![\w]|[.,]\d)", prose.text))
    if enum and text in enum:
        return _has_enum(prose, text, enum)
    if re.search(r"\d", text) or re.fullmatch(r"[a-z]+(?:_[a-z]+)+_\w+", text):
        return prose.has_id(text)
    return prose.has_phrase(text)


def _has_enum(prose: Prose, value: str, enum: Sequence[str]) -> bool:
    """The value's words, but not where they are part of a longer value of the same argument."""
    longer = [e for e in enum if e != value and Prose(e.replace("_", " ")).has_phrase(value)]
    if not longer:
        return prose.has_phrase(value)
    text = prose.text
    for other in longer:
        words = [re.escape(w) for w in re.split(r"[\s_\-]+", other.lower()) if w]
        text = re.sub(r"(?<!\w)" + r"[\s_\-]+".join(words) + r"(?!\w)", " ", text)
    return Prose(text).has_phrase(value)
