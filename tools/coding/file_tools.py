"""Reading, listing, searching, creating and deleting files under the root.

Each is a function of the root (``repo``, bound when the tool is made, unseen by the model) and the
model's arguments; the schema comes from the hints and the docstring.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from m1agent.tool import ToolReturn

from .repo import SandboxRepo

READ_CHARS = 16_000  # of file text per call; the model reads on with start_line
READ_LINES = 2_000
MAX_LINE = 2_000

Line = Annotated[int, Field(ge=1)]


async def read_file(repo: SandboxRepo, path: str, start_line: Line = 1, end_line: Line | None = None) -> ToolReturn:
    """Read a text file. Lines come numbered (`number<TAB>text`); the numbers are not part of the
    file. Long files come in windows: pass start_line/end_line to read a part.

    Args:
        path: Path relative to the root (the repository's root in a coding session).
        start_line: First line to show (1-based).
        end_line: Last line to show (default: as much as fits).
    """
    if end_line is not None and end_line < start_line:
        return ToolReturn(f"end_line {end_line} is before start_line {start_line}", is_error=True)
    relative, content = await repo.read_text(path)
    lines = content.splitlines()
    total = len(lines)
    if total == 0:
        return ToolReturn(f"{relative} is empty")
    if start_line > total:
        return ToolReturn(f"{relative} has {total} lines; start_line {start_line} is past its end", is_error=True)
    last = min(total, end_line or total, start_line + READ_LINES - 1)
    shown: list[str] = []
    used = 0
    for number in range(start_line, last + 1):
        line = lines[number - 1]
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE] + f" [… {len(line) - MAX_LINE} more characters]"
        entry = f"{number:>6}\t{line}"
        if shown and used + len(entry) > READ_CHARS:
            last = number - 1
            break
        shown.append(entry)
        used += len(entry) + 1
    header = f"{relative}: lines {start_line}-{last} of {total}"
    if last < (end_line or total):
        header += f" (more: read on with start_line={last + 1})"
    return ToolReturn(header + "\n" + "\n".join(shown))


async def list_files(repo: SandboxRepo, path: str = ".", depth: Annotated[int, Field(ge=1, le=10)] = 2) -> ToolReturn:
    """List a folder: subfolders end in `/`, files show their size.

    Args:
        path: Folder relative to the root (default: the root).
        depth: Levels down.
    """
    reply = await repo.list(path, depth)
    lines = [name if size < 0 else f"{name} ({size} bytes)" for name, size in reply["entries"]]
    if reply["more"]:
        lines.append("[… more entries; list a subfolder]")
    return ToolReturn("\n".join(lines) or f"{reply['path']} is empty")


async def search_files(
    repo: SandboxRepo, pattern: str, path: str = ".", glob: str = "", ignore_case: bool = False
) -> ToolReturn:
    """Search text files for a regular expression (Python syntax), like grep -rn. Returns
    `path:line: text` for each matching line.

    Args:
        pattern: A regular expression.
        path: A folder or file to search (default: everything).
        glob: Only files matching this glob, e.g. `*.py`.
        ignore_case: Match without regard to case.
    """
    reply = await repo.grep(pattern, path, glob=glob, ignore_case=ignore_case)
    if not reply["matches"]:
        return ToolReturn(f"no matches for {pattern!r} in {reply['files']} text file(s)")
    lines = [f"{name}:{number}: {line}" for name, number, line in reply["matches"]]
    if reply["more"]:
        lines.append(f"[… more than {len(reply['matches'])} matches; narrow the pattern, path or glob]")
    return ToolReturn("\n".join(lines))


async def find_files(repo: SandboxRepo, pattern: str, path: str = ".") -> ToolReturn:
    """Find files by a glob on their path: `*.py` matches names anywhere, `src/**/test_*.py` whole paths.

    Args:
        pattern: The glob.
        path: A folder to look in (default: everything).
    """
    reply = await repo.glob(pattern, path)
    if not reply["files"]:
        return ToolReturn(f"no files match {pattern!r}")
    return ToolReturn("\n".join(reply["files"]) + ("\n[… more files; narrow the pattern]" if reply["more"] else ""))


async def write_file(repo: SandboxRepo, path: str, content: str) -> ToolReturn:
    """Create a file, or replace a file's whole content; missing folders are made. Prefer
    edit_file for changes to existing files.

    Args:
        path: Path relative to the root.
        content: The whole content.
    """
    reply = await repo.write_text(path, content)
    verb = "created" if reply["created"] else "replaced"
    return ToolReturn(f"{verb} {reply['path']} ({reply['bytes']} bytes)")


async def delete_file(repo: SandboxRepo, path: str) -> ToolReturn:
    """Delete a file (or an empty folder).

    Args:
        path: Path relative to the root.
    """
    return ToolReturn(f"deleted {await repo.delete(path)}")
