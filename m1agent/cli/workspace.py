"""``/diff``, ``/apply`` and ``/undo``: moving the sandbox's changes into the user's checkout, and back.

The agent only ever changes the sandbox's copy. ``apply`` writes the changes into the checkout: as a
git commit when the checkout is a git repository with nothing uncommitted, otherwise as changed
files (``git apply``), with the patch kept under ``.m1agent/applied/`` either way. ``undo`` takes the
last apply back out. All of it needs ``git`` on the host; the checkout's other work is never touched.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from m1agent.errors import M1AgentError
from m1agent.sandboxes.diff import RepoChanges

APPLIED_DIR = ".m1agent/applied"
AUTHOR = ["-c", "user.name=m1agent", "-c", "user.email=m1agent@localhost"]


class WorkspaceError(M1AgentError):
    """The changes could not be applied or undone; the checkout was left as it was."""


@dataclass(frozen=True, slots=True)
class Applied:
    """One apply: ``kind`` is ``commit`` (``commit`` holds its id) or ``patch`` (files changed, not
    committed); ``patch_file`` is the saved patch, ``files`` the paths touched."""

    kind: Literal["commit", "patch"]
    files: list[str]
    patch_file: Path
    commit: str = ""
    baseline: dict[str, bytes] = field(default_factory=dict, repr=False)  # the sandbox's before


@dataclass(frozen=True, slots=True)
class Undone:
    """What ``undo`` did: ``reset`` (the commit was dropped), ``reverted`` (a reverse patch)."""

    how: Literal["reset", "reverted"]
    applied: Applied


def git(checkout: Path, *args: str, stdin: str | None = None, check: bool = True) -> str:
    """Run git in ``checkout``; ``WorkspaceError`` with git's own words when it fails."""
    proc = subprocess.run(
        ["git", *args], cwd=checkout, input=stdin, capture_output=True, text=True, timeout=120
    )
    if check and proc.returncode != 0:
        raise WorkspaceError(f"git {' '.join(args[:2])} failed: {(proc.stderr or proc.stdout).strip()[-800:]}")
    return proc.stdout


def is_git_repo(checkout: Path) -> bool:
    """True when ``checkout`` is the top of a git work tree."""
    proc = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=checkout, capture_output=True, text=True, timeout=30
    )
    return proc.returncode == 0 and Path(proc.stdout.strip()).resolve() == checkout.resolve()


def subdirectory_args(checkout: Path) -> list[str]:
    """``git apply`` reads a patch's paths from the top of the enclosing work tree; a checkout below
    that top needs its own folder put in front, or its files would be skipped."""
    proc = subprocess.run(
        ["git", "rev-parse", "--show-prefix"], cwd=checkout, capture_output=True, text=True, timeout=30
    )
    prefix = proc.stdout.strip().rstrip("/") if proc.returncode == 0 else ""
    return [f"--directory={prefix}"] if prefix else []


def is_clean(checkout: Path) -> bool:
    """True when git sees nothing uncommitted (untracked files included, ignored ones not)."""
    return git(checkout, "status", "--porcelain").strip() == ""


