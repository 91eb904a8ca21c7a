"""A warm pack reads, parses and counts nothing it already knows."""

from __future__ import annotations

from m1agent.context.pack import PackOptions, pack_repository


def _repo(make_repo, synthetic):
    return make_repo({f"pkg/m{i:02d}.py": synthetic(i, 90) for i in range(30)})


def test_warm_repack_does_not_reparse_or_recount(make_repo, counter, cache_dir, synthetic, tokenizer_dir):
    root = _repo(make_repo, synthetic)
    opts = PackOptions(query="widget scale value", budget=12_000, cache_dir=cache_dir)
    cold = pack_repository(root, opts, counter=counter)
    assert cold.stats["parses"] > 0 and cold.stats["count_misses"] > 0
    warm = pack_repository(root, opts, counter=counter)
    assert warm.stats["parses"] == 0
    assert warm.stats["count_misses"] == 0
    assert warm.stats["files_read"] == 0  # stat index, cached ranking, fit and rendered text
    assert warm.text == cold.text
    assert warm.ledger.to_json()["files"] == cold.ledger.to_json()["files"]
    # the counter is not even loaded on a warm pack
    loads = []

    def factory():
        loads.append(1)
        return counter

    again = pack_repository(root, opts, counter=factory)
    assert loads == [] and again.text == cold.text


def test_a_changed_file_is_the_only_one_reparsed(make_repo, counter, cache_dir, synthetic):
    root = _repo(make_repo, synthetic)
    opts = PackOptions(query="widget", budget=12_000, cache_dir=cache_dir)
    pack_repository(root, opts, counter=counter)
    (root / "pkg/m07.py").write_text(synthetic(7, 90) + "\ndef brand_new_widget():\n    return 1\n")
    warm = pack_repository(root, opts, counter=counter)
    assert warm.stats["parses"] <= 1
    assert warm.stats["files_read"] <= 30


def test_new_query_on_warm_cache_parses_nothing(make_repo, counter, cache_dir, synthetic):
    root = _repo(make_repo, synthetic)
    pack_repository(root, PackOptions(query="widget", budget=12_000, cache_dir=cache_dir), counter=counter)
    other = pack_repository(root, PackOptions(query="sqrt round", budget=12_000, cache_dir=cache_dir), counter=counter)
    assert other.stats["parses"] == 0


def test_corrupt_cache_is_rebuilt_not_fatal(make_repo, counter, cache_dir, synthetic):
    root = _repo(make_repo, synthetic)
    opts = PackOptions(budget=5_000, cache_dir=cache_dir)
    first = pack_repository(root, opts, counter=counter)
    for f in cache_dir.rglob("cache.marshal"):
        f.write_bytes(b"\x00garbage")
    second = pack_repository(root, opts, counter=counter)
    assert second.text == first.text
