"""The coding agent's tools: read, list, search, find, edit, patch, write, delete, shell, Python.

They work on a sandbox's copy of a repository (never the user's checkout) with every path confined
to the repository root.
"""

from .base import CodingTool
from .edits import EditFailed, replace_exact
from .patches import apply_hunks, parse_patch
from .repo import RepoPathError, SandboxRepo
from .toolset import COMMAND_TOOLS, READ_TOOLS, WRITE_TOOLS, CodingToolset, coding_tools

__all__ = [
    "COMMAND_TOOLS",
    "READ_TOOLS",
    "WRITE_TOOLS",
    "CodingTool",
    "CodingToolset",
    "EditFailed",
    "RepoPathError",
    "SandboxRepo",
    "apply_hunks",
    "coding_tools",
    "parse_patch",
    "replace_exact",
]
