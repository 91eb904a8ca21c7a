"""Read-only views of a domain's state, which ownership rules and predicates consult.

A view answers ``get(collection, key)`` with a plain mapping (or ``None``). Rules never write
through it. ``CachedView`` keeps answers until a write runs, which keeps a call's check cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class DomainView(Protocol):
    """Look up one record of the domain state."""

    def get(self, collection: str, key: str) -> Mapping[str, Any] | None:
        """The record ``key`` of ``collection`` as a mapping, or ``None`` if there is none."""
        ...


class EmptyView:
    """A domain with no state: every lookup finds nothing."""

    def get(self, collection: str, key: str) -> Mapping[str, Any] | None:
        """Always ``None``."""
        return None


class DictView:
    """A view over nested mappings: ``data[collection][key]``."""

    def __init__(self, data: Mapping[str, Any] | Callable[[], Mapping[str, Any]]) -> None:
        self._data = data

    def get(self, collection: str, key: str) -> Mapping[str, Any] | None:
        """The record, or ``None`` when the collection or key is missing or not a mapping."""
        data = self._data() if callable(self._data) else self._data
        table = data.get(collection) if isinstance(data, Mapping) else None
        if not isinstance(table, Mapping) or not isinstance(key, str):
            return None
        record = table.get(key)
        return record if isinstance(record, Mapping) else None


class CachedView:
    """Memoizes another view; ``invalidate`` (called by the engine after each write) drops the cache."""

    def __init__(self, inner: DomainView) -> None:
        self.inner = inner
        self._cache: dict[tuple[str, str], Mapping[str, Any] | None] = {}
        self.hits = 0
        self.misses = 0

    def get(self, collection: str, key: str) -> Mapping[str, Any] | None:
        """The inner view's answer, from the cache when it was asked before."""
        if not isinstance(key, str):
            return None
        slot = (collection, key)
        try:
            found = self._cache[slot]
        except KeyError:
            self.misses += 1
            found = self._cache[slot] = self.inner.get(collection, key)
            return found
        self.hits += 1
        return found

    def invalidate(self) -> None:
        """Forget every cached record (the state may have changed)."""
        self._cache.clear()
