"""The coding tools on a real sandbox's working copy: reads, searches, edits, patches, confinement."""

from __future__ import annotations

from typing import Any

import pytest
from m1agent.tools.coding import RepoPathError, SandboxRepo, coding_tools

from m1agent.errors import ToolArgumentsInvalid
from m1agent.tool import RunContext


async def test_read_numbers_lines_and_reads_a_window(call) -> None:  # type: ignore[no-untyped-def]
    whole = await call("read_file", path="pkg/calc.py")
    assert whole.content.splitlines()[0] == "pkg/calc.py: lines 1-6 of 6"
    assert "     2\t    return a - b" in whole.content
    part = await call("read_file", path="./pkg/calc.py", start_line=5, end_line=6)
    assert part.content.splitlines()[1:] == ["     5\tdef mul(a, b):", "     6\t    return a * b"]
    past = await call("read_file", path="pkg/calc.py", start_line=40)
    assert past.is_error and "has 6 lines" in past.content


async def test_large_and_escaped_files_are_read_whole(call, repo: SandboxRepo) -> None:  # type: ignore[no-untyped-def]
    await call("run_shell", command="seq 1 20000 > big.txt && printf 'a\\001b\\n' > ctrl.txt")
    tail = await call("read_file", path="big.txt", start_line=19999)
    assert tail.content.splitlines() == ["big.txt: lines 19999-20000 of 20000", " 19999\t19999", " 20000\t20000"]
    assert (await repo.read_text("big.txt"))[1].endswith("19999\n20000\n")
    assert (await repo.read_text("ctrl.txt"))[1] == "a\x01b\n"


async def test_list_search_and_find(call) -> None:  # type: ignore[no-untyped-def]
    listing = (await call("list_files")).content.splitlines()
    assert "pkg/" in listing and "pkg/calc.py (66 bytes)" in listing and "README.md (19 bytes)" in listing
    hits = await call("search_files", pattern=r"def \w+\(a, b\)", glob="*.py")
    assert hits.content.splitlines() == ["pkg/calc.py:1: def add(a, b):", "pkg/calc.py:5: def mul(a, b):"]
    assert "no matches" in (await call("search_files", pattern="DEMO")).content
    assert "README.md:1" in (await call("search_files", pattern="DEMO", ignore_case=True)).content
    bad = await call("search_files", pattern="(")
    assert bad.is_error and "not a valid regular expression" in bad.content
    assert (await call("find_files", pattern="pkg/**/*.py")).content.splitlines() == ["pkg/__init__.py", "pkg/calc.py"]
    assert (await call("find_files", pattern="*.md")).content == "README.md"


async def test_edit_replaces_exactly_once_and_shows_the_change(call, repo: SandboxRepo) -> None:  # type: ignore[no-untyped-def]
    result = await call("edit_file", path="pkg/calc.py", old_string="return a - b", new_string="return a + b")
    assert not result.is_error and "-    return a - b" in result.content and "+    return a + b" in result.content
    assert (await repo.read_text("pkg/calc.py"))[1].startswith("def add(a, b):\n    return a + b\n")


async def test_a_failed_edit_names_the_missing_text_and_the_nearest_candidate(call, repo) -> None:  # type: ignore[no-untyped-def]
    result = await call("edit_file", path="pkg/calc.py", old_string="def add(x, y):\n    return x - y",
                        new_string="def add(x, y):\n    return x + y")
    assert result.is_error
    assert "old_string was not found in pkg/calc.py; nothing was changed" in result.content
    assert "'def add(x, y):'" in result.content
    assert "Nearest candidate at lines 1-2" in result.content and "+def add(a, b):" in result.content
    indented = await call("edit_file", path="pkg/calc.py", old_string="return a * b", new_string="return b * a")
    assert not indented.is_error
    spaced = await call("edit_file", path="pkg/calc.py", old_string="def  mul(a,b):", new_string="x")
    assert spaced.is_error and "not found" in spaced.content
    assert (await repo.read_text("pkg/calc.py"))[1].count("return a - b") == 1  # nothing else changed


