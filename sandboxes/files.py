"""Moving files in and out of a running sandbox through Docker's archive API, on the work volume.

The archive API cannot write to a read-only root or see tmpfs mounts, so every path here is under
the work dir, which is a named volume.
"""

from __future__ import annotations

import asyncio
import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from m1agent.errors import M1AgentError

from .archive import (
    SizeLimitExceeded,
    archive_files,
    clean_relative,
    directory_tar,
    extract_checked,
    files_tar,
    read_capped,
)
from .config import SandboxConfig


class SandboxFileError(M1AgentError):
    """A file operation in the sandbox failed (missing file, a folder where a file was expected)."""


class SandboxFiles:
    """File operations of a Docker sandbox; needs ``config`` and a started ``container``."""

    config: SandboxConfig
    container: Any

    def _relative(self, path: str) -> str:
        """``path`` relative to the work dir; absolute paths must lie inside it."""
        workdir = self.config.workdir.rstrip("/")
        if path.startswith("/"):
            normalized = posixpath.normpath(path)
            if normalized != workdir and not normalized.startswith(workdir + "/"):
                raise SandboxFileError(
                    f"{path} is outside the work dir {workdir}", hint="use a path inside the work dir"
                )
            path = normalized[len(workdir) + 1 :]
        return clean_relative(path)

    def _get(self, relative: str, limit: int) -> tuple[bytes, dict[str, Any]]:
        import docker.errors

        try:
            stream, stat = self.container.get_archive(f"{self.config.workdir}/{relative}")
        except docker.errors.NotFound as exc:
            raise SandboxFileError(f"no such file in the sandbox: {relative}") from exc
        if stat.get("size", 0) > limit:
            raise SizeLimitExceeded(f"{relative} has {stat['size']} bytes, more than the limit of {limit}")
        return read_capped(stream, limit + 1024 * 1024), stat

    async def write_files(self, files: Mapping[str, str | bytes]) -> None:
        """Write files under the work dir (paths relative to it); parent folders are created."""
        cfg = self.config
        archive = files_tar(
            {self._relative(p): c for p, c in files.items()},
            uid=cfg.uid,
            gid=cfg.gid,
            limit=cfg.max_write_bytes,
        )
        await asyncio.to_thread(self.container.put_archive, cfg.workdir, archive)

    async def read_file(self, path: str, max_bytes: int | None = None) -> bytes:
        """One file's content; ``SizeLimitExceeded`` past ``max_bytes`` (default: the config's)."""
        relative = self._relative(path)
        limit = max_bytes if max_bytes is not None else self.config.max_read_bytes
        archive, stat = await asyncio.to_thread(self._get, relative, limit)
        files = archive_files(archive, strip_first=False)
        name = posixpath.basename(relative)
        if name not in files:
            kind = "a folder" if stat.get("mode", 0) & (1 << 31) else "not a regular file"
            raise SandboxFileError(f"{relative} is {kind}", hint="read a regular file")
        return files[name]

    async def copy_in(self, source: str | Path, dest: str = ".") -> None:
        """Copy a host folder's contents into ``dest`` under the work dir; links are kept, not followed."""
        cfg = self.config
        prefix = "." if dest in ("", ".") else self._relative(dest)
        archive = await asyncio.to_thread(
            directory_tar, Path(source), prefix=prefix, uid=cfg.uid, gid=cfg.gid, limit=cfg.max_copy_bytes
        )
        await asyncio.to_thread(self.container.put_archive, cfg.workdir, archive)

    async def copy_out(self, source: str, destination: str | Path) -> list[str]:
        """Copy a sandbox folder's contents to a host folder; returns the relative paths written.

        The archive is checked whole before anything is written: ``..`` names, absolute names,
        links that leave the folder and special files raise ``UnsafeArchive`` and write nothing.
        """
        relative = "." if source in ("", ".") else self._relative(source)
        archive, _ = await asyncio.to_thread(self._get, relative, self.config.max_copy_bytes)
        return await asyncio.to_thread(extract_checked, archive, Path(destination), strip_first=True)
