"""The house rules that keep the code readable: no import cycles, short modules, inward dependencies."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Installed package name -> folder in the repository.
PACKAGES = {"m1agent": "m1agent", "m1agent.tools": "tools", "m1agent.policies": "policies",
            "m1agent.sandboxes": "sandboxes"}
MAX_LINES = 400


def modules() -> dict[str, Path]:
    """Every module of the project by its import name."""
    found: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports, at any depth of its code (lazy imports are still imports),
    leaving out those only type checkers read (``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner) for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test) for inner in ast.walk(node)
    }
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")[: len(name.split(".")) - node.level + (path.name == "__init__.py")]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                target = f"{base}.{alias.name}"  # ``from package import module`` needs only the module
                out.add(target if target in known else base)
    return {m for m in out if m in known and m != name}


def import_cycles() -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan's SCCs)."""
    known = modules()
    graph = {name: _imports(name, path, known) for name, path in known.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

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
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for name in graph:
        if name not in index:
            visit(name)
    return cycles


def test_no_import_cycles() -> None:
    assert import_cycles() == []


def test_modules_stay_short() -> None:
    long = {str(p.relative_to(ROOT)): n for p in modules().values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) >= MAX_LINES}
    assert long == {}


def test_the_core_imports_the_outer_folders_only_at_composition_points() -> None:
    # The CLI and the testing kit assemble the product; the rest of the core never reaches outward.
    outer = ("m1agent.tools", "m1agent.policies", "m1agent.sandboxes")
    known = modules()
    offenders = {
        name: sorted(m for m in _imports(name, path, known) if m.startswith(outer))
        for name, path in known.items()
        if not name.startswith((*outer, "m1agent.cli", "m1agent.testing"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path) -> None:
    # A guard on the guard: two modules of a throwaway package that import each other.
    (tmp_path / "a.py").write_text("from m1agent import b\n")
    (tmp_path / "b.py").write_text("import m1agent.a\n")
    known = {"m1agent.a": tmp_path / "a.py", "m1agent.b": tmp_path / "b.py"}
    assert _imports("m1agent.a", known["m1agent.a"], known) == {"m1agent.b"}
    assert _imports("m1agent.b", known["m1agent.b"], known) == {"m1agent.a"}
