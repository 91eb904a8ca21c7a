"""Budget filling in rank order with levels, the value floor, stemming, hub damping and --explain."""

from __future__ import annotations

from typer.testing import CliRunner

from m1agent.cli.app import app
from m1agent.context.explain import explain
from m1agent.context.fit import WHOLE_FLOOR
from m1agent.context.graph import pagerank, symbol_edges
from m1agent.context.lexical import parse_query, stem
from m1agent.context.pack import PackOptions, pack_repository
from m1agent.context.rank import _graph_lift


def _big_ledger_module(functions: int) -> str:
    out = ['"""The ledger: posting entries and balancing accounts."""', ""]
    for i in range(functions):
        out += [
            f"def post_ledger_entry_{i}(ledger, account, amount):",
            f'    """Post entry {i} to the ledger account."""',
            *[f"    ledger.balance_{i}_{k} = account.amount * {k} + amount" for k in range(12)],
            "    return ledger",
            "",
        ]
    return "\n".join(out)


def _repo(make_repo, synthetic, big_functions: int = 60):
    files = {f"app/widgets/w{i:02d}.py": synthetic(i, 30) for i in range(30)}
    files["app/ledger.py"] = _big_ledger_module(big_functions)
    files["app/accounts.py"] = "def open_account(name):\n    return {'name': name, 'ledger': []}\n"
    return make_repo(files)


def _levels(result):
    return {e.path: e for e in result.ledger.entries}


def test_a_large_top_file_is_an_outline_before_low_value_files_go_whole(make_repo, synthetic, counter, cache_dir):
    root = _repo(make_repo, synthetic)
    opts = PackOptions(query="how is a ledger entry posted to an account balance", budget=4_000, cache_dir=cache_dir)
    result = pack_repository(root, opts, counter=counter)
    entries = _levels(result)
    assert entries["app/ledger.py"].rank == 1
    assert entries["app/ledger.py"].level in ("signatures", "head")
    top = entries["app/ledger.py"].value
    whole = [e for e in result.ledger.entries if e.level == "full"]
    assert all(e.value >= WHOLE_FLOOR * top or e.focus for e in whole), whole
    assert 0.98 * 4_000 <= result.total_tokens <= 4_000


def test_head_stands_in_when_the_outline_is_too_big(make_repo, synthetic, counter, cache_dir):
    root = _repo(make_repo, synthetic, big_functions=400)
    opts = PackOptions(query="how is a ledger entry posted to an account balance", budget=5_000, cache_dir=cache_dir)
    entries = _levels(pack_repository(root, opts, counter=counter))
    assert entries["app/ledger.py"].level == "head"


def test_best_ranked_files_get_a_view_before_lower_ones(make_repo, synthetic, counter, cache_dir):
    root = _repo(make_repo, synthetic)
    opts = PackOptions(query="widget batch 3 scale value", budget=6_000, cache_dir=cache_dir)
    result = pack_repository(root, opts, counter=counter)
    ranked = sorted(result.ledger.entries, key=lambda e: e.rank)
    shown = [e.level != "path" for e in ranked]
    # Once a file is path-only, only an occasional small file below it may still get a view.
    assert all(shown[:3])
    assert sum(shown[:10]) >= sum(shown[10:20])


def test_small_repository_still_fills_whole_below_the_floor(make_repo, counter, cache_dir):
    files = {f"pkg/m{i}.py": f"def helper_{i}():\n    return {i}\n" for i in range(6)}
    files["pkg/ledger.py"] = "def post_ledger_entry(ledger):\n    return ledger\n"
    root = make_repo(files)
    opts = PackOptions(query="post a ledger entry", budget=2_000, cache_dir=cache_dir)
    result = pack_repository(root, opts, counter=counter)
    assert all(e.level == "full" for e in result.ledger.entries)


def test_query_words_are_stemmed_so_forms_match():
    assert stem("redirects") == "redirect" and stem("routing") == "rout" and stem("cookies") == "cooki"
    assert stem("matches") == "match" and stem("class") == "class" and stem("speed") == "speed"
    assert "rout" in parse_query("fix routing of requests").terms


def test_stemmed_query_finds_the_other_form(make_repo, counter, cache_dir, synthetic):
    files = {f"app/w{i:02d}.py": synthetic(i, 40) for i in range(10)}
    files["app/router.py"] = "class Router:\n    def add_route(self, rule):\n        self.rules.append(rule)\n"
    root = make_repo(files)
    opts = PackOptions(query="routing rules are added twice", budget=3_000, cache_dir=cache_dir)
    entries = _levels(pack_repository(root, opts, counter=counter))
    assert entries["app/router.py"].rank == 1


def test_hub_gains_less_from_the_query_than_the_file_it_leads_to():
    nodes = ["hub.py", "answer.py", *[f"user{i}.py" for i in range(8)], "caller.py"]
    definitions = {"hub.py": ["log_event"], "answer.py": ["parse_invoice_number"]}
    references = {f"user{i}.py": {"log_event": 3} for i in range(8)}
    references["caller.py"] = {"parse_invoice_number": 2, "log_event": 1}
    edges = symbol_edges(definitions, references, set())
    plain = pagerank(nodes, edges, None)
    assert plain["hub.py"] > plain["answer.py"]
    lift = _graph_lift(nodes, edges, {"caller.py": 1.0})
    assert lift["answer.py"] > lift.get("hub.py", 0.0)


def test_explain_says_rank_level_and_why(make_repo, synthetic, counter, cache_dir, tokenizer_dir):
    root = _repo(make_repo, synthetic)
    opts = PackOptions(query="how is a ledger entry posted to an account balance", budget=4_000, cache_dir=cache_dir)
    ledger = pack_repository(root, opts, counter=counter).ledger
    text = explain(ledger, "app/ledger.py")
    assert "rank 1 of" in text and "query match" in text and "not whole because" in text
    low = max(ledger.entries, key=lambda e: e.rank)
    assert "below the whole-file floor" in explain(ledger, low.path)
    assert "not a file of this pack" in explain(ledger, "nope.py")
    args = ["pack", str(root), "-q", opts.query, "-b", "4000", "--tokenizer", str(tokenizer_dir)]
    res = CliRunner().invoke(app, [*args, "--explain", "app/ledger.py"])
    assert res.exit_code == 0, res.output
    assert "app/ledger.py: rank 1 of" in res.stdout
