"""What gets considered at all: git and walk modes, ignores, globs, caps, binaries, symlinks."""

from __future__ import annotations

import os
from pathlib import Path

from m1agent.context.files import enumerate_files
from m1agent.context.ignore import PathFilter
from m1agent.context.pack import PackOptions, pack_repository

FILES: dict[str, str | bytes] = {
    ".gitignore": "build_out/\n*.log\n",
    "src/app.py": "print('hello')\n",
    "src/sub/.gitignore": "secret_notes.txt\n",
    "src/sub/secret_notes.txt": "ignored by the nested gitignore\n",
    "src/sub/keep.py": "x = 1\n",
    "build_out/gen.py": "generated = True\n",
    "debug.log": "log line\n",
    "node_modules/lib/index.js": "module.exports = 1\n",
    "poetry.lock": "[[package]]\n",
    ".env": "MINIMAX_API_KEY=abc\n",
    "image.data1": b"\x89PNG\x00\x00binary",
    "latin1.txt": "caf\xe9".encode("latin-1"),
    "big.txt": "x" * 5000,
    "docs/guide.md": "# Guide\n",
}


def _paths(root: Path, **kw: object) -> tuple[list[str], dict[str, str]]:
    enum = enumerate_files(root, PathFilter(**kw), max_file_bytes=4000)  # type: ignore[arg-type]
    return [c.path for c in enum.candidates], {s.path: s.reason for s in enum.skipped}


def test_git_mode_honours_nested_gitignore_and_defaults(make_repo):
    root = make_repo(FILES)
    paths, skipped = _paths(root)
    assert "src/app.py" in paths and "src/sub/keep.py" in paths and "docs/guide.md" in paths
    for ignored in ("src/sub/secret_notes.txt", "build_out/gen.py", "debug.log"):
        assert ignored not in paths and ignored not in skipped  # git never lists them
    assert skipped["node_modules/lib/index.js"] == "default ignore"
    assert skipped["poetry.lock"] == "default ignore"
    assert skipped[".env"] == "default ignore"
    assert "larger than" in skipped["big.txt"]


def test_walk_mode_applies_gitignore_files_without_git(make_repo):
    root = make_repo(FILES, use_git=False)
    paths, skipped = _paths(root)
    assert "src/app.py" in paths and "src/sub/keep.py" in paths
    assert "src/sub/secret_notes.txt" not in paths
    assert "build_out/gen.py" not in paths and "debug.log" not in paths
    assert skipped[".env"] == "default ignore"


def test_include_and_exclude_globs(make_repo):
    root = make_repo(FILES)
    paths, skipped = _paths(root, include=["*.py"], exclude=["src/sub/"])
    assert paths == ["src/app.py"]
    assert skipped["src/sub/keep.py"] == "matched by --exclude"
    assert skipped["docs/guide.md"] == "not matched by --include"


def test_binary_and_non_utf8_files_are_reported_not_packed(make_repo, counter, cache_dir):
    root = make_repo(FILES)
    result = pack_repository(root, PackOptions(budget=5000, cache_dir=cache_dir), counter=counter)
    skipped = dict(result.ledger.skipped)
    assert skipped["image.data1"] == "binary (NUL byte)"
    assert skipped["latin1.txt"] == "not valid UTF-8"
    assert "PNG" not in result.text and "caf" not in result.text
    assert "print('hello')" in result.text


def test_symlinks_that_leave_the_repository_are_never_followed(make_repo, tmp_path, counter, cache_dir):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.py").write_text("TOP_SECRET_OUTSIDE = 42\n")
    root = make_repo({"src/app.py": "import os\n", "src/inner.py": "INNER_VALUE = 7\n"}, use_git=False)
    os.symlink(outside / "private.py", root / "src" / "link_file.py")
    os.symlink(outside, root / "linked_dir")
    os.symlink(root / "src" / "inner.py", root / "src" / "alias.py")
    paths, skipped = _paths(root)
    assert skipped["src/link_file.py"] == "symlink leaves the repository"
    assert not any(p.startswith("linked_dir") for p in paths)
    assert "src/alias.py" in paths  # a link that stays inside is fine
    result = pack_repository(root, PackOptions(budget=4000, cache_dir=cache_dir), counter=counter)
    assert "TOP_SECRET_OUTSIDE" not in result.text
    assert "INNER_VALUE" in result.text


def test_symlink_escape_in_git_mode(make_repo, tmp_path):
    outside = tmp_path / "elsewhere.py"
    outside.write_text("ELSEWHERE = 1\n")
    root = make_repo({"a.py": "A = 1\n"})
    os.symlink(outside, root / "escape.py")
    paths, skipped = _paths(root)
    assert paths == ["a.py"]
    assert skipped["escape.py"] == "symlink leaves the repository"
