"""Changing files: exact-string replacement, and unified diffs over one or more files."""

from __future__ import annotations

import difflib
from typing import Any

from m1agent.tool import ToolReturn
from m1agent.tool_args import flag, schema, text

from .edits import EditFailed, replace_exact
from .patches import apply_hunks, parse_patch
from .repo import RepoPathError, SandboxRepo


def _summary(path: str, before: str, after: str, limit: int = 60) -> str:
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), f"a/{path}", f"b/{path}", lineterm=""))
    shown = diff[2 : 2 + limit]
    more = f"\n[… {len(diff) - 2 - limit} more diff lines]" if len(diff) - 2 > limit else ""
    return "\n".join(shown) + more


async def edit_file(repo: SandboxRepo, args: dict[str, Any]) -> ToolReturn:
    """Replace ``old_string`` by ``new_string`` (once, unless ``replace_all``)."""
    path, old, new = text(args, "path"), text(args, "old_string"), text(args, "new_string")
    relative, before = await repo.read_text(path)
    after, count = replace_exact(before, old, new, path=relative, replace_all=flag(args, "replace_all"))
    repo.check_write(relative)
    await repo.write_text(relative, after)
    times = "" if count == 1 else f" ({count} replacements)"
    return ToolReturn(f"edited {relative}{times}:\n{_summary(relative, before, after)}")


async def apply_patch(repo: SandboxRepo, args: dict[str, Any]) -> ToolReturn:
    """Apply a unified diff; every file is checked before any is written."""
    patches = parse_patch(text(args, "patch"))
    results: list[tuple[str, str | None, str | None]] = []  # (path, before, after)
    for patch in patches:
        for name in {patch.old_path, patch.new_path} - {None}:
            repo.check_write(str(name))
        before: str | None = None
        if patch.old_path is not None:
            try:
                _, before = await repo.read_text(patch.old_path)
            except RepoPathError as exc:
                raise EditFailed(f"the patch changes {patch.old_path}, but {exc}; nothing was changed") from exc
        elif (await repo.stat(patch.path))[1] != "missing":
            raise EditFailed(f"the patch creates {patch.path}, which already exists; nothing was changed")
        results.append((patch.path, before, apply_hunks(before, patch)))
        if patch.old_path and patch.new_path and patch.old_path != patch.new_path:
            results.append((patch.old_path, before, None))  # a rename: the old name goes
    report = []
    for path, before, after in results:
        if after is None:
            await repo.delete(path)
            report.append(f"deleted {path}")
        else:
            await repo.write_text(path, after)
            report.append(f"{'created' if before is None else 'patched'} {path}")
    return ToolReturn("\n".join(report))


SPECS: list[tuple[str, str, dict[str, Any], Any]] = [
    (
        "edit_file",
        "Replace an exact piece of a file: old_string must appear in the file exactly once (copy it from "
        "read_file without the line numbers, with enough lines around it to be unique), or set replace_all. "
        "A failed edit says what was not found and shows the nearest text.",
        schema(
            {
                "path": {"type": "string", "description": "Path relative to the repository root."},
                "old_string": {"type": "string", "description": "The exact text to replace."},
                "new_string": {"type": "string", "description": "The text to put in its place."},
                "replace_all": {"type": "boolean", "description": "Replace every occurrence (default false)."},
            },
            ["path", "old_string", "new_string"],
        ),
        edit_file,
    ),
    (
        "apply_patch",
        "Apply a unified diff (as `git diff` prints it: `--- a/path`, `+++ b/path`, `@@` hunks) to one or "
        "more files; /dev/null creates or deletes a file. Hunks are placed by their content, so line "
        "numbers may be approximate. Nothing is written unless every hunk applies.",
        schema({"patch": {"type": "string", "description": "The unified diff."}}, ["patch"]),
        apply_patch,
    ),
]
