"""The CLI package's shape: no import cycle of any kind, short modules, and a README that says true things.

Stricter than the project-wide house rules: an import only type checkers read still counts, and so
does the package ``__init__`` that Python runs before any module below it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "m1agent" / "cli"
OUTER = ("m1agent.tools", "m1agent.policies", "m1agent.sandboxes")


def cli_modules() -> dict[str, Path]:
    found = {}
    for path in sorted(CLI.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _statements(tree: ast.Module, module_level: bool) -> list[ast.stmt]:
    if not module_level:
        return [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    out: list[ast.stmt] = []

    def walk(body: list[ast.stmt]) -> None:  # what runs on import: the top level, and its if/try blocks
        for node in body:
            out.append(node)
            if isinstance(node, ast.If | ast.Try):
                for block in (node.body, node.orelse, getattr(node, "finalbody", [])):
                    walk(block)
                for handler in getattr(node, "handlers", []):
                    walk(handler.body)

    walk(tree.body)
    return out


def imported(name: str, path: Path, *, module_level: bool = False) -> set[str]:
    """Every module ``name`` imports, by full dotted name (``from package import module`` is the module)."""
    known = cli_modules()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in _statements(tree, module_level):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")[: len(name.split(".")) - node.level + (path.name == "__init__.py")]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                target = f"{base}.{alias.name}"
                out.add(target if target in known else base)
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that reach each other (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = [stack.pop()]
            while group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1 or v in graph[v]:
                found.append(sorted(group))

    for name in graph:
        if name not in index:
            visit(name)
    return found


def import_graph(*, module_level: bool) -> dict[str, set[str]]:
    known = cli_modules()
    graph = {}
    for name, path in known.items():
        targets = {t for t in imported(name, path, module_level=module_level) if t in known and t != name}
        if module_level:  # importing ``a.b.c`` runs ``a.b``'s __init__ first
            parent = name.rpartition(".")[0]
            while parent in known:
                targets.add(parent)
                parent = parent.rpartition(".")[0]
        graph[name] = targets
    return graph


def test_no_import_cycle_even_through_lazy_or_type_only_imports() -> None:
    assert cycles(import_graph(module_level=False)) == []


def test_no_import_cycle_when_the_modules_load() -> None:
    assert cycles(import_graph(module_level=True)) == []


def test_the_cycle_finder_sees_a_cycle_hidden_in_a_function() -> None:
    # A guard on the guard: a lazy import back is still a cycle.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_only_the_entry_point_imports_the_application() -> None:
    importers = {name for name, path in cli_modules().items() if "m1agent.cli.app" in imported(name, path)}
    assert importers == {"m1agent.cli"}
    # A command module loads on its own, without the application or the other commands.
    probe = "import sys, m1agent.cli.pack_cmd; print(sorted(n for n in sys.modules if n.startswith('m1agent.cli')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['m1agent.cli', 'm1agent.cli.pack_cmd']"


def test_modules_stay_under_400_lines() -> None:
    long = {name: n for name, path in cli_modules().items() if (n := len(path.read_text().splitlines())) >= 400}
    assert long == {}


def test_the_readme_names_every_module_that_imports_the_outer_folders() -> None:
    importers = {
        path.name for name, path in cli_modules().items()
        if any(target.startswith(OUTER) for target in imported(name, path))
    }
    line = next(line for line in (CLI / "README.md").read_text().splitlines() if "tools/, policies/" in line)
    named = {word.strip(",.():`") for word in line.split() if word.strip(",.():`").endswith(".py")}
    assert named == importers
