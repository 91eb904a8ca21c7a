"""Files in and out through the archive API, and repositories brought back as a diff."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from m1agent.sandboxes import (
    DockerSandbox,
    SandboxConfig,
    SandboxFileError,
    SizeLimitExceeded,
    UnsafeArchive,
)


async def test_write_and_read_files(box: DockerSandbox) -> None:
    await box.write_files({"a.txt": "text", "deep/er/b.bin": b"\x00\x01", "/work/abs.txt": "inside"})
    assert await box.read_file("a.txt") == b"text"
    assert await box.read_file("/work/deep/er/b.bin") == b"\x00\x01"
    listing = await box.run("stat -c '%U %n' deep deep/er deep/er/b.bin abs.txt")
    assert all(line.startswith("sandbox ") for line in listing.stdout.splitlines())
    assert (await box.run("echo more >> deep/er/b.bin")).exit_code == 0  # the code can change them


async def test_file_errors_are_clear(box: DockerSandbox) -> None:
    with pytest.raises(SandboxFileError, match="no such file"):
        await box.read_file("missing.txt")
    await box.run("mkdir folder")
    with pytest.raises(SandboxFileError, match="folder"):
        await box.read_file("folder")
    with pytest.raises(SandboxFileError, match="outside the work dir"):
        await box.read_file("/etc/passwd")
    with pytest.raises(UnsafeArchive):
        await box.write_files({"../escape.txt": "x"})
    await box.run("head -c 3000 /dev/zero > big")
    with pytest.raises(SizeLimitExceeded):
        await box.read_file("big", max_bytes=1000)


async def test_write_limit(engine: Any) -> None:
    async with DockerSandbox(SandboxConfig(max_write_bytes=100), client=engine) as box:
        with pytest.raises(SizeLimitExceeded):
            await box.write_files({"a": "x" * 60, "b": "y" * 60})


async def test_copy_a_folder_in_and_out(box: DockerSandbox, tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "mod.py").write_text("X = 1\n")
    (source / "README").write_text("hello\n")
    await box.copy_in(source, "project")
    assert (await box.run("cat project/pkg/mod.py project/README")).stdout == "X = 1\nhello\n"
    await box.run("echo 'Y = 2' >> project/pkg/mod.py && touch project/new.txt")
    written = await box.copy_out("project", tmp_path / "back")
    assert sorted(written) == ["README", "new.txt", "pkg", "pkg/mod.py"]
    assert (tmp_path / "back" / "pkg" / "mod.py").read_text() == "X = 1\nY = 2\n"


def make_repo(root: Path) -> Path:
    repo = root / "checkout"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "app.py").write_text("def greet():\n    return 'hi'\n")
    (repo / "old.txt").write_text("remove me\n")
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text("[remote] url = https://token@example.invalid\n")
    return repo


def checkout_state(repo: Path) -> dict[str, bytes]:
    return {str(p.relative_to(repo)): p.read_bytes() for p in sorted(repo.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("mode", ["copy", "mount"])
async def test_repo_changes_come_back_as_a_patch(engine: Any, tmp_path: Path, mode: str) -> None:
    repo = make_repo(tmp_path)
    before = checkout_state(repo)
    config = SandboxConfig(repo=str(repo), repo_mode=mode)  # type: ignore[arg-type]
    async with DockerSandbox(config, client=engine) as box:
        assert (await box.run("test -e repo/.git")).exit_code == 1  # credentials stay outside
        edit = "sed -i \"s/'hi'/'hello'/\" repo/src/app.py && rm repo/old.txt && echo new > repo/added.txt"
        assert (await box.run(edit)).exit_code == 0
        if mode == "mount":
            denied = await box.run("echo x > /mnt/repo/src/app.py")
            assert "Read-only file system" in denied.stderr
        changes = await box.repo_changes()
    assert checkout_state(repo) == before  # the user's checkout was never written
    assert (changes.added, changes.modified, changes.deleted) == (["added.txt"], ["src/app.py"], ["old.txt"])
    assert "-    return 'hi'\n+    return 'hello'\n" in changes.patch
    if shutil.which("git"):
        patch = changes.write_patch(tmp_path / "changes.patch")
        subprocess.run(["git", "apply", "--check", str(patch)], cwd=repo, check=True)
        subprocess.run(["git", "apply", str(patch)], cwd=repo, check=True)
        assert (repo / "src" / "app.py").read_text() == "def greet():\n    return 'hello'\n"
        assert not (repo / "old.txt").exists() and (repo / "added.txt").read_text() == "new\n"


async def test_no_changes_means_an_empty_patch(engine: Any, tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    async with DockerSandbox(client=engine) as box:
        await box.open_repo(repo)
        changes = await box.repo_changes()
    assert changes.empty and changes.patch == ""
