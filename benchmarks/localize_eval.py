"""The history localization benchmark: m1agent pack, whole-file BM25 (bm25s) and aider's repo map.

For each query of ``data/localize_queries.json`` the repository is checked out at the fix's parent,
and every tool gets the same text files. Per tool and repository:
- hits at a budget: questions for which an answer file is in the pack whole or as an outline (for
  aider: shown with its lines in a map of that many tokens; for BM25: packed whole in rank order);
- MRR: the mean of 1 / rank of the first answer file in the tool's ranking of all files;
- recall@k: the mean share of a question's answer files within the tool's top k.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from localize_data import QUERIES, REPOS, checkout, clone

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOKENIZER = ROOT.parent / "shared" / "m1-tokenizer"
AIDER_PY = HERE / ".peers" / "aider" / "bin" / "python"
BUDGETS = (8_000, 20_000, 50_000)
HIT_LEVELS = ("full", "signatures")


@dataclass
class Score:
    """Accumulated figures of one tool on one repository."""

    n: int = 0
    hits: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    rr: float = 0.0
    r5: float = 0.0
    r10: float = 0.0
    exact: int = 0
    packs: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, ranked: list[str], answer: list[str], packed: dict[int, set[str]]) -> None:
        self.n += 1
        position = {p: i for i, p in enumerate(ranked)}
        first = min((position[a] for a in answer if a in position), default=None)
        self.rr += 0.0 if first is None else 1.0 / (first + 1)
        self.r5 += sum(1 for a in answer if position.get(a, 10**9) < 5) / len(answer)
        self.r10 += sum(1 for a in answer if position.get(a, 10**9) < 10) / len(answer)
        for budget, files in packed.items():
            self.hits[budget] += any(a in files for a in answer)

    def row(self, repo: str, tool: str) -> str:
        n = max(1, self.n)
        hits = " | ".join(str(self.hits[b]) for b in BUDGETS)
        return f"| {repo} | {tool} | {self.n} | {hits} | {self.rr / n:.2f} | {self.r5 / n:.2f} | {self.r10 / n:.2f} |"


def text_files(tree: Path) -> dict[str, str]:
    """The files every tool sees: m1agent's enumeration (gitignore, default ignores), text only."""
    from m1agent.context.files import decode_text, enumerate_files
    from m1agent.context.ignore import PathFilter
    from m1agent.context.pack import DEFAULT_MAX_FILE_BYTES

    found = enumerate_files(tree, PathFilter(), max_file_bytes=DEFAULT_MAX_FILE_BYTES)
    texts = {}
    for cand in found.candidates:
        text = decode_text((tree / cand.path).read_bytes())
        if text is not None:
            texts[cand.path] = text
    return texts


class Bm25Peer:
    """Whole-file BM25 with bm25s's own tokenizer (English stop words), path included."""

    def __init__(self, counter: object) -> None:
        self.tokens: dict[tuple[str, int], list[str]] = {}
        self.counts: dict[tuple[str, int], int] = {}
        self.counter = counter

    def run(self, texts: dict[str, str], query: str) -> tuple[list[str], dict[int, set[str]]]:
        import bm25s

        paths = sorted(texts)
        corpus = []
        for p in paths:
            key = (p, hash(texts[p]))
            if key not in self.tokens:
                self.tokens[key] = bm25s.tokenize([p + "\n" + texts[p]], return_ids=False, show_progress=False)[0]
            corpus.append(self.tokens[key] or ["<empty>"])
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
        q = bm25s.tokenize([query], return_ids=False, show_progress=False)[0] or ["<empty>"]
        ids, scores = retriever.retrieve([q], k=len(paths), show_progress=False)
        ranked = [paths[int(i)] for i, s in zip(ids[0], scores[0], strict=True) if s > 0]
        ranked += [p for p in paths if p not in set(ranked)]
        packed: dict[int, set[str]] = {}
        for budget in BUDGETS:
            room, chosen = budget, set()
            for p in ranked:
                key = (p, hash(texts[p]))
                if key not in self.counts:
                    self.counts[key] = self.counter.count(f'<file path="{p}">\n{texts[p]}</file>\n')  # type: ignore[attr-defined]
                if self.counts[key] <= room:
                    room -= self.counts[key]
                    chosen.add(p)
                if room < 50:
                    break
            packed[budget] = chosen
        return ranked, packed


