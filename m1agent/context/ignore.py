"""Which paths a pack skips before reading them: default ignores, user globs, binary extensions.

Patterns use gitignore semantics (``pathspec``'s ``GitIgnoreSpec``), so users write the globs they
already know from ``.gitignore``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pathspec

# Lock files, build output, vendored and generated code, caches, virtualenvs, editor state, and
# secrets-bearing files: the content nobody wants a model to read by default.
DEFAULT_IGNORES: tuple[str, ...] = (
    ".git/",
    ".hg/",
    ".svn/",
    ".m1agent/",
    "node_modules/",
    "bower_components/",
    "vendor/",
    "third_party/",
    "__pycache__/",
    ".venv/",
    "venv/",
    ".tox/",
    ".nox/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".idea/",
    ".vscode/",
    "dist/",
    "build/",
    "target/",
    "out/",
    ".next/",
    ".nuxt/",
    ".cache/",
    "coverage/",
    "htmlcov/",
    "*.egg-info/",
    "*.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
    "yarn.lock",
    "poetry.lock",
    "Cargo.lock",
    "Gemfile.lock",
    "composer.lock",
    "go.sum",
    "uv.lock",
    "*.min.js",
    "*.min.css",
    "*.map",
    "*.pyc",
    "*.pyo",
    ".DS_Store",
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa",
    "id_ed25519",
    ".netrc",
    ".npmrc",
    ".pypirc",
)

# Extensions that are never text: skipping them by name saves reading the file at all.
BINARY_EXTENSIONS: frozenset[str] = frozenset(
    {
        "png", "jpg", "jpeg", "gif", "bmp", "ico", "icns", "webp", "tif", "tiff", "psd", "svgz",
        "mo", "pyc", "pyo", "pyd", "so", "dll", "dylib", "exe", "o", "a", "lib", "obj", "class", "jar",
        "war", "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "tar", "whl", "egg",
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt",
        "mp3", "mp4", "wav", "ogg", "flac", "avi", "mov", "mkv", "webm",
        "ttf", "otf", "woff", "woff2", "eot",
        "sqlite", "sqlite3", "db", "dbf", "shp", "shx", "prj", "bin", "dat", "npy", "npz", "pkl",
        "pickle", "parquet", "onnx", "pt", "safetensors", "wasm",
    }
)  # fmt: skip


_DEFAULT_DIRS = frozenset(p[:-1] for p in DEFAULT_IGNORES if p.endswith("/") and "*" not in p)
_DEFAULT_DIR_SUFFIXES = tuple(p[1:-1] for p in DEFAULT_IGNORES if p.endswith("/") and p.startswith("*"))
_DEFAULT_NAMES = frozenset(p for p in DEFAULT_IGNORES if "/" not in p and "*" not in p)
_DEFAULT_SUFFIXES = tuple(p[1:] for p in DEFAULT_IGNORES if p.startswith("*") and "/" not in p)
_DEFAULT_PREFIXES = tuple(p[:-1] for p in DEFAULT_IGNORES if p.endswith("*") and "/" not in p)


def default_ignored(path: str) -> bool:
    """True when a default pattern matches ``path``: a plain-set check, since the defaults are only
    directory names, file names, suffixes and prefixes (a gitignore matcher costs ~1 ms a path)."""
    *dirs, name = path.split("/")
    for d in dirs:
        if d in _DEFAULT_DIRS or (_DEFAULT_DIR_SUFFIXES and d.endswith(_DEFAULT_DIR_SUFFIXES)):
            return True
    return name in _DEFAULT_NAMES or name.endswith(_DEFAULT_SUFFIXES) or name.startswith(_DEFAULT_PREFIXES)


def gitignore_spec(patterns: Iterable[str]) -> pathspec.GitIgnoreSpec:
    """A matcher with git's ignore semantics for ``patterns``."""
    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


class PathFilter:
    """Decides, from the path alone, whether a file is a candidate, and says why not."""

    def __init__(
        self,
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        use_default_ignores: bool = True,
    ) -> None:
        self._defaults = use_default_ignores
        self._exclude = gitignore_spec(exclude) if exclude else None
        self._include = gitignore_spec(include) if include else None

    def reason_to_skip(self, path: str) -> str | None:
        """``None`` for a candidate, else a short reason (recorded in the ledger)."""
        if self._include is not None and not self._include.match_file(path):
            return "not matched by --include"
        if self._exclude is not None and self._exclude.match_file(path):
            return "matched by --exclude"
        if self._defaults and default_ignored(path):
            return "default ignore"
        ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
        if ext in BINARY_EXTENSIONS:
            return "binary extension"
        return None