class Workspace:
    """The sandbox's working copy of ``checkout`` and the applies made from it in this session.

    ``sandbox`` is a ``DockerSandbox`` whose ``open_repo`` copied ``checkout`` in.
    """

    def __init__(self, sandbox: Any, checkout: str | Path) -> None:
        self.sandbox = sandbox
        self.checkout = Path(checkout).resolve()
        self.history: list[Applied] = []
        self._below = subdirectory_args(self.checkout)

    async def diff(self) -> RepoChanges:
        """What the agent changed in the sandbox since the start or the last apply (``/diff``)."""
        changes: RepoChanges = await self.sandbox.repo_changes()
        return changes

    async def apply(self, message: str = "") -> Applied | None:
        """Write the changes into the checkout (``/apply``); ``None`` when there is nothing to apply."""
        changes = await self.diff()
        if changes.empty:
            return None
        files = sorted({*changes.added, *changes.modified, *changes.deleted})
        patch_file = self._save_patch(changes.patch)
        try:
            git(self.checkout, "apply", *self._below, "--check", "--whitespace=nowarn", str(patch_file))
        except WorkspaceError as exc:
            raise WorkspaceError(
                f"the changes do not apply to the checkout as it is now; nothing was written ({exc})",
                hint=f"the patch is saved at {patch_file}; merge it by hand or undo the conflicting edits",
            ) from exc
        commit_it = is_git_repo(self.checkout) and is_clean(self.checkout)
        git(self.checkout, "apply", *self._below, "--whitespace=nowarn", str(patch_file))
        sha = ""
        if commit_it:
            git(self.checkout, "add", "-A", "--", *files)
            summary = message.strip().splitlines()[0][:72] if message.strip() else f"m1agent: {len(files)} file(s)"
            body = ["-m", message] if message.strip() else []
            git(self.checkout, *AUTHOR, "commit", "-q", "--no-verify", "-m", summary, *body, "--", *files)
            sha = git(self.checkout, "rev-parse", "HEAD").strip()
        before = dict(self.sandbox.repo_baseline or {})
        self.sandbox.repo_baseline = await self.sandbox.repo_files()
        applied = Applied("commit" if sha else "patch", files, patch_file, sha, before)
        self.history.append(applied)
        return applied

    async def undo(self) -> Undone:
        """Take the last apply back out of the checkout (``/undo``); its changes show in ``diff`` again."""
        if not self.history:
            raise WorkspaceError("nothing to undo: no changes were applied in this session")
        last = self.history[-1]
        how: Literal["reset", "reverted"]
        if last.kind == "commit" and self._head() == last.commit and is_clean(self.checkout):
            git(self.checkout, "reset", "-q", "--hard", "HEAD~1")
            how = "reset"
        else:
            git(self.checkout, "apply", *self._below, "-R", "--check", "--whitespace=nowarn", str(last.patch_file))
            git(self.checkout, "apply", *self._below, "-R", "--whitespace=nowarn", str(last.patch_file))
            how = "reverted"
        self.history.pop()
        self.sandbox.repo_baseline = last.baseline
        return Undone(how, last)

    def _head(self) -> str:
        return git(self.checkout, "rev-parse", "HEAD", check=False).strip()

    def _save_patch(self, patch: str) -> Path:
        folder = self.checkout / APPLIED_DIR
        folder.mkdir(parents=True, exist_ok=True)
        ignore = self.checkout / ".m1agent" / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n")  # our bookkeeping never shows up as an uncommitted change
        path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{len(self.history) + 1}.patch"
        path.write_text(patch, encoding="utf-8")
        return path


# --- a session's working copy, kept beside its transcript ---------------------------------------
# The sandbox is gone when the process ends; the patch beside the transcript is what lets ``resume``
# (and ``m1agent code --resume``, even after a crash) start a fresh sandbox with the same changes.

WORKSPACE_FILE = "workspace.json"


def save_workspace(sessions: Path, session_id: str, repo: Path, patch: str) -> None:
    """Keep the repository path and the sandbox's changes in the session's folder under ``sessions``."""
    folder = sessions / session_id
    if session_id and folder.is_dir():
        (folder / WORKSPACE_FILE).write_text(json.dumps({"repo": str(repo), "patch": patch}), encoding="utf-8")


def saved_workspace(sessions: Path, session_id: str) -> dict[str, str]:
    """What ``save_workspace`` kept (empty when nothing was)."""
    path = sessions / session_id / WORKSPACE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


async def restore_workspace(workspace: Workspace, sessions: Path, session_id: str) -> bool:
    """Put a session's saved changes back into ``workspace``'s fresh copy; ``False`` when it kept none."""
    from m1agent.tools.coding import EditFailed, RepoPathError, SandboxRepo
    from m1agent.tools.coding.edit_tools import apply_patch

    patch = saved_workspace(sessions, session_id).get("patch", "")
    if not patch:
        return False
    box = workspace.sandbox
    try:
        result = await apply_patch(SandboxRepo(box, f"{box.config.workdir}/{box.config.repo_dest}"), patch)
    except (EditFailed, RepoPathError) as exc:  # the checkout changed since: the patch no longer fits it
        raise WorkspaceError(f"the session's earlier changes no longer apply to {workspace.checkout}: {exc}",
                             hint="start a new session, or put the checkout back as it was") from exc
    if result.is_error:
        raise WorkspaceError(f"the session's earlier changes no longer apply to {workspace.checkout}: {result.content}")
    return True