async def test_an_ambiguous_edit_names_every_line_and_changes_nothing(call) -> None:  # type: ignore[no-untyped-def]
    result = await call("edit_file", path="pkg/calc.py", old_string="(a, b):", new_string="(a, b, c):")
    assert result.is_error and "appears 2 times in pkg/calc.py (lines 1, 5)" in result.content
    every = await call("edit_file", path="pkg/calc.py", old_string="(a, b):", new_string="(a, b, c):",
                       replace_all=True)
    assert "(2 replacements)" in every.content


async def test_apply_patch_places_hunks_by_content_across_files(call, repo) -> None:  # type: ignore[no-untyped-def]
    patch = (
        "--- a/pkg/calc.py\n+++ b/pkg/calc.py\n@@ -40,2 +40,2 @@\n"
        " def add(a, b):\n-    return a - b\n+    return a + b\n"
        "--- /dev/null\n+++ b/pkg/extra.py\n@@ -0,0 +1,1 @@\n+VALUE = 1\n"
        "--- a/README.md\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-# demo\n-Some words.\n"
    )
    result = await call("apply_patch", patch=patch)
    assert result.content.splitlines() == ["patched pkg/calc.py", "created pkg/extra.py", "deleted README.md"]
    assert "return a + b" in (await repo.read_text("pkg/calc.py"))[1]
    assert (await repo.read_text("pkg/extra.py"))[1] == "VALUE = 1\n"
    assert (await repo.stat("README.md"))[1] == "missing"


async def test_a_patch_that_does_not_apply_writes_nothing(call, repo) -> None:  # type: ignore[no-untyped-def]
    patch = (
        "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+x = 1\n"
        "--- a/pkg/calc.py\n+++ b/pkg/calc.py\n@@ -1,2 +1,2 @@\n def add(a, c):\n-    return a - c\n+    return a + c\n"
    )
    result = await call("apply_patch", patch=patch)
    assert result.is_error and "hunk 1 (@@ -1,2 +1,2 @@) of pkg/calc.py does not apply" in result.content
    assert "Nearest text at line 1" in result.content
    assert (await repo.stat("new.py"))[1] == "missing"


async def test_write_keeps_the_mode_and_delete_removes(call, repo) -> None:  # type: ignore[no-untyped-def]
    assert (await call("write_file", path="docs/new.md", content="hello\n")).content == "created docs/new.md (6 bytes)"
    assert (await call("write_file", path="run.sh", content="#!/bin/sh\necho bye\n")).content.startswith("replaced")
    assert (await call("run_shell", command="./run.sh && cat docs/new.md")).content.endswith("bye\nhello")
    assert (await call("delete_file", path="docs/new.md")).content == "deleted docs/new.md"
    assert "is a folder that is not empty" in (await call("delete_file", path="pkg")).content


@pytest.mark.parametrize("path", ["../etc/passwd", "/etc/passwd", "pkg/../../x", "/work/other.txt"])
async def test_paths_outside_the_root_are_refused(call, path: str) -> None:  # type: ignore[no-untyped-def]
    for name, extra in (("read_file", {}), ("write_file", {"content": "x"}), ("delete_file", {}), ("list_files", {})):
        result = await call(name, path=path, **extra)
        assert result.is_error and ("outside the root /work/repo" in result.content or "'..'" in result.content), result


async def test_symlinks_that_leave_the_root_are_refused(call, repo) -> None:  # type: ignore[no-untyped-def]
    await call("run_shell", command="ln -s /etc escape && ln -s /etc/passwd pw && echo secret > /work/outside.txt"
               " && ln -s ../outside.txt up && ln -s pkg/calc.py inside")
    for path in ("escape/passwd", "pw", "up"):
        result = await call("read_file", path=path)
        assert result.is_error and "leads outside the root /work/repo through a symbolic link" in result.content
    written = await call("write_file", path="up", content="overwritten")
    assert written.is_error and (await call("run_shell", command="cat /work/outside.txt")).content.endswith("secret")
    assert "def add" in (await call("read_file", path="inside")).content  # links inside the root are fine
    assert "escape" not in (await call("search_files", pattern="root:")).content


async def test_shell_and_python_start_at_the_root(call) -> None:  # type: ignore[no-untyped-def]
    assert (await call("run_shell", command="pwd")).content.endswith("/work/repo")
    shown = await call("run_python", code="import pkg.calc as c\nc.mul(6, 7)")
    assert shown.content.endswith("42"), shown.content


