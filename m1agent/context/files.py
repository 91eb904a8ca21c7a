"""Find the files of a repository that may go into a pack, without reading the ones that cannot.

Inside a git work tree ``git ls-files`` gives git's exact ignore semantics in milliseconds; elsewhere a
walk applies every ``.gitignore`` on the way down. Symlinks are followed only while they stay inside
the repository.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from m1agent.context.ignore import PathFilter


@dataclass(frozen=True, slots=True)
class Candidate:
    """A file that passed the path filters; its content is read later, and only if needed."""

    path: str
    size: int
    mtime_ns: int
    inode: int

    @property
    def stat_key(self) -> tuple[int, int, int]:
        """What tells, without reading, that the content is unchanged since the last pack."""
        return (self.size, self.mtime_ns, self.inode)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A path left out before reading, and why."""

    path: str
    reason: str


@dataclass(slots=True)
class Enumeration:
    """The candidates and the skipped paths of one repository, both sorted by path."""

    root: Path
    candidates: list[Candidate]
    skipped: list[Skipped]
    via_git: bool


def git_toplevel(root: Path) -> Path | None:
    """The work tree ``root`` belongs to, or ``None`` when it is not inside one (or git is missing)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


def _git_paths(root: Path) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
        timeout=120,
    )
    # Tracked files deleted in the work tree still show in --cached: they fail lstat later.
    return sorted({p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p})


def _walk_paths(root: Path) -> Iterator[str]:
    """Every file under ``root``, honouring nested ``.gitignore`` files; never enters linked dirs."""
    stack: list[tuple[str, list[tuple[str, pathspec.GitIgnoreSpec]]]] = [("", [])]
    while stack:
        rel_dir, specs = stack.pop()
        abs_dir = root / rel_dir if rel_dir else root
        ignore_file = abs_dir / ".gitignore"
        if ignore_file.is_file():
            try:
                lines = ignore_file.read_text("utf-8", errors="replace").splitlines()
                specs = [*specs, (rel_dir, pathspec.GitIgnoreSpec.from_lines(lines))]
            except OSError:
                pass
        try:
            entries = sorted(os.scandir(abs_dir), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name == ".git":
                continue
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if _ignored(rel, is_dir, specs):
                continue
            if is_dir:
                stack.append((rel, specs))
            else:
                yield rel


def _ignored(rel: str, is_dir: bool, specs: list[tuple[str, pathspec.GitIgnoreSpec]]) -> bool:
    verdict = False
    for base, spec in specs:
        local = rel[len(base) + 1 :] if base else rel
        result = spec.check_file(local + "/" if is_dir else local)
        if result.include is not None:
            verdict = result.include
    return verdict


def _inside(path: str, root_real: str) -> bool:
    return path == root_real or path.startswith(root_real + os.sep)


def enumerate_files(root: Path, path_filter: PathFilter, *, max_file_bytes: int) -> Enumeration:
    """The candidate files of ``root`` with their stat keys, and what was skipped and why."""
    root = root.resolve()
    root_real = os.path.realpath(root)
    via_git = git_toplevel(root) is not None
    paths = _git_paths(root) if via_git else sorted(_walk_paths(root))
    candidates: list[Candidate] = []
    skipped: list[Skipped] = []
    for rel in paths:
        reason = path_filter.reason_to_skip(rel)
        if reason is not None:
            skipped.append(Skipped(rel, reason))
            continue
        full = os.path.join(root_real, rel)
        try:
            st = os.lstat(full)
            # Neither git nor the walk descends into linked directories, so only the entry can link.
            if stat.S_ISLNK(st.st_mode):
                target = os.path.realpath(full)
                if not _inside(target, root_real):
                    skipped.append(Skipped(rel, "symlink leaves the repository"))
                    continue
                st = os.stat(target)
        except OSError:
            skipped.append(Skipped(rel, "unreadable or deleted"))
            continue
        if not stat.S_ISREG(st.st_mode):
            skipped.append(Skipped(rel, "not a regular file"))
            continue
        if st.st_size > max_file_bytes:
            skipped.append(Skipped(rel, f"larger than the {max_file_bytes}-byte cap"))
            continue
        candidates.append(Candidate(rel, st.st_size, st.st_mtime_ns, st.st_ino))
    return Enumeration(root, candidates, skipped, via_git)


def decode_text(data: bytes) -> str | None:
    """The text of a file, or ``None`` for binary (a NUL byte) or anything but strict UTF-8."""
    if b"\0" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text[1:] if text.startswith("\ufeff") else text
