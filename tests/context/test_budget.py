"""The budget is honoured exactly: never over, within 2% under when there is enough to fill it."""

from __future__ import annotations

from pathlib import Path

import pytest

from m1agent.context.budget import available_budget
from m1agent.context.pack import DEFAULT_CAP, PackOptions, pack_repository

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def big_repo(make_repo, synthetic):
    files: dict[str, str | bytes] = {f"pkg/mod_{i:03d}.py": synthetic(i, 30 + (i * 37) % 240) for i in range(120)}
    files["README.md"] = "# Widgets\n\nA library of widget helpers.\n"
    files["docs/usage.md"] = "Use widget_3_1 to scale values.\n" * 40
    return make_repo(files)


@pytest.mark.parametrize("budget", [1_500, 6_000, 25_000, 60_000])
def test_exact_total_is_within_two_percent_under_the_budget(big_repo, counter, cache_dir, budget, tokenizer_dir):
    result = pack_repository(big_repo, PackOptions(budget=budget, cache_dir=cache_dir), counter=counter)
    exact = counter.count(result.text)
    assert exact == result.total_tokens  # per-block counts add up to the whole text
    assert exact <= budget
    assert exact >= 0.98 * budget
    levels = {e.level for e in result.ledger.entries}
    assert "full" in levels


def test_query_pack_with_budget_fits_and_puts_focus_after_pack(big_repo, counter, cache_dir, tokenizer_dir):
    opts = PackOptions(query="widget_77_3 scale", budget=8_000, cache_dir=cache_dir)
    result = pack_repository(big_repo, opts, counter=counter)
    assert counter.count(result.text) == result.total_tokens <= 8_000
    assert result.focus.startswith("<focus>") and "pkg/mod_077.py" in result.focus
    assert "71: " in result.focus  # sparse anchors every ten lines
    assert 'path="pkg/mod_077.py"' not in result.pack  # not twice


def test_default_budget_is_as_much_as_helps_with_a_cap(big_repo, counter, cache_dir):
    result = pack_repository(big_repo, PackOptions(query="widget_5_2", cache_dir=cache_dir), counter=counter)
    assert result.total_tokens <= DEFAULT_CAP
    # a focused question packs the few files that matter, not the whole repository
    full = result.ledger.by_level("full")
    assert 0 < len(full) < 20
    assert result.total_tokens < 0.5 * sum(e.tokens for e in full) + 30_000


def test_own_tree_packs_under_budget(counter, cache_dir, tokenizer_dir):
    result = pack_repository(ROOT, PackOptions(budget=40_000, cache_dir=cache_dir), counter=counter)
    assert counter.count(result.text) == result.total_tokens
    assert 0.98 * 40_000 <= result.total_tokens <= 40_000


def test_same_repository_and_settings_give_byte_identical_text(big_repo, counter, tmp_path):
    opts = [PackOptions(query="scale widget", budget=9_000, cache_dir=tmp_path / f"c{i}") for i in range(2)]
    cold_a = pack_repository(big_repo, opts[0], counter=counter)
    cold_b = pack_repository(big_repo, opts[1], counter=counter)
    warm = pack_repository(big_repo, opts[0], counter=counter)
    assert cold_a.pack == cold_b.pack == warm.pack
    assert cold_a.focus == cold_b.focus == warm.focus


def test_pack_order_does_not_depend_on_query_wording(big_repo, counter, cache_dir):
    result = pack_repository(big_repo, PackOptions(budget=20_000, cache_dir=cache_dir), counter=counter)
    order = [line for line in result.pack.splitlines() if line.startswith("<file ")]
    assert order == sorted(order)


def test_available_budget_subtracts_reserves_tools_and_history():
    assert available_budget(tools_tokens=2_000, history_tokens=10_000) == 1_000_000 - 80_000 - 8_000 - 12_000
    assert available_budget(cap=128_000) == 128_000
    assert available_budget(window=50_000, history_tokens=60_000) == 0
