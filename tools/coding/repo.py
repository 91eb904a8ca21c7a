"""``SandboxRepo``: a folder inside a sandbox (a repository's copy, or the work dir), every path confined to it.

Every operation runs ``remote.py`` in the sandbox's resident agent (``Sandbox.run_module``): the
path check and the operation happen in the same process, so a symlink cannot lead outside the
root, and a call costs no process start. Files too large or not UTF-8 for a JSON reply are read
through the sandbox's file API after that check, whole.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from m1agent.errors import M1AgentError
from m1agent.sandbox import Sandbox

REMOTE_SOURCE = (Path(__file__).parent / "remote.py").read_text()
INLINE_READ = 4 * 1024 * 1024  # bytes of text sent back with the path check; larger files go by archive
FILE_OP_SECONDS = 60.0


class RepoPathError(M1AgentError):
    """A path outside the root, missing, or of the wrong kind; the message says which."""


@dataclass(slots=True)
class SandboxRepo:
    """The root the tools are bound to: ``root`` is its absolute path in the sandbox, ``workdir`` the
    sandbox's work dir (the base of ``Sandbox.read_file`` paths). Defaults match
    ``DockerSandbox.open_repo``; for the work dir itself, pass it as both.

    ``write_guard`` sees each root-relative path before a write or delete and returns a reason to
    refuse it, or ``None`` (the configured deny rules, for paths a policy cannot see, as in a patch).
    """

    sandbox: Sandbox
    root: str = "/work/repo"
    workdir: str = "/work"
    write_guard: Callable[[str], str | None] | None = None

    def check_write(self, path: str) -> None:
        """``RepoPathError`` when the guard refuses ``path``."""
        reason = self.write_guard(path) if self.write_guard is not None else None
        if reason:
            raise RepoPathError(reason)

    async def call(self, op: str, **fields: Any) -> dict[str, Any]:
        """Run one request in the sandbox; ``RepoPathError`` when it is refused."""
        request = {"op": op, "root": self.root, "seconds": FILE_OP_SECONDS - 10, **fields}
        reply: dict[str, Any] = await self.sandbox.run_module(REMOTE_SOURCE, request, timeout=FILE_OP_SECONDS)
        if "error" in reply:
            raise RepoPathError(reply["error"])
        return reply

    async def stat(self, path: str) -> tuple[str, str]:
        """(path relative to the root, ``file``/``dir``/``missing``/``other``)."""
        reply = await self.call("stat", path=path)
        return reply["path"], reply["kind"]

    def _for_sandbox(self, relative: str) -> str:
        """A root-relative path as the sandbox's file API wants it (relative to the work dir)."""
        full = posixpath.normpath(posixpath.join(self.root, relative))
        base = self.workdir.rstrip("/")
        return full[len(base) + 1 :] if full.startswith(base + "/") else full

    async def read_bytes(self, path: str) -> tuple[str, bytes]:
        """(root-relative path, content) of a regular file. UTF-8 text files up to ``INLINE_READ``
        bytes come back with the path check; others go through the sandbox's file API, whole."""
        reply = await self.call("read", path=path, inline=INLINE_READ)
        relative, kind = reply["path"], reply["kind"]
        if kind == "missing":
            raise RepoPathError(f"{path} does not exist", hint="list the folder or search for the file")
        if kind != "file":
            raise RepoPathError(f"{path} is {'a folder' if kind == 'dir' else 'not a regular file'}")
        if "content" in reply:
            return relative, reply["content"].encode("utf-8")
        return relative, await self.sandbox.read_file(self._for_sandbox(relative))

    async def read_text(self, path: str) -> tuple[str, str]:
        """(root-relative path, text); ``RepoPathError`` for a binary file."""
        relative, data = await self.read_bytes(path)
        if b"\x00" in data[:8192]:
            raise RepoPathError(f"{path} is a binary file of {len(data)} bytes", hint="inspect it with run_shell")
        return relative, data.decode("utf-8", "replace")

    async def write_text(self, path: str, content: str, *, create_only: bool = False) -> dict[str, Any]:
        """Write atomically (parents made, mode kept); returns ``path``, ``created``, ``bytes``."""
        self.check_write(path)
        return await self.call("write", path=path, content=content, create_only=create_only)

    async def delete(self, path: str) -> str:
        """Delete a file, a link, or an empty folder; returns the root-relative path."""
        self.check_write(path)
        reply = await self.call("delete", path=path)
        return str(reply["path"])

    async def list(self, path: str = ".", depth: int = 2, limit: int = 1000) -> dict[str, Any]:
        """``entries`` as [relative name (folders end in /), size or -1], and ``more``."""
        return await self.call("list", path=path, depth=depth, limit=limit)

    async def glob(self, pattern: str, path: str = ".", limit: int = 500) -> dict[str, Any]:
        """``files`` matching ``pattern`` (``**`` crosses folders), and ``more``."""
        return await self.call("glob", pattern=pattern, path=path, limit=limit)

    async def grep(
        self, pattern: str, path: str = ".", *, glob: str = "", ignore_case: bool = False, limit: int = 200
    ) -> dict[str, Any]:
        """``matches`` as [path, line number, line] for a Python regex, ``more`` and ``files`` searched."""
        return await self.call("grep", pattern=pattern, path=path, glob=glob, ignore_case=ignore_case, limit=limit)
