"""Ranking: the file with the answer makes a small budget; graph, history and priors count."""

from __future__ import annotations

from pathlib import Path

from m1agent.context.cache import RepoCache
from m1agent.context.files import enumerate_files
from m1agent.context.history import head_commit, history_scores
from m1agent.context.ignore import PathFilter
from m1agent.context.lexical import parse_query, split_identifier
from m1agent.context.pack import PackOptions, pack_repository
from m1agent.context.rank import rank_files
from m1agent.context.snapshot import Snapshot
from m1agent.context.symbols import SymbolExtractor

ROOT = Path(__file__).resolve().parents[2]

APP = {
    "shop/billing/invoice.py": (
        "from shop.money import round_cents\n\n"
        "def compute_invoice_total(lines, vat_rate):\n"
        '    """Sum the invoice lines and add VAT."""\n'
        "    subtotal = sum(line.amount for line in lines)\n"
        "    return round_cents(subtotal * (1 + vat_rate))\n"
    ),
    "shop/money.py": "def round_cents(value):\n    return round(value, 2)\n",
    "shop/catalog.py": "def list_products(store):\n    return sorted(store.products)\n",
    "tests/test_invoice.py": (
        "from shop.billing.invoice import compute_invoice_total\n\n"
        "def test_total():\n    assert compute_invoice_total([], 0.2) == 0\n"
    ),
}


def _filler(synthetic) -> dict[str, str]:
    return {f"shop/widgets/w{i:02d}.py": synthetic(i, 120) for i in range(40)}


def test_query_terms_split_identifiers():
    assert split_identifier("HTTPAdapter") == ["http", "adapter"]
    assert split_identifier("max_retries") == ["max", "retries"]
    q = parse_query("where is computeInvoiceTotal and the VAT?")
    assert {"compute", "invoice", "total", "vat"} <= set(q.terms)
    assert "computeInvoiceTotal" in q.identifiers


def test_the_file_with_the_answer_makes_a_small_budget(make_repo, counter, cache_dir, synthetic):
    root = make_repo({**APP, **_filler(synthetic)})
    result = pack_repository(
        root,
        PackOptions(query="how is the invoice total computed with VAT?", budget=3_000, cache_dir=cache_dir),
        counter=counter,
    )
    entries = {e.path: e for e in result.ledger.entries}
    assert entries["shop/billing/invoice.py"].level == "full" and entries["shop/billing/invoice.py"].focus
    assert "def compute_invoice_total" in result.focus
    best = max(result.ledger.entries, key=lambda e: e.value)
    assert best.path == "shop/billing/invoice.py"


def _rank(root: Path, cache_dir: Path, query: str):
    cache = RepoCache(root, cache_dir)
    snapshot = Snapshot(enumerate_files(root, PathFilter(), max_file_bytes=10**6), cache)
    hist = history_scores(root, cache, head_commit(root))
    return rank_files(snapshot, cache, SymbolExtractor(), query=query, history=hist)


def test_symbol_graph_lifts_the_definitions_relevant_files_use(make_repo, cache_dir, synthetic):
    root = make_repo({**APP, **_filler(synthetic)})
    ranking = _rank(root, cache_dir, "invoice total")
    # money.py never mentions invoices, but the invoice code calls its round_cents
    assert ranking.lexical.get("shop/money.py", 0.0) == 0.0
    assert ranking.graph["shop/money.py"] > ranking.graph.get("shop/catalog.py", 0.0)
    assert ranking.value["shop/money.py"] > ranking.value["shop/catalog.py"]


def test_git_recency_and_churn_rank_active_files_higher(make_repo, cache_dir):
    files = {f"lib/m{i}.py": f"def f{i}():\n    return {i}\n" for i in range(6)}
    commits = [(f"2024-0{m}-15T10:00:00", {"lib/m3.py": f"def f3():\n    return {m}\n"}) for m in range(2, 8)]
    root = make_repo(files, commits=commits)
    ranking = _rank(root, cache_dir, "")
    assert ranking.history["lib/m3.py"] > ranking.history["lib/m1.py"]
    assert ranking.value["lib/m3.py"] > ranking.value["lib/m1.py"]
    # packing a folder of the repository sees the same history, with paths relative to it
    sub = _rank(root / "lib", cache_dir / "sub", "")
    assert sub.history["m3.py"] > sub.history["m1.py"]


def test_category_priors_put_source_before_tests_and_docs(make_repo, cache_dir):
    root = make_repo({"src/core.py": "X = 1\n", "tests/test_core.py": "Y = 2\n", "docs/intro.md": "Z\n"}, use_git=False)
    ranking = _rank(root, cache_dir, "")
    assert ranking.value["src/core.py"] > ranking.value["docs/intro.md"]
    assert ranking.value["src/core.py"] > ranking.value["tests/test_core.py"]


def test_ranking_on_this_project_finds_the_right_module(counter, cache_dir):
    cases = {
        "redact private keys and cloud API key shapes": "m1agent/context/secrets.py",
        "personalized pagerank over the symbol graph": "m1agent/context/graph.py",
        "stale tool outputs become stubs, recall by call id": "m1agent/context/compaction.py",
    }
    for query, expected in cases.items():
        result = pack_repository(ROOT, PackOptions(query=query, budget=20_000, cache_dir=cache_dir), counter=counter)
        entry = next(e for e in result.ledger.entries if e.path == expected)
        assert entry.level == "full", (query, entry)
        top3 = sorted(result.ledger.entries, key=lambda e: -e.value)[:3]
        assert expected in {e.path for e in top3}, (query, [e.path for e in top3])
