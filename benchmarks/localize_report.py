"""Setup and report of the history localization benchmark (called by ``bench_pack.py --localize``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import localize_data
from localize_eval import AIDER_PY, BUDGETS, evaluate
from results import write_section

HERE = Path(__file__).resolve().parent


def install() -> None:
    """bm25s in this interpreter, aider in its own virtualenv, and the query file (each once)."""
    try:
        import bm25s  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "bm25s"], check=True)
    if not AIDER_PY.exists():
        venv = AIDER_PY.parent.parent
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "aider-chat"], check=True)
    if not localize_data.QUERIES.exists():
        localize_data.main()


def run(*, setup: bool = False, limit: int = 25) -> None:
    """Install (``setup``) or run the benchmark and write its section of RESULTS.md."""
    if setup:
        install()
        return
    sys.path.insert(0, str(HERE.parent))
    load = os.getloadavg()[0]
    rows, notes = evaluate(list(localize_data.REPOS), ["m1agent", "bm25", "aider"], limit=limit)
    budgets = " | ".join(f"hits {b // 1000}K" for b in BUDGETS)
    body = [
        "## Context: localization",
        "",
        f"`python benchmarks/bench_pack.py --localize --limit {limit}` (after `--setup`). Questions are real bug-fix",
        "commit messages; the answer is the non-test source files the fix changed; each tool sees the",
        "repository at the fix's parent (rule in benchmarks/localize_data.py, the newest qualifying commits,",
        f"at most {limit} per repository). A hit: an answer file packed whole or as an outline (BM25: whole",
        "files in rank order; aider: shown with lines in its map of that many M1 tokens). MRR and recall@k",
        "are over each tool's ranking of all files. (dev) repositories were looked at while tuning;",
        f"(test) ones were not. Load average at start {load:.1f} on {os.cpu_count()} cores.",
        "",
        f"| repository | tool | questions | {budgets} | MRR | recall@5 | recall@10 |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        *[f"- {n}" for n in notes],
    ]
    write_section("\n".join(body))
