"""The symbol graph and a personalised PageRank over it, as aider's repo map ranks files.

Files are nodes; a file that references an identifier gets an edge to each file defining it, weighted
by the square root of the reference count. Identifiers the query names weigh more; private and
ubiquitous ones weigh less. A few dozen power iterations over a few thousand edges take milliseconds,
which is why this is written out here rather than pulled in from a graph library.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

_DAMPING = 0.85
_ITERATIONS = 40
_TOLERANCE = 1e-9
_MENTIONED_IDENT = 10.0
_PRIVATE_IDENT = 0.1
_COMMON_DEFINERS = 5


def symbol_edges(
    definitions: Mapping[str, Sequence[str]],
    references: Mapping[str, Mapping[str, int]],
    query_identifiers: set[str],
) -> dict[str, dict[str, float]]:
    """``src -> dst -> weight``: ``src`` references names that ``dst`` defines."""
    definers: dict[str, list[str]] = defaultdict(list)
    for path, names in definitions.items():
        for name in names:
            definers[name].append(path)
    edges: dict[str, dict[str, float]] = defaultdict(dict)
    for src, counts in references.items():
        for name, count in counts.items():
            owners = definers.get(name)
            if not owners:
                continue
            weight = math.sqrt(count)
            if name in query_identifiers:
                weight *= _MENTIONED_IDENT
            if name.startswith("_"):
                weight *= _PRIVATE_IDENT
            if len(owners) > _COMMON_DEFINERS:
                weight *= _PRIVATE_IDENT
            for dst in owners:
                if dst != src:
                    edges[src][dst] = edges[src].get(dst, 0.0) + weight
    return edges


def pagerank(
    nodes: Sequence[str],
    edges: Mapping[str, Mapping[str, float]],
    personalization: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Stationary rank of each node; teleports follow ``personalization`` (uniform when empty)."""
    if not nodes:
        return {}
    total = sum(v for v in (personalization or {}).values() if v > 0)
    if total > 0 and personalization:
        teleport = {n: max(0.0, personalization.get(n, 0.0)) / total for n in nodes}
    else:
        teleport = {n: 1.0 / len(nodes) for n in nodes}
    out_weight = {src: sum(dsts.values()) for src, dsts in edges.items()}
    rank = dict(teleport)
    for _ in range(_ITERATIONS):
        nxt = {n: (1.0 - _DAMPING) * teleport[n] for n in nodes}
        dangling = 0.0
        for node in nodes:
            share = rank[node]
            weight = out_weight.get(node, 0.0)
            if weight <= 0:
                dangling += share
                continue
            for dst, w in edges[node].items():
                if dst in nxt:
                    nxt[dst] += _DAMPING * share * w / weight
        for node in nodes:
            nxt[node] += _DAMPING * dangling * teleport[node]
        delta = sum(abs(nxt[n] - rank[n]) for n in nodes)
        rank = nxt
        if delta < _TOLERANCE:
            break
    return rank