class AiderPeer:
    """aider's RepoMap in its own virtualenv (benchmarks/.peers/aider), one worker process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(AIDER_PY), str(HERE / "aider_worker.py"), str(TOKENIZER)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip

    def run(self, tree: Path, texts: dict[str, str], query: str) -> tuple[list[str], dict[int, set[str]]]:
        assert self.proc.stdin and self.proc.stdout
        req = {"root": str(tree), "files": sorted(texts), "query": query, "budgets": list(BUDGETS)}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        return answer["ranked"], {int(b): set(files) for b, files in answer["shown"].items()}

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def ours(tree: Path, query: str, cache: Path, counter: object, score: Score) -> tuple[list[str], dict[int, set[str]]]:
    from m1agent.context.pack import PackOptions, pack_repository

    packed: dict[int, set[str]] = {}
    ranked: list[str] = []
    for budget in BUDGETS:
        start = time.perf_counter()
        result = pack_repository(tree, PackOptions(query=query, budget=budget, cache_dir=cache), counter=counter)  # type: ignore[arg-type]
        score.seconds.append(time.perf_counter() - start)
        entries = result.ledger.entries
        packed[budget] = {e.path for e in entries if e.level in HIT_LEVELS}
        score.packs += 1
        score.exact += int(0.98 * budget <= result.total_tokens <= budget)
        ranked = [e.path for e in sorted(entries, key=lambda e: (-e.value, e.path))]
    return ranked, packed


def evaluate(repos: list[str], tools: list[str], limit: int | None = None) -> tuple[list[str], list[str]]:
    """Table rows and notes; prints progress as it goes."""
    from m1agent.tokens import load_counter

    counter = load_counter(TOKENIZER)
    queries = json.loads(QUERIES.read_text())
    rows: list[str] = []
    notes: list[str] = []
    aider = AiderPeer() if "aider" in tools and AIDER_PY.exists() else None
    if "aider" in tools and aider is None:
        notes.append("aider's repo map: not installed (run benchmarks/bench_pack.py --setup)")
    bm25 = Bm25Peer(counter)
    try:
        for repo in repos:
            tree = clone(repo)
            if tree is None:
                notes.append(f"{repo}: no mirror found (set $M1AGENT_BENCH_MIRRORS): skipped")
                continue
            scores = {t: Score() for t in tools}
            cache = Path(tempfile.mkdtemp(prefix="bench-loc-"))
            mine = [q for q in queries if q["repo"] == repo][:limit]
            for i, q in enumerate(mine):
                checkout(tree, q["parent"])
                texts = text_files(tree)
                answer = [a for a in q["answer"] if a in texts]
                if not answer:
                    continue
                if "m1agent" in scores:
                    ranked, packed = ours(tree, q["query"], cache, counter, scores["m1agent"])
                    scores["m1agent"].add(ranked, answer, packed)
                if "bm25" in scores:
                    ranked, packed = bm25.run(texts, q["query"])
                    scores["bm25"].add(ranked, answer, packed)
                if aider is not None and "aider" in scores:
                    ranked, packed = aider.run(tree, texts, q["query"])
                    scores["aider"].add(ranked, answer, packed)
                print(f"{repo} {i + 1}/{len(mine)} " + " ".join(
                    f"{t}:{s.hits[BUDGETS[-1]]}/{s.n} rr={s.rr / max(1, s.n):.2f}" for t, s in scores.items()
                ), file=sys.stderr, flush=True)  # fmt: skip
            role = REPOS.get(repo, "test")
            for tool, s in scores.items():
                if s.n:
                    rows.append(s.row(f"{repo} ({role})", tool))
                    print(rows[-1], flush=True)
            s = scores.get("m1agent")
            if s and s.packs:
                s.seconds.sort()
                notes.append(
                    f"{repo}: {s.exact}/{s.packs} packs within 2% under budget; "
                    f"pack seconds median {s.seconds[len(s.seconds) // 2]:.2f}, max {s.seconds[-1]:.2f}"
                )
    finally:
        if aider is not None:
            aider.close()
    return rows, notes


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    picked = [r for r in REPOS if not sys.argv[1:] or r in sys.argv[1:]]
    tools = os.environ.get("TOOLS", "m1agent,bm25,aider").split(",")
    rows, notes = evaluate(picked, tools, limit=int(os.environ.get("LIMIT", "0")) or None)
    print("\n".join(notes))
