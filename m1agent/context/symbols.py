"""Tree-sitter definitions and signature outlines, from grammar wheels that work offline.

Each grammar comes from its own PyPI wheel (``tree-sitter-python`` and so on), which ships the
compiled parser and a ``queries/tags.scm`` file; nothing is downloaded at run time. A language whose
wheel is missing simply has no symbols: its files still pack in full or by path.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from m1agent.context.estimate import extension

# extension -> (module, language function, extra tags modules whose queries also apply)
_GRAMMARS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "py": ("tree_sitter_python", "language", ()),
    "pyi": ("tree_sitter_python", "language", ()),
    "js": ("tree_sitter_javascript", "language", ()),
    "mjs": ("tree_sitter_javascript", "language", ()),
    "cjs": ("tree_sitter_javascript", "language", ()),
    "jsx": ("tree_sitter_javascript", "language", ()),
    "ts": ("tree_sitter_typescript", "language_typescript", ("tree_sitter_javascript",)),
    "tsx": ("tree_sitter_typescript", "language_tsx", ("tree_sitter_javascript",)),
    "go": ("tree_sitter_go", "language", ()),
    "rs": ("tree_sitter_rust", "language", ()),
    "c": ("tree_sitter_c", "language", ()),
    "h": ("tree_sitter_c", "language", ()),
    "cc": ("tree_sitter_cpp", "language", ()),
    "cpp": ("tree_sitter_cpp", "language", ()),
    "hpp": ("tree_sitter_cpp", "language", ()),
    "java": ("tree_sitter_java", "language", ()),
}
SYMBOLS_VERSION = "ts1"
_MAX_SIGNATURE_LINES = 6
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
ELISION = "⋮"


@dataclass(frozen=True, slots=True)
class FileSymbols:
    """What tree-sitter found in one file: defined names and a signatures-only outline."""

    definitions: tuple[str, ...]
    outline: str

    def to_cache(self) -> tuple[tuple[str, ...], str]:
        """A marshal-friendly form."""
        return (self.definitions, self.outline)

    @classmethod
    def from_cache(cls, value: Any) -> FileSymbols:
        """The inverse of ``to_cache``."""
        return cls(tuple(value[0]), value[1])


class _Grammar:
    def __init__(self, module: str, func: str, extra: tuple[str, ...]) -> None:
        import tree_sitter as ts

        mod = importlib.import_module(module)
        self.language = ts.Language(getattr(mod, func)())
        self.parser = ts.Parser(self.language)
        self.query = self._query(ts, [module, *extra])

    def _query(self, ts: Any, modules: list[str]) -> Any:
        sources = []
        for name in modules:
            path = Path(importlib.import_module(name).__file__ or "").parent / "queries" / "tags.scm"
            if path.is_file():
                sources.append(path.read_text("utf-8"))
        # The combined query can fail on node types only one grammar has; fall back to the own one.
        for combined in ("\n".join(sources), sources[0] if sources else ""):
            try:
                return ts.Query(self.language, combined) if combined else None
            except Exception:
                continue
        return None


class SymbolExtractor:
    """Parses files with the grammar for their extension; counts every parse (for cache checks)."""

    def __init__(self) -> None:
        self._grammars: dict[str, _Grammar | None] = {}
        self.parses = 0

    def supports(self, path: str) -> bool:
        """True when a grammar wheel for ``path``'s language is installed."""
        return self._grammar(extension(path)) is not None

    def _grammar(self, ext: str) -> _Grammar | None:
        if ext not in self._grammars:
            spec = _GRAMMARS.get(ext)
            grammar = None
            if spec is not None:
                try:
                    grammar = _Grammar(*spec)
                except (ImportError, AttributeError, ValueError):
                    grammar = None
            self._grammars[ext] = grammar
        return self._grammars[ext]

    def extract(self, path: str, text: str) -> FileSymbols | None:
        """Definitions and outline of ``text``, or ``None`` when its language has no grammar."""
        grammar = self._grammar(extension(path))
        if grammar is None or grammar.query is None:
            return None
        import tree_sitter as ts

        data = text.encode("utf-8")
        tree = grammar.parser.parse(data)
        self.parses += 1
        lines = text.splitlines()
        names: dict[str, None] = {}
        spans: set[tuple[int, int]] = set()
        for _index, captures in ts.QueryCursor(grammar.query).matches(tree.root_node):
            definition = next((nodes for key, nodes in captures.items() if key.startswith("definition")), None)
            name_nodes = captures.get("name")
            if not definition or not name_nodes:
                continue
            name = data[name_nodes[0].start_byte : name_nodes[0].end_byte].decode("utf-8", "replace")
            names[name] = None
            spans.add(_signature_span(definition[0], lines))
        return FileSymbols(tuple(names), _outline(lines, spans))


def _signature_span(node: Any, lines: list[str]) -> tuple[int, int]:
    """First and last line of a definition's signature: up to where its body starts."""
    start = node.start_point[0]
    body = node.child_by_field_name("body")
    if body is None:
        return start, start
    row, col = body.start_point
    # A body that opens its own line (Python blocks) is not part of the signature; one that starts
    # mid-line (``{`` after a C-like signature) shares its line with the signature's end.
    if row > start and row < len(lines) and not lines[row][:col].strip():
        row -= 1
    return start, min(max(start, row), start + _MAX_SIGNATURE_LINES - 1)


def _outline(lines: list[str], spans: set[tuple[int, int]]) -> str:
    """The signature lines in file order, with an elision mark wherever lines were left out."""
    keep: set[int] = set()
    for start, end in spans:
        keep.update(range(start, min(end, len(lines) - 1) + 1))
    out: list[str] = []
    previous = -1
    for row in sorted(keep):
        if row != previous + 1:
            out.append(ELISION)
        out.append(lines[row])
        previous = row
    if out and previous != len(lines) - 1:
        out.append(ELISION)
    return "\n".join(out)


def identifier_counts(text: str) -> dict[str, int]:
    """How often each identifier of three or more characters occurs (references, roughly)."""
    return dict(Counter(_IDENTIFIER.findall(text)))
