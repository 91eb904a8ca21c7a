"""The tool family over a root in a sandbox: read, list, search, find, edit, patch, write, delete,
shell and Python.

They work on a folder inside a sandbox (a repository's copy, never the user's checkout, or the
sandbox's work dir) with every path confined to it.
"""

from .edits import EditFailed, replace_exact
from .patches import apply_hunks, parse_patch
from .repo import RepoPathError, SandboxRepo
from .shell_tools import format_result
from .toolset import COMMAND_TOOLS, FAMILY, READ_TOOLS, WRITE_TOOLS, CodingToolset, coding_tools

__all__ = [
    "COMMAND_TOOLS",
    "FAMILY",
    "READ_TOOLS",
    "WRITE_TOOLS",
    "CodingToolset",
    "EditFailed",
    "RepoPathError",
    "SandboxRepo",
    "apply_hunks",
    "coding_tools",
    "format_result",
    "parse_patch",
    "replace_exact",
]
