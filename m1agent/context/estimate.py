"""Token estimates from byte counts, for choosing what to count exactly.

Ratios are M1 bytes per token measured per language on public code; unknown extensions use the
conservative end, so an estimate more often overshoots than undershoots.
"""

from __future__ import annotations

BYTES_PER_TOKEN: dict[str, float] = {
    "py": 4.39, "pyi": 4.39, "rs": 4.11, "ts": 4.04, "tsx": 4.04, "js": 4.04, "jsx": 4.04,
    "mjs": 4.04, "cjs": 4.04, "c": 3.68, "h": 3.68, "cc": 3.68, "cpp": 3.68, "hpp": 3.68,
    "go": 3.45, "java": 4.0, "kt": 4.0, "rb": 4.0, "php": 3.8, "cs": 4.0, "swift": 4.0,
    "json": 3.18, "yaml": 3.18, "yml": 3.18, "toml": 3.18, "lock": 3.0, "xml": 3.2, "html": 3.5,
    "css": 3.4, "scss": 3.4, "svg": 2.8, "md": 3.98, "rst": 3.98, "txt": 3.98, "po": 3.2,
    "sh": 3.7, "sql": 3.7,
}  # fmt: skip
DEFAULT_BYTES_PER_TOKEN = 3.4


def extension(path: str) -> str:
    """The lower-cased extension of ``path`` without the dot ("" when there is none)."""
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name[1:] else ""


def estimate_tokens(path: str, size_bytes: int) -> int:
    """M1 tokens that ``size_bytes`` of ``path``'s kind of text likely takes (at least 1)."""
    ratio = BYTES_PER_TOKEN.get(extension(path), DEFAULT_BYTES_PER_TOKEN)
    return max(1, int(size_bytes / ratio) + 1)
