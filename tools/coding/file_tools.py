"""Reading, listing, searching, creating and deleting files of the working copy."""

from __future__ import annotations

from typing import Any

from m1agent.tool import ToolReturn
from m1agent.tool_args import flag, integer, schema, text

from .repo import SandboxRepo

READ_CHARS = 16_000  # of file text per call; the model reads on with start_line
READ_LINES = 2_000
MAX_LINE = 2_000

_PATH = {"type": "string", "description": "Path relative to the repository root."}


async def read_file(repo: SandboxRepo, args: dict[str, Any]) -> ToolReturn:
    """Lines of a file, numbered; a window when asked or when the file is long."""
    path = text(args, "path")
    start = integer(args, "start_line", 1, 1, 10**9) or 1
    end = integer(args, "end_line", None, 1, 10**9)
    if end is not None and end < start:
        return ToolReturn(f"end_line {end} is before start_line {start}", is_error=True)
    relative, content = await repo.read_text(path)
    lines = content.splitlines()
    total = len(lines)
    if total == 0:
        return ToolReturn(f"{relative} is empty")
    if start > total:
        return ToolReturn(f"{relative} has {total} lines; start_line {start} is past its end", is_error=True)
    last = min(total, end or total, start + READ_LINES - 1)
    shown: list[str] = []
    used = 0
    for number in range(start, last + 1):
        line = lines[number - 1]
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE] + f" [… {len(line) - MAX_LINE} more characters]"
        entry = f"{number:>6}\t{line}"
        if shown and used + len(entry) > READ_CHARS:
            last = number - 1
            break
        shown.append(entry)
        used += len(entry) + 1
    header = f"{relative}: lines {start}-{last} of {total}"
    if last < (end or total):
        header += f" (more: read on with start_line={last + 1})"
    return ToolReturn(header + "\n" + "\n".join(shown))


async def list_files(repo: SandboxRepo, args: dict[str, Any]) -> ToolReturn:
    """A folder's files and subfolders with sizes, a few levels down."""
    path = text(args, "path", ".")
    depth = integer(args, "depth", 2, 1, 10) or 2
    reply = await repo.list(path, depth)
    lines = [name if size < 0 else f"{name} ({size} bytes)" for name, size in reply["entries"]]
    if reply["more"]:
        lines.append("[… more entries; list a subfolder]")
    return ToolReturn("\n".join(lines) or f"{reply['path']} is empty")


async def search_files(repo: SandboxRepo, args: dict[str, Any]) -> ToolReturn:
    """Lines matching a regular expression, as ``path:line: text``."""
    pattern = text(args, "pattern")
    reply = await repo.grep(
        pattern, text(args, "path", "."), glob=text(args, "glob", ""), ignore_case=flag(args, "ignore_case")
    )
    if not reply["matches"]:
        return ToolReturn(f"no matches for {pattern!r} in {reply['files']} text file(s)")
    lines = [f"{path}:{number}: {line}" for path, number, line in reply["matches"]]
    if reply["more"]:
        lines.append(f"[… more than {len(reply['matches'])} matches; narrow the pattern, path or glob]")
    return ToolReturn("\n".join(lines))


async def find_files(repo: SandboxRepo, args: dict[str, Any]) -> ToolReturn:
    """Files whose path matches a glob."""
    pattern = text(args, "pattern")
    reply = await repo.glob(pattern, text(args, "path", "."))
    if not reply["files"]:
        return ToolReturn(f"no files match {pattern!r}")
    return ToolReturn("\n".join(reply["files"]) + ("\n[… more files; narrow the pattern]" if reply["more"] else ""))


async def write_file(repo: SandboxRepo, args: dict[str, Any]) -> ToolReturn:
    """Create a file (or replace it whole); missing folders are made."""
    path, content = text(args, "path"), text(args, "content")
    reply = await repo.write_text(path, content)
    verb = "created" if reply["created"] else "replaced"
    return ToolReturn(f"{verb} {reply['path']} ({reply['bytes']} bytes)")


async def delete_file(repo: SandboxRepo, args: dict[str, Any]) -> ToolReturn:
    """Delete one file (or an empty folder)."""
    return ToolReturn(f"deleted {await repo.delete(text(args, 'path'))}")


SPECS: list[tuple[str, str, dict[str, Any], Any]] = [
    (
        "read_file",
        "Read a text file of the repository. Lines come numbered (`number<TAB>text`); the numbers are not "
        "part of the file. Long files come in windows: pass start_line/end_line to read a part.",
        schema(
            {
                "path": _PATH,
                "start_line": {"type": "integer", "description": "First line to show (1-based, default 1)."},
                "end_line": {"type": "integer", "description": "Last line to show (default: as much as fits)."},
            },
            ["path"],
        ),
        read_file,
    ),
    (
        "list_files",
        "List a folder of the repository: subfolders end in `/`, files show their size.",
        schema(
            {
                "path": {"type": "string", "description": "Folder relative to the root (default: the root)."},
                "depth": {"type": "integer", "description": "Levels down (1-10, default 2)."},
            },
            [],
        ),
        list_files,
    ),
    (
        "search_files",
        "Search the repository's text files for a regular expression (Python syntax), like grep -rn. "
        "Returns `path:line: text` for each matching line.",
        schema(
            {
                "pattern": {"type": "string", "description": "A regular expression."},
                "path": {"type": "string", "description": "A folder or file to search (default: everything)."},
                "glob": {"type": "string", "description": "Only files matching this glob, e.g. `*.py`."},
                "ignore_case": {"type": "boolean", "description": "Match without regard to case."},
            },
            ["pattern"],
        ),
        search_files,
    ),
    (
        "find_files",
        "Find files by a glob on their path: `*.py` matches names anywhere, `src/**/test_*.py` whole paths.",
        schema(
            {
                "pattern": {"type": "string", "description": "The glob."},
                "path": {"type": "string", "description": "A folder to look in (default: everything)."},
            },
            ["pattern"],
        ),
        find_files,
    ),
    (
        "write_file",
        "Create a file, or replace a file's whole content. Prefer edit_file for changes to existing files.",
        schema(
            {"path": _PATH, "content": {"type": "string", "description": "The whole content."}}, ["path", "content"]
        ),
        write_file,
    ),
    (
        "delete_file",
        "Delete a file (or an empty folder) of the repository.",
        schema({"path": _PATH}, ["path"]),
        delete_file,
    ),
]
