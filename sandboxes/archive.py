"""Tar archives in and out of a sandbox, checked so nothing lands outside where it was meant to.

Everything that comes out of a sandbox is hostile input: member names are checked for absolute
paths and ``..``, links must stay inside, devices and special files are refused, and sizes are
capped while streaming, before anything is kept.
"""

from __future__ import annotations

import io
import os
import posixpath
import stat
import tarfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath

from m1agent.errors import M1AgentError


class UnsafeArchive(M1AgentError):
    """An archive from the sandbox tried to escape its directory or held something not allowed."""

    hint = "nothing was written; copy plain files and directories only"


class SizeLimitExceeded(M1AgentError):
    """More bytes than the configured limit."""

    hint = "raise the sandbox's size limit, or copy less"


def clean_relative(path: str) -> str:
    """``path`` as a normalized relative POSIX path, or ``UnsafeArchive`` if it escapes."""
    if not path or "\x00" in path:
        raise UnsafeArchive(f"bad path {path!r}")
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise UnsafeArchive(f"path {path!r} leaves its directory")
    normalized = posixpath.normpath(path)
    if normalized == ".":
        raise UnsafeArchive(f"path {path!r} names the directory itself")
    return normalized


def _parents(relative: str) -> list[str]:
    parts = relative.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def files_tar(files: Mapping[str, str | bytes], *, uid: int, gid: int, limit: int) -> bytes:
    """A tar of ``files`` (relative path -> content), with owned parent directories."""
    buffer = io.BytesIO()
    total = 0
    now = time.time()
    seen_dirs: set[str] = set()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for raw_path, content in files.items():
            relative = clean_relative(raw_path)
            data = content.encode() if isinstance(content, str) else bytes(content)
            total += len(data)
            if total > limit:
                raise SizeLimitExceeded(f"files to write exceed {limit} bytes")
            for directory in _parents(relative):
                if directory not in seen_dirs:
                    seen_dirs.add(directory)
                    tar.addfile(_info(directory, tarfile.DIRTYPE, 0o755, uid, gid, now))
            info = _info(relative, tarfile.REGTYPE, 0o644, uid, gid, now)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def directory_tar(
    root: Path, *, prefix: str, uid: int, gid: int, limit: int, exclude: Iterable[str] = ()
) -> bytes:
    """A tar of the host directory ``root`` under ``prefix``; symlinks are kept as links, never followed."""
    excluded = set(exclude)
    buffer = io.BytesIO()
    total = 0
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        top = "" if prefix in ("", ".") else clean_relative(prefix) + "/"
        for parent in _parents(top + "x"):
            tar.addfile(_info(parent, tarfile.DIRTYPE, 0o755, uid, gid, time.time()))
        for path in _walk(root, excluded):
            info = tar.gettarinfo(str(path), arcname=top + path.relative_to(root).as_posix())
            if not (info.isreg() or info.isdir() or info.issym()):
                continue
            info.uid, info.gid, info.uname, info.gname = uid, gid, "", ""
            info.mode &= 0o777
            if info.isreg():
                total += info.size
                if total > limit:
                    raise SizeLimitExceeded(f"{root} is larger than {limit} bytes")
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    return buffer.getvalue()


def _walk(root: Path, excluded: set[str]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in excluded)
        base = Path(dirpath)
        if base != root:
            yield base
        for name in sorted(filenames):
            if name not in excluded:
                yield base / name


def _info(name: str, kind: bytes, mode: int, uid: int, gid: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.uid, info.gid, info.mtime = kind, mode, uid, gid, int(mtime)
    return info


def read_capped(chunks: Iterable[bytes], limit: int) -> bytes:
    """Join a stream of chunks, failing as soon as it passes ``limit`` bytes."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        if len(buffer) > limit:
            raise SizeLimitExceeded(f"the archive from the sandbox exceeds {limit} bytes")
    return bytes(buffer)


def checked_members(archive: bytes, *, strip_first: bool) -> list[tuple[tarfile.TarInfo, str]]:
    """Every member with its checked relative name; ``UnsafeArchive`` on the first bad one."""
    result = []
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        for member in tar.getmembers():
            name = member.name
            if strip_first:
                first, _, rest = name.partition("/")
                if not rest:
                    if member.isdir():
                        continue
                    rest = first
                name = rest
            relative = clean_relative(name)
            if member.issym() or member.islnk():
                target = member.linkname
                base = posixpath.dirname(relative) if member.issym() else ""
                if PurePosixPath(target).is_absolute() or posixpath.normpath(
                    posixpath.join(base, target)
                ).startswith(".."):
                    raise UnsafeArchive(f"link {name!r} points outside ({target!r})")
            elif not (member.isreg() or member.isdir()):
                raise UnsafeArchive(f"{name!r} is a device or special file")
            result.append((member, relative))
    return result


def archive_files(archive: bytes, *, strip_first: bool = True) -> dict[str, bytes]:
    """The regular files of a checked archive, in memory: relative path -> content."""
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        for member, relative in checked_members(archive, strip_first=strip_first):
            if member.isreg():
                handle = tar.extractfile(member.name)
                files[relative] = handle.read() if handle else b""
    return files


def extract_checked(archive: bytes, destination: Path, *, strip_first: bool = True) -> list[str]:
    """Write a checked archive under ``destination`` (created if missing); returns the paths written.

    All members are checked before the first byte is written, so a bad archive writes nothing.
    """
    members = checked_members(archive, strip_first=strip_first)
    destination.mkdir(parents=True, exist_ok=True)
    root = destination.resolve()
    written = []
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        for member, relative in members:
            target = root / relative
            # Links already written may redirect later members; resolve against the real tree.
            placed = target.parent if member.issym() else target
            if not placed.resolve().is_relative_to(root):
                raise UnsafeArchive(f"{relative!r} resolves outside {destination}")
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.issym():
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.is_symlink() or target.exists():
                    target.unlink()
                target.symlink_to(member.linkname)
            elif member.isreg():
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.is_symlink():
                    target.unlink()
                handle = tar.extractfile(member)
                target.write_bytes(handle.read() if handle else b"")
                target.chmod(stat.S_IMODE(member.mode) & 0o755 | 0o600)
            else:
                continue
            written.append(relative)
    return written
