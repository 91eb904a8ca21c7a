"""Changing files: exact-string replacement, and unified diffs over one or more files."""

from __future__ import annotations

import difflib

from m1agent.tool import ToolReturn

from .edits import EditFailed, replace_exact
from .patches import apply_hunks, parse_patch
from .repo import RepoPathError, SandboxRepo


def _summary(path: str, before: str, after: str, limit: int = 60) -> str:
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), f"a/{path}", f"b/{path}", lineterm=""))
    shown = diff[2 : 2 + limit]
    more = f"\n[… {len(diff) - 2 - limit} more diff lines]" if len(diff) - 2 > limit else ""
    return "\n".join(shown) + more


async def edit_file(
    repo: SandboxRepo, path: str, old_string: str, new_string: str, replace_all: bool = False
) -> ToolReturn:
    """Replace an exact piece of a file: old_string must appear in the file exactly once (copy it
    from read_file without the line numbers, with enough lines around it to be unique), or set
    replace_all. A failed edit says what was not found and shows the nearest text.

    Args:
        path: Path relative to the root.
        old_string: The exact text to replace.
        new_string: The text to put in its place.
        replace_all: Replace every occurrence.
    """
    relative, before = await repo.read_text(path)
    after, count = replace_exact(before, old_string, new_string, path=relative, replace_all=replace_all)
    repo.check_write(relative)
    await repo.write_text(relative, after)
    times = "" if count == 1 else f" ({count} replacements)"
    return ToolReturn(f"edited {relative}{times}:\n{_summary(relative, before, after)}")


async def apply_patch(repo: SandboxRepo, patch: str) -> ToolReturn:
    """Apply a unified diff (as `git diff` prints it: `--- a/path`, `+++ b/path`, `@@` hunks) to one
    or more files; /dev/null creates or deletes a file. Hunks are placed by their content, so line
    numbers may be approximate. Nothing is written unless every hunk applies.

    Args:
        patch: The unified diff.
    """
    patches = parse_patch(patch)
    results: list[tuple[str, str | None, str | None]] = []  # (path, before, after)
    for one in patches:
        for name in {one.old_path, one.new_path} - {None}:
            repo.check_write(str(name))
        before: str | None = None
        if one.old_path is not None:
            try:
                _, before = await repo.read_text(one.old_path)
            except RepoPathError as exc:
                raise EditFailed(f"the patch changes {one.old_path}, but {exc}; nothing was changed") from exc
        elif (await repo.stat(one.path))[1] != "missing":
            raise EditFailed(f"the patch creates {one.path}, which already exists; nothing was changed")
        results.append((one.path, before, apply_hunks(before, one)))
        if one.old_path and one.new_path and one.old_path != one.new_path:
            results.append((one.old_path, before, None))  # a rename: the old name goes
    report = []
    for path, before, after in results:
        if after is None:
            await repo.delete(path)
            report.append(f"deleted {path}")
        else:
            await repo.write_text(path, after)
            report.append(f"{'created' if before is None else 'patched'} {path}")
    return ToolReturn("\n".join(report))
