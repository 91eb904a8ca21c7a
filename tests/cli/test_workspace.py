"""/diff, /apply and /undo between a real sandbox's working copy and a real git checkout."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from m1agent.sandboxes import DockerSandbox, SandboxConfig, docker_client

from m1agent.cli.workspace import Workspace, WorkspaceError, restore_workspace, save_workspace, saved_workspace


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "checkout"
    repo.mkdir()
    (repo / "app.py").write_text("def greet():\n    return 'hi'\n")
    (repo / "old.txt").write_text("old\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    return repo


@pytest.fixture
async def workspace(checkout: Path) -> AsyncIterator[Workspace]:
    async with DockerSandbox(SandboxConfig(memory="192m", work_size="64m"), client=docker_client()) as box:
        await box.open_repo(checkout)
        yield Workspace(box, checkout)


async def change(ws: Workspace) -> Any:
    result = await ws.sandbox.run(
        "cd repo && sed -i s/hi/hello/ app.py && rm old.txt && echo new > new.txt", timeout=30
    )
    assert result.exit_code == 0, result


async def test_apply_commits_on_a_clean_checkout_and_undo_drops_the_commit(workspace: Workspace, checkout) -> None:  # type: ignore[no-untyped-def]
    await change(workspace)
    diff = await workspace.diff()
    assert diff.modified == ["app.py"] and diff.added == ["new.txt"] and diff.deleted == ["old.txt"]
    assert (checkout / "app.py").read_text() == "def greet():\n    return 'hi'\n"  # only the sandbox changed
    applied = await workspace.apply("Say hello\n\nFriendlier greeting.")
    assert applied is not None and applied.kind == "commit" and applied.files == ["app.py", "new.txt", "old.txt"]
    assert "return 'hello'" in (checkout / "app.py").read_text() and not (checkout / "old.txt").exists()
    assert git(checkout, "log", "-1", "--format=%H %s") == f"{applied.commit} Say hello\n"
    assert git(checkout, "status", "--porcelain") == ""  # bookkeeping under .m1agent is ignored
    assert (await workspace.diff()).empty and await workspace.apply() is None
    undone = await workspace.undo()
    assert undone.how == "reset" and git(checkout, "log", "--format=%s") == "start\n"
    assert (checkout / "old.txt").read_text() == "old\n" and not (checkout / "new.txt").exists()
    assert not (await workspace.diff()).empty  # the changes are still in the sandbox, ready again
    with pytest.raises(WorkspaceError, match="nothing to undo"):
        await workspace.undo()


async def test_a_dirty_checkout_gets_the_files_not_a_commit(workspace: Workspace, checkout: Path) -> None:
    (checkout / "notes.md").write_text("my own work\n")
    await change(workspace)
    applied = await workspace.apply()
    assert applied is not None and applied.kind == "patch" and applied.patch_file.is_file()
    assert git(checkout, "log", "--format=%s") == "start\n"
    assert "return 'hello'" in (checkout / "app.py").read_text()
    assert (await workspace.undo()).how == "reverted"
    assert (checkout / "app.py").read_text() == "def greet():\n    return 'hi'\n"
    assert (checkout / "notes.md").read_text() == "my own work\n"


async def test_a_conflicting_checkout_is_left_untouched(workspace: Workspace, checkout: Path) -> None:
    await change(workspace)
    (checkout / "app.py").write_text("something else entirely\n")
    with pytest.raises(WorkspaceError, match="do not apply to the checkout as it is now; nothing was written"):
        await workspace.apply()
    assert (checkout / "app.py").read_text() == "something else entirely\n"
    assert (checkout / "old.txt").exists() and not (checkout / "new.txt").exists()


async def test_a_checkout_below_the_top_of_a_git_tree_gets_its_files(tmp_path: Path) -> None:
    top = tmp_path / "mono"
    (top / "svc").mkdir(parents=True)
    (top / "svc" / "app.py").write_text("def greet():\n    return 'hi'\n")
    (top / "svc" / "old.txt").write_text("old\n")
    git(top, "init", "-q")
    git(top, "add", ".")
    git(top, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    async with DockerSandbox(SandboxConfig(memory="192m", work_size="64m"), client=docker_client()) as box:
        await box.open_repo(top / "svc")
        ws = Workspace(box, top / "svc")
        await change(ws)
        applied = await ws.apply()
        assert applied is not None and applied.kind == "patch"
        assert "return 'hello'" in (top / "svc" / "app.py").read_text() and (top / "svc" / "new.txt").exists()
        assert (await ws.undo()).how == "reverted" and (top / "svc" / "old.txt").exists()


async def test_saved_changes_come_back_in_a_fresh_sandbox_or_say_why_not(workspace: Workspace, checkout: Path,
                                                                       tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    (sessions / "s_1").mkdir(parents=True)
    await change(workspace)
    save_workspace(sessions, "s_1", checkout, (await workspace.diff()).patch)
    save_workspace(sessions, "s_none", checkout, "patch")  # no transcript folder: nothing is written
    assert saved_workspace(sessions, "s_1")["repo"] == str(checkout) and saved_workspace(sessions, "s_none") == {}
    async with DockerSandbox(SandboxConfig(memory="192m", work_size="64m"), client=docker_client()) as box:
        await box.open_repo(checkout)
        fresh = Workspace(box, checkout)
        assert not await restore_workspace(fresh, sessions, "s_none")
        assert await restore_workspace(fresh, sessions, "s_1")
        changes = await fresh.diff()
        assert (changes.added, changes.modified, changes.deleted) == (["new.txt"], ["app.py"], ["old.txt"])
    (checkout / "app.py").write_text("rewritten since\n")  # the saved patch no longer fits the checkout
    async with DockerSandbox(SandboxConfig(memory="192m", work_size="64m"), client=docker_client()) as box:
        await box.open_repo(checkout)
        with pytest.raises(WorkspaceError, match="earlier changes no longer apply to"):
            await restore_workspace(Workspace(box, checkout), sessions, "s_1")
