"""Prompt layout and counting edge cases: stable prefix first, question last; estimates never cached."""

from __future__ import annotations

from m1agent.context.layout import RESTATED_RULES, pack_messages
from m1agent.context.pack import PackOptions, pack_repository
from m1agent.messages import SystemMessage, UserMessage
from m1agent.tokens import ApproxCounter

FILES = {"app/orders.py": "def place_order(cart):\n    return len(cart)\n", "app/misc.py": "X = 1\n"}


def test_instructions_then_pack_then_focus_and_question(make_repo, counter, cache_dir):
    root = make_repo(FILES)
    result = pack_repository(root, PackOptions(query="place_order", budget=2_000, cache_dir=cache_dir), counter=counter)
    system, pack, closing = pack_messages("You review code.", result, "Where are orders placed?")
    assert isinstance(system, SystemMessage) and system.content.startswith("You review code.")
    assert isinstance(pack, UserMessage) and pack.content == result.pack and pack.content.startswith("<pack ")
    assert isinstance(closing, UserMessage)
    assert closing.content.startswith("<focus>") and "1: def place_order" in closing.content
    assert closing.content.endswith(RESTATED_RULES)
    assert closing.content.index("Where are orders placed?") > closing.content.index("</focus>")


def test_estimating_counter_packs_but_never_poisons_the_cache(make_repo, counter, cache_dir, tokenizer_dir):
    root = make_repo(FILES)
    opts = PackOptions(budget=1_000, cache_dir=cache_dir)
    rough = pack_repository(root, opts, counter=ApproxCounter())
    assert not rough.ledger.exact and rough.ledger.notes
    exact = pack_repository(root, opts, counter=counter)
    assert exact.ledger.exact
    assert exact.total_tokens == counter.count(exact.text)
