"""BM25 over paths, identifiers and text, computed for the query's terms only.

Building a full inverted index of a large repository costs seconds of pure-Python tokenizing; a query
has a handful of terms, and counting those in each file is C-speed substring search. Terms are the
sub-words of identifiers (``getTokenCount`` and ``get_token_count`` both give get/token/count) and
match at sub-word starts, as a prefix, which doubles as light stemming (``token`` finds ``tokens``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_SUBWORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_STOPWORDS_TEXT = (
    "a an and are as at be by can do does for from has have how i if in into is it its of on or that the "
    "their then there these this to was what when where which who why will with you your should would "
    "could must not no yes use used using via file files code repo repository find show get set"
)
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split(" "))
_SHORT_TERM = 4
_EXACT_TERM = 5
_K1, _B = 1.2, 0.75
_PATH_WEIGHT = 3.0
_IDENT_WEIGHT = 2.0


@dataclass(frozen=True, slots=True)
class Query:
    """The searchable parts of a query: sub-word terms and whole identifiers."""

    terms: tuple[str, ...]
    identifiers: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """True when nothing in the query can be searched for."""
        return not self.terms and not self.identifiers


def split_identifier(word: str) -> list[str]:
    """Lower-cased sub-words: ``HTTPAdapter`` -> http, adapter; ``max_retries`` -> max, retries."""
    return [p.lower() for p in _SUBWORD.findall(word)]


def stem(term: str) -> str:
    """A light suffix strip, so the prefix match finds every form: ``redirects`` -> ``redirect``,
    ``routing`` -> ``rout`` (route, router), ``cookies`` -> ``cooki`` (cookie),
    ``handled`` -> ``handl`` (handler). A stem keeps at least four letters (shorter terms must end
    a sub-word), so short words stay."""
    for suffix, keep in _SUFFIXES:
        if term.endswith(suffix):
            stemmed = term[: len(term) - len(suffix)] + keep
            return stemmed if len(stemmed) >= _MIN_STEM else term
    return term


# (suffix, replacement), first match wins; "ss", "us" and "is" end words that are not plurals.
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ies", "i"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("ches", "ch"), ("shes", "sh"), ("xes", "x"),
    ("ss", "ss"), ("us", "us"), ("is", "is"), ("s", ""),
)  # fmt: skip
_MIN_STEM = 4


def parse_query(text: str) -> Query:
    """Terms (stemmed sub-words) and identifiers of ``text``, stop words and one-letter pieces
    dropped, order kept."""
    terms: dict[str, None] = {}
    identifiers: dict[str, None] = {}
    for word in _WORD.findall(text):
        parts = split_identifier(word)
        if len(parts) > 1 or "_" in word:
            identifiers[word] = None
        for part in parts:
            if len(part) > 1 and part not in _STOPWORDS:
                terms[stem(part)] = None
    return Query(tuple(terms), tuple(identifiers))


def _term_pattern(term: str) -> re.Pattern[str]:
    # A term starts a sub-word: after a non-letter in lower case, anywhere capitalised, or after a
    # non-capital in upper case. Short terms also must end the sub-word, or "id" would match "idle".
    lower, cap, upper = re.escape(term), re.escape(term.capitalize()), re.escape(term.upper())
    end = r"(?![a-z])" if len(term) < _SHORT_TERM else ""
    return re.compile(rf"(?:(?<![A-Za-z]){lower}{end}|{cap}{end}|(?<![A-Z]){upper}(?![a-z]))")


def _count(term: str, pattern: re.Pattern[str] | None, text: str, lowered: str) -> int:
    # Long terms are specific enough that a plain substring count (C speed) is as good as a
    # boundary-checked match; short ones ("id", "url") need the boundaries.
    if pattern is None:
        return lowered.count(term)
    if term not in lowered:
        return 0
    return len(pattern.findall(text))


def bm25_scores(
    query: Query,
    paths: list[str],
    text_of: Callable[[str], str],
    lengths: list[int],
) -> list[float]:
    """A BM25 score per path (0.0 for no match), with path and whole-identifier hits weighted up.

    ``lengths`` are the texts' sizes in bytes (any consistent length works for normalization).
    """
    n = len(paths)
    if n == 0 or query.empty:
        return [0.0] * n
    avg_len = max(1.0, sum(lengths) / n)
    patterns = {t: _term_pattern(t) if len(t) < _EXACT_TERM else None for t in query.terms}
    texts = [text_of(p) for p in paths]
    lowered = [t.lower() for t in texts]
    path_low = [p.lower() for p in paths]
    scores = [0.0] * n
    for term, pattern in patterns.items():
        tfs = [_count(term, pattern, texts[i], lowered[i]) for i in range(n)]
        in_path = [term in path_low[i] for i in range(n)]
        df = sum(1 for i in range(n) if tfs[i] or in_path[i])
        if df == 0:
            continue
        idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        for i in range(n):
            tf = tfs[i]
            if tf:
                norm = _K1 * (1.0 - _B + _B * lengths[i] / avg_len)
                scores[i] += idf * tf * (_K1 + 1.0) / (tf + norm)
            if in_path[i]:
                scores[i] += idf * _PATH_WEIGHT
    for ident in query.identifiers:
        hits = [ident in texts[i] for i in range(n)]
        df = sum(hits)
        if df:
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            for i in range(n):
                if hits[i]:
                    scores[i] += idf * _IDENT_WEIGHT
    return scores


def mentioned_paths(query_text: str, paths: Iterable[str]) -> set[str]:
    """Paths the query names, in full or by file name (``sessions.py``)."""
    words = set(re.findall(r"[\w./-]+", query_text))
    found: set[str] = set()
    for path in paths:
        name = path.rsplit("/", 1)[-1]
        if path in words or ("." in name and name in words):
            found.add(path)
    return found
