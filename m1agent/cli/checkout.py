"""Moving the sandbox's changes into the person's checkout, and back: ``/diff``, ``/apply``, ``/undo``.

``/apply`` makes a git commit when the checkout is clean, else applies the patch to the files and
keeps a copy of it; ``/undo`` takes back the last ``/apply`` (the commit is dropped when it is still
the checkout's head and nothing else changed, else reverted; a patch is applied in reverse).
"""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from m1agent.errors import M1AgentError

COMMIT_MESSAGE = "m1agent: changes reviewed with /diff and applied with /apply"


@dataclass
class Applied:
    kind: str  # "commit" or "patch"
    patch: str
    commit: str = ""
    saved: Path | None = None


@dataclass
class SandboxCheckout:
    """The working copy in ``sandbox`` (anything with ``repo_changes()``) against the checkout at ``repo``."""

    sandbox: Any
    repo: Path
    patches_dir: Path
    applied: list[Applied] = field(default_factory=list)

    async def diff(self) -> str:
        patch = (await self.sandbox.repo_changes()).patch
        return "" if self.applied and patch == self.applied[-1].patch else patch

    async def apply(self) -> str:
        changes = await self.sandbox.repo_changes()
        if changes.empty:
            return "nothing to apply: the working copy has no changes"
        if self.applied and changes.patch == self.applied[-1].patch:
            return "already applied; /undo takes it back"
        return await asyncio.to_thread(self._apply, changes.patch, [*changes.added, *changes.modified,
                                                                     *changes.deleted])

    async def undo(self) -> str:
        if not self.applied:
            return "nothing to undo: no /apply in this session"
        return await asyncio.to_thread(self._undo)

    # --- git, on the host --------------------------------------------------------------------

    def _git(self, *args: str, stdin: str | None = None) -> str:
        proc = subprocess.run(["git", *args], cwd=self.repo, input=stdin, capture_output=True, text=True)
        if proc.returncode != 0:
            raise M1AgentError(f"git {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}",
                               hint="the checkout was left as it was; resolve the conflict and try again")
        return proc.stdout

    def _is_git(self) -> bool:
        proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=self.repo, capture_output=True, text=True)
        return proc.returncode == 0

    def _apply(self, patch: str, paths: list[str]) -> str:
        if not self._is_git():
            raise M1AgentError(f"{self.repo} is not a git repository", hint="git init it, or copy the /diff by hand")
        clean = not self._git("status", "--porcelain").strip()
        self._git("apply", "--check", "-", stdin=patch)
        self._git("apply", "-", stdin=patch)
        if clean:
            self._git("add", "-A", "--", *paths)
            self._git("commit", "-q", "-m", COMMIT_MESSAGE)
            sha = self._git("rev-parse", "HEAD").strip()
            self.applied.append(Applied("commit", patch, commit=sha))
            return f"applied as commit {sha[:10]} ({len(paths)} files); /undo takes it back"
        self.patches_dir.mkdir(parents=True, exist_ok=True)
        saved = self.patches_dir / f"apply-{len(list(self.patches_dir.glob('*.patch'))) + 1}.patch"
        saved.write_text(patch)
        self.applied.append(Applied("patch", patch, saved=saved))
        return (f"applied to the files, not committed: the checkout had uncommitted changes "
                f"(patch kept in {saved}); /undo takes it back")

    def _undo(self) -> str:
        last = self.applied[-1]
        if last.kind == "commit":
            head = self._git("rev-parse", "HEAD").strip()
            if head == last.commit and not self._git("status", "--porcelain").strip():
                self._git("reset", "-q", "--keep", "HEAD~1")
                message = f"dropped commit {last.commit[:10]}; the checkout is as before /apply"
            else:
                self._git("revert", "--no-edit", last.commit)
                message = f"reverted commit {last.commit[:10]} with a new commit"
        else:
            self._git("apply", "-R", "-", stdin=last.patch)
            message = "the patch was taken back out of the files"
        self.applied.pop()
        return message + "; the working copy still has the changes (/diff)"