async def test_bad_arguments_are_named(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ToolArgumentsInvalid, match="unknown argument"):
        await call("read_file", path="a", line=3)
    with pytest.raises(ToolArgumentsInvalid, match="start_line: Input should be greater than or equal to 1"):
        await call("read_file", path="a", start_line=0)
    with pytest.raises(ToolArgumentsInvalid, match="timeout: Input should be less than or equal to 600"):
        await call("run_shell", command="true", timeout=10_000)
    with pytest.raises(ToolArgumentsInvalid, match="content: Field required"):
        await call("write_file", path="a")


async def test_the_write_guard_refuses_paths_the_rules_deny(call, repo: SandboxRepo) -> None:  # type: ignore[no-untyped-def]
    repo.write_guard = lambda p: "`.env` is off limits" if p.endswith(".env") else None
    result = await call("apply_patch", patch="--- /dev/null\n+++ b/.env\n@@ -0,0 +1 @@\n+KEY=1\n")
    assert result.is_error and "off limits" in result.content


class Recording:
    """A real sandbox that notes which of its operations the tools used."""

    def __init__(self, box: Any) -> None:
        self.box, self.used = box, []  # type: ignore[var-annotated]

    def __getattr__(self, name: str) -> Any:
        self.used.append(name)
        return getattr(self.box, name)


async def test_file_tools_run_in_the_resident_agent_not_a_process(repo: SandboxRepo) -> None:
    recording = Recording(repo.sandbox)
    tools = {t.name: t for t in coding_tools(SandboxRepo(recording, repo.root))}  # type: ignore[arg-type]
    for name, args in (("read_file", {"path": "README.md"}), ("list_files", {}), ("search_files", {"pattern": "a"}),
                       ("find_files", {"pattern": "*.py"}), ("write_file", {"path": "n.txt", "content": "x"}),
                       ("edit_file", {"path": "n.txt", "old_string": "x", "new_string": "y"}),
                       ("delete_file", {"path": "n.txt"})):
        assert not (await tools[name].invoke(args, RunContext(deps=None))).is_error, name
    assert set(recording.used) == {"run_module"}


async def test_python_starts_at_the_root_again_after_a_restart(call) -> None:  # type: ignore[no-untyped-def]
    assert (await call("run_python", code="import os\nos.getcwd()")).content.endswith("'/work/repo'")
    died = await call("run_python", code="import os\nos._exit(1)")
    assert died.is_error and "restarted" in died.content
    assert (await call("run_python", code="import os\nos.getcwd()")).content.endswith("'/work/repo'")


async def test_a_timed_out_command_is_a_typed_result(call) -> None:  # type: ignore[no-untyped-def]
    result = await call("run_shell", command="echo begun; sleep 100", timeout=2)
    assert result.is_error and result.content.startswith("timed out after 2 s") and "begun" in result.content
    assert result.metadata["timed_out"] is True and result.metadata["oom_killed"] is False
    assert not result.content.startswith(("[run_shell]", "run_shell failed", "error"))
    ok = await call("run_shell", command="exit 4")
    assert ok.metadata == {"exit_code": 4, "timed_out": False, "oom_killed": False, "truncated": False,
                           "duration": ok.metadata["duration"]}


async def test_search_matches_line_by_line_whatever_the_pattern(call) -> None:  # type: ignore[no-untyped-def]
    await call("write_file", path="crlf.txt", content="alpha\r\nbeta\r\n")
    await call("write_file", path="lf.txt", content="gamma\ndelta\n")
    assert (await call("search_files", pattern="a$")).content.splitlines() == [
        "crlf.txt:1: alpha", "crlf.txt:2: beta", "lf.txt:1: gamma", "lf.txt:2: delta"]
    assert (await call("search_files", pattern=r"\Adelta")).content == "lf.txt:2: delta"
    assert (await call("search_files", pattern="gamma(?!.)")).content == "lf.txt:1: gamma"
    assert (await call("search_files", pattern=r"^\s+return a \*")).content == "pkg/calc.py:6:     return a * b"


async def test_a_walk_that_runs_out_of_time_is_refused(repo: SandboxRepo) -> None:
    with pytest.raises(RepoPathError, match="too large to go through in time"):
        await repo.call("grep", pattern="x", path=".", seconds=0)
