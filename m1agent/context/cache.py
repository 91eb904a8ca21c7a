"""The per-repository cache that makes a second pack near-instant.

Everything expensive is keyed by content hash (token counts, symbols, identifiers, secret findings),
so a renamed or reverted file is never analysed twice. A stat index (size, mtime, inode) maps paths to
hashes, so unchanged files are not even read. The whole cache is one ``marshal`` file, loaded in one
go and replaced atomically: a crash mid-write leaves the previous cache intact.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any

CACHE_VERSION = 3
_MAX_ENTRIES = 200_000
_MAX_TEXTS = 8
_TABLES = ("stat", "counts", "symbols", "idents", "secrets", "rankings", "selections", "meta")


def default_cache_root() -> Path:
    """``$M1AGENT_CACHE_DIR``, else ``$XDG_CACHE_HOME/m1agent``, else ``~/.cache/m1agent``."""
    explicit = os.environ.get("M1AGENT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "m1agent"


def content_hash(data: bytes) -> str:
    """A short, collision-safe key for file content."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class RepoCache:
    """Tables of cached analyses for one repository, saved only when something changed.

    Tables: ``stat`` path -> (size, mtime_ns, inode, hash, kind); ``counts`` text hash -> exact
    tokens; ``symbols`` hash -> (definitions, outline); ``idents`` hash -> identifier counts;
    ``secrets`` hash -> findings; ``rankings`` request key -> ranked scores; ``selections`` request
    key -> fitted levels; ``meta`` misc.
    """

    def __init__(self, repo_root: Path, cache_root: Path | None = None, *, counter_id: str = "") -> None:
        key = hashlib.blake2b(os.path.realpath(repo_root).encode(), digest_size=8).hexdigest()
        self.directory = Path(cache_root or default_cache_root()) / "context" / key
        self.file = self.directory / "cache.marshal"
        self.counter_id = counter_id
        self.dirty = False
        self.tables: dict[str, dict[Any, Any]] = self._load()

    def _fresh(self) -> dict[str, dict[Any, Any]]:
        tables: dict[str, dict[Any, Any]] = {name: {} for name in _TABLES}
        tables["meta"].update(version=CACHE_VERSION, counter=self.counter_id)
        return tables

    def _load(self) -> dict[str, dict[Any, Any]]:
        try:
            with open(self.file, "rb") as fh:
                loaded = marshal.load(fh)
        except (OSError, EOFError, ValueError, TypeError):
            return self._fresh()
        if not isinstance(loaded, dict) or loaded.get("meta", {}).get("version") != CACHE_VERSION:
            return self._fresh()
        for name in _TABLES:
            loaded.setdefault(name, {})
        if loaded["meta"].get("counter") != self.counter_id:
            # Counts from another tokenizer are worthless; everything else still holds.
            loaded["counts"] = {}
            loaded["meta"]["counter"] = self.counter_id
            self.dirty = True
        return loaded

    def get(self, table: str, key: Any) -> Any:
        """The cached value, or ``None``."""
        return self.tables[table].get(key)

    def put(self, table: str, key: Any, value: Any) -> None:
        """Remember ``value``; the cache is written at ``save``."""
        target = self.tables[table]
        if target.get(key) != value:
            target[key] = value
            self.dirty = True

    def read_text(self, key: str) -> tuple[str, ...] | None:
        """Texts stored under ``key`` by ``write_text`` (a rendered pack), or ``None``."""
        try:
            with open(self.directory / "texts" / f"{key}.marshal", "rb") as fh:
                value = marshal.load(fh)
        except (OSError, EOFError, ValueError, TypeError):
            return None
        return tuple(value) if isinstance(value, tuple) and all(isinstance(v, str) for v in value) else None

    def write_text(self, key: str, texts: tuple[str, ...]) -> None:
        """Store rendered texts under ``key``; only the newest few are kept (they are large)."""
        folder = self.directory / "texts"
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".text-")
        with os.fdopen(fd, "wb") as fh:
            marshal.dump(texts, fh)
        os.replace(tmp, folder / f"{key}.marshal")
        kept = sorted(folder.glob("*.marshal"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in kept[_MAX_TEXTS:]:
            old.unlink(missing_ok=True)

    def save(self) -> None:
        """Write the cache atomically if anything changed (oldest entries go first past the cap)."""
        if not self.dirty:
            return
        for name in _TABLES:
            table = self.tables[name]
            limit = 64 if name in ("rankings", "selections") else _MAX_ENTRIES
            if len(table) > limit:
                for key in list(table)[: len(table) - limit]:
                    del table[key]
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".cache-")
        try:
            with os.fdopen(fd, "wb") as fh:
                marshal.dump(self.tables, fh)
            os.replace(tmp, self.file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.dirty = False
