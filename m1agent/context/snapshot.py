"""The readable text files of a repository at one moment, read lazily and at most once.

The stat index in the cache tells an unchanged file's hash and kind without reading it; text is read
only when a step needs it (ranking on a cold cache, rendering the selection).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from m1agent.context.cache import RepoCache, content_hash
from m1agent.context.files import Candidate, Enumeration, Skipped, decode_text

TEXT, BINARY, NOT_UTF8 = "text", "binary", "not-utf8"
_REASONS = {BINARY: "binary (NUL byte)", NOT_UTF8: "not valid UTF-8"}


@dataclass(frozen=True, slots=True)
class TextFile:
    """A candidate known to be UTF-8 text, with its content hash."""

    path: str
    size: int
    digest: str


class Snapshot:
    """The text files of one enumeration, with lazy, memoized reads."""

    def __init__(self, enumeration: Enumeration, cache: RepoCache) -> None:
        self.root: Path = enumeration.root
        self.via_git = enumeration.via_git
        self.skipped: list[Skipped] = list(enumeration.skipped)
        self.files: list[TextFile] = []
        self.reads = 0
        self._texts: dict[str, str] = {}
        stat_table = cache.tables["stat"]
        for cand in enumeration.candidates:
            known = stat_table.get(cand.path)
            if known is not None and tuple(known[:3]) == cand.stat_key:
                digest, kind = known[3], known[4]
            else:
                digest, kind = self._read_new(cand)
                cache.put("stat", cand.path, (*cand.stat_key, digest, kind))
            if kind == TEXT:
                self.files.append(TextFile(cand.path, cand.size, digest))
            else:
                self.skipped.append(Skipped(cand.path, _REASONS.get(kind, kind)))
        self.skipped.sort(key=lambda s: s.path)
        self.by_path = {f.path: f for f in self.files}

    def _read_new(self, cand: Candidate) -> tuple[str, str]:
        try:
            data = (self.root / cand.path).read_bytes()
        except OSError:
            return "", "unreadable"
        self.reads += 1
        text = decode_text(data)
        if text is None:
            return content_hash(data), BINARY if b"\0" in data else NOT_UTF8
        self._texts[cand.path] = text
        return content_hash(data), TEXT

    def text(self, path: str) -> str:
        """The file's text (read on first use; a file changed since enumeration reads as it is now)."""
        cached = self._texts.get(path)
        if cached is None:
            data = (self.root / path).read_bytes()
            self.reads += 1
            cached = decode_text(data) or ""
            self._texts[path] = cached
        return cached

    def fingerprint(self) -> str:
        """A hash of every (path, content) pair: equal fingerprints mean the same repository text."""
        h = hashlib.blake2b(digest_size=16)
        for f in self.files:
            h.update(f"{f.path}\0{f.digest}\n".encode("utf-8", "surrogateescape"))
        return h.hexdigest()
