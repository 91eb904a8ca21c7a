"""How much each file is worth to the task: lexical match, symbol graph, git history, category.

The expensive inputs (symbols, identifiers) are cached by content hash, and a finished ranking is
cached by (repository fingerprint, query), so a warm pack reads and parses nothing to rank.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from m1agent.context.cache import RepoCache
from m1agent.context.graph import pagerank, symbol_edges
from m1agent.context.lexical import bm25_scores, mentioned_paths, parse_query
from m1agent.context.snapshot import Snapshot
from m1agent.context.symbols import SYMBOLS_VERSION, FileSymbols, SymbolExtractor, identifier_counts

RANK_VERSION = "r3"
# Above this many bytes of parseable source, the graph covers only the best lexical candidates, so a
# cold pack of a large repository parses a bounded amount (the rule does not depend on the cache).
GRAPH_ALL_BYTES = 4_000_000
GRAPH_CANDIDATE_BYTES = 1_500_000
GRAPH_CANDIDATE_FILES = 300

_IMPORTANT = re.compile(
    r"(^|/)(readme(\.\w+)?|pyproject\.toml|setup\.py|setup\.cfg|package\.json|cargo\.toml|go\.mod|"
    r"makefile|dockerfile|contributing(\.\w+)?|architecture(\.\w+)?)$",
    re.IGNORECASE,
)
_TEST = re.compile(r"(^|/)(tests?|spec|__tests__)(/|$)|(^|/)test_[^/]*$|_test\.\w+$|\.(test|spec)\.\w+$")
_DOCS = re.compile(r"(^|/)(docs?|documentation)(/|$)|\.(md|rst|txt|adoc)$", re.IGNORECASE)
_CONFIG = re.compile(r"\.(json|ya?ml|toml|ini|cfg|conf|xml|lock|po)$", re.IGNORECASE)
_SOURCE = re.compile(r"\.(py|pyi|js|jsx|ts|tsx|mjs|go|rs|c|h|cc|cpp|hpp|java|kt|rb|php|cs|swift|sh)$")


def category(path: str) -> str:
    """important / test / docs / config / source / other, first match wins."""
    if _IMPORTANT.search(path):
        return "important"
    if _TEST.search(path):
        return "test"
    if _DOCS.search(path):
        return "docs"
    if _CONFIG.search(path):
        return "config"
    if _SOURCE.search(path):
        return "source"
    return "other"


CATEGORY_PRIOR = {"important": 1.0, "source": 0.8, "test": 0.45, "docs": 0.5, "config": 0.3, "other": 0.2}


@dataclass(slots=True)
class Ranking:
    """Per path: the blended value and its parts (for the ledger's "why")."""

    value: dict[str, float]
    lexical: dict[str, float] = field(default_factory=dict)
    graph: dict[str, float] = field(default_factory=dict)
    history: dict[str, float] = field(default_factory=dict)
    mentioned: set[str] = field(default_factory=set)
    graph_files: int = 0

    def to_cache(self) -> tuple[object, ...]:
        """A marshal-friendly form."""
        return (self.value, self.lexical, self.graph, self.history, sorted(self.mentioned), self.graph_files)

    @classmethod
    def from_cache(cls, value: tuple[object, ...]) -> Ranking:
        """The inverse of ``to_cache``."""
        v, lex, graph, hist, mentioned, graph_files = value
        return cls(dict(v), dict(lex), dict(graph), dict(hist), set(mentioned), int(graph_files))  # type: ignore[call-overload]


def symbols_for(path: str, snapshot: Snapshot, cache: RepoCache, extractor: SymbolExtractor) -> FileSymbols | None:
    """Cached tree-sitter symbols of ``path`` (parsed on a cache miss)."""
    digest = snapshot.by_path[path].digest
    key = f"{SYMBOLS_VERSION}:{digest}"
    cached = cache.get("symbols", key)
    if cached is not None:
        return FileSymbols.from_cache(cached) if cached else None
    symbols = extractor.extract(path, snapshot.text(path))
    cache.put("symbols", key, symbols.to_cache() if symbols else ())
    return symbols


def _idents_for(path: str, snapshot: Snapshot, cache: RepoCache) -> dict[str, int]:
    digest = snapshot.by_path[path].digest
    cached = cache.get("idents", digest)
    if cached is None:
        cached = identifier_counts(snapshot.text(path))
        cache.put("idents", digest, cached)
    return dict(cached)


def _normalized(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values(), default=0.0)
    return {k: v / top for k, v in scores.items() if v > 0} if top > 0 else {}


def rank_files(
    snapshot: Snapshot,
    cache: RepoCache,
    extractor: SymbolExtractor,
    *,
    query: str,
    history: dict[str, float],
    extra_mentions: tuple[str, ...] = (),
) -> Ranking:
    """Value per text file (cached by repository fingerprint and query)."""
    paths = [f.path for f in snapshot.files]
    key = hashlib.blake2b(
        "\0".join(
            [RANK_VERSION, snapshot.fingerprint(), query, *sorted(extra_mentions), str(sorted(history.items()))]
        ).encode(),
        digest_size=16,
    ).hexdigest()
    cached = cache.get("rankings", key)
    if cached is not None:
        return Ranking.from_cache(cached)
    parsed = parse_query(query)
    mentioned = (mentioned_paths(query, paths) | set(extra_mentions)) & set(paths)
    lexical: dict[str, float] = {}
    if not parsed.empty:
        raw = bm25_scores(parsed, paths, snapshot.text, [f.size for f in snapshot.files])
        lexical = _normalized(dict(zip(paths, raw, strict=True)))
    graph_paths = _graph_candidates(snapshot, extractor, lexical, mentioned, history)
    definitions: dict[str, tuple[str, ...]] = {}
    references: dict[str, dict[str, int]] = {}
    for path in graph_paths:
        symbols = symbols_for(path, snapshot, cache, extractor)
        if symbols is not None:
            definitions[path] = symbols.definitions
        references[path] = _idents_for(path, snapshot, cache)
    personal = {p: lexical.get(p, 0.0) + (1.0 if p in mentioned else 0.0) for p in graph_paths}
    edges = symbol_edges(definitions, references, set(parsed.identifiers))
    graph = _graph_lift(graph_paths, edges, personal)
    value: dict[str, float] = {}
    for path in paths:
        prior = CATEGORY_PRIOR[category(path)]
        hist = history.get(path, 0.0)
        if parsed.empty and not mentioned:
            score = 0.5 * graph.get(path, 0.0) + 0.2 * hist + 0.3 * prior
        else:
            score = 0.55 * lexical.get(path, 0.0) + 0.3 * graph.get(path, 0.0) + 0.05 * hist + 0.1 * prior
        value[path] = round(score + (1.0 if path in mentioned else 0.0), 6)
    ranking = Ranking(
        value, lexical, graph, {p: h for p, h in history.items() if p in value}, mentioned, len(graph_paths)
    )
    cache.put("rankings", key, ranking.to_cache())
    return ranking


def _graph_lift(nodes: list[str], edges: dict[str, dict[str, float]], personal: dict[str, float]) -> dict[str, float]:
    """How much the query raises each file's centrality: personalised PageRank minus the plain one.

    A hub (a module everything imports) ranks high in both, so it gains little; a file the query's
    matches lead to gains a lot. Without a query the plain centrality is all there is.
    """
    if not nodes:
        return {}
    plain = pagerank(nodes, edges, None)
    if not any(v > 0 for v in personal.values()):
        return _normalized(plain)
    personalised = pagerank(nodes, edges, personal)
    return _normalized({n: max(0.0, personalised[n] - plain[n]) for n in nodes})


def _graph_candidates(
    snapshot: Snapshot,
    extractor: SymbolExtractor,
    lexical: dict[str, float],
    mentioned: set[str],
    history: dict[str, float],
) -> list[str]:
    parseable = [f for f in snapshot.files if extractor.supports(f.path)]
    if sum(f.size for f in parseable) <= GRAPH_ALL_BYTES:
        return sorted(f.path for f in parseable)
    if not lexical and not mentioned:
        order = sorted(parseable, key=lambda f: (-history.get(f.path, 0.0), f.path))
    else:
        order = sorted(parseable, key=lambda f: (f.path not in mentioned, -lexical.get(f.path, 0.0), f.path))
    chosen: list[str] = []
    total = 0
    for f in order:
        full = len(chosen) >= GRAPH_CANDIDATE_FILES or total + f.size > GRAPH_CANDIDATE_BYTES
        if full and f.path not in mentioned:
            continue
        chosen.append(f.path)
        total += f.size
    return sorted(chosen)
