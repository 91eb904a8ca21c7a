"""Repositories in a Docker sandbox: a host checkout copied in, and what the sandbox changed in it.

The user's checkout is never written: it is copied into the work volume (or bound read-only at
``/mnt/repo`` and copied from there), and changes come back as a patch to review.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from m1agent.errors import M1AgentError

from .archive import archive_files, directory_tar, read_capped
from .config import SandboxConfig
from .diff import RepoChanges, compare
from .errors import SandboxUnavailable

REPO_MOUNT = "/mnt/repo"


class SandboxRepos:
    """Repository operations of a Docker sandbox; needs ``config``, a started ``container`` and
    ``_snapshot`` (the checkout as copied in)."""

    config: SandboxConfig
    container: Any
    _snapshot: dict[str, bytes] | None

    async def open_repo(self, path: str | Path) -> None:
        """Copy a host checkout into ``<workdir>/<repo_dest>``; the checkout itself is never written."""
        await asyncio.to_thread(self._open_repo_sync, Path(path), False)

    def _open_repo_sync(self, path: Path, mounted: bool) -> None:
        cfg = self.config
        if not path.is_dir():
            raise SandboxUnavailable(f"{path} is not a directory", hint="pass the repository's root folder")
        archive = directory_tar(
            path, prefix=cfg.repo_dest, uid=cfg.uid, gid=cfg.gid, limit=cfg.max_copy_bytes,
            exclude=cfg.repo_exclude,
        )
        self._snapshot = archive_files(archive, strip_first=True)
        if not mounted:
            self.container.put_archive(cfg.workdir, archive)
            return
        excludes = " ".join(f"--exclude={name}" for name in cfg.repo_exclude)
        copy = (
            f"mkdir -p {cfg.repo_dest} && tar -C {REPO_MOUNT} {excludes} -cf - . "
            f"| tar -C {cfg.repo_dest} --no-same-owner -xf -"
        )
        result = self.container.exec_run(["sh", "-c", copy], user=cfg.user, workdir=cfg.workdir)
        if result.exit_code != 0:
            raise SandboxUnavailable(f"copying the mounted repository failed: {result.output[-500:]!r}")

    async def repo_changes(self) -> RepoChanges:
        """What the sandbox changed in its copy of the repository, as a reviewable patch."""
        return await asyncio.to_thread(self._repo_changes_sync)

    def _repo_changes_sync(self) -> RepoChanges:
        if self._snapshot is None:
            raise M1AgentError("no repository was opened in this sandbox", hint="call open_repo first")
        return compare(self._snapshot, self._repo_files_sync())

    def _repo_files_sync(self) -> dict[str, bytes]:
        cfg = self.config
        stream, _ = self.container.get_archive(f"{cfg.workdir}/{cfg.repo_dest}")
        current = archive_files(read_capped(stream, cfg.max_copy_bytes), strip_first=True)
        excluded = set(cfg.repo_exclude)
        return {p: d for p, d in current.items() if not excluded.intersection(p.split("/"))}

    async def repo_files(self) -> dict[str, bytes]:
        """The sandbox's copy of the repository as it is now (relative path -> content)."""
        return await asyncio.to_thread(self._repo_files_sync)

    @property
    def repo_baseline(self) -> dict[str, bytes] | None:
        """What ``repo_changes`` compares against: the checkout as copied in, until changes are
        applied to it (then the caller sets the copy's state as the new baseline)."""
        return self._snapshot

    @repo_baseline.setter
    def repo_baseline(self, files: dict[str, bytes]) -> None:
        self._snapshot = dict(files)
