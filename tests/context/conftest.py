"""Real repositories made on the spot: git init, files, commits with chosen dates."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


def git(repo: Path, *args: str, date: str | None = None) -> str:
    """Run git in ``repo`` with a fixed identity (and commit date, when given)."""
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")  # fmt: skip
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True)
    return out.stdout


def write(root: Path, files: dict[str, str | bytes]) -> None:
    """Create ``files`` (path -> text or bytes) under ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")



@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """A private pack cache for one test."""
    return tmp_path / "cache"


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """``make_repo(files, git=True, commits=[(date, files), ...])`` -> the repository's path."""

    def make(
        files: dict[str, str | bytes],
        *,
        use_git: bool = True,
        commits: list[tuple[str, dict[str, str]]] | None = None,
        name: str = "repo",
    ) -> Path:
        root = tmp_path / name
        root.mkdir()
        write(root, files)
        if use_git:
            git(root, "init", "-q", "-b", "main")
            git(root, "add", "-A")
            git(root, "commit", "-q", "-m", "initial", date="2024-01-01T12:00:00")
            for date, changed in commits or []:
                write(root, changed)
                git(root, "add", "-A")
                git(root, "commit", "-q", "-m", f"change {date}", date=date)
        return root

    return make


def synthetic_module(index: int, lines: int = 60) -> str:
    """A plausible Python module of about ``lines`` lines, unique per ``index``."""
    body = [f'"""Module {index}: helpers for widget batch {index}."""', "", "import math", ""]
    for f in range(lines // 6):
        body += [
            f"def widget_{index}_{f}(value: float, scale: int = {f + 1}) -> float:",
            f'    """Scale value for widget {index}.{f}."""',
            f"    result = math.sqrt(abs(value)) * scale + {index * 7 + f}",
            "    return round(result, 3)",
            "",
            "",
        ]
    return "\n".join(body)


@pytest.fixture(scope="session")
def synthetic() -> Callable[..., str]:
    """``synthetic(index, lines)``: a plausible, unique Python module (works in any import mode)."""
    return synthetic_module
