"""The reply corpus (data/replies.tsv) through the airline pack's confirmation gate: both error rates.

Each reply answers a fixed, well-formed proposal; the gate decides whether the write it proposes
may run. A false accept is a write the customer did not agree to; a false deny costs one more turn.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from m1agent.policies import ConfirmationGate, ConversationState, PolicyContext
from m1agent.policies.pack import load_pack

from m1agent.messages import AssistantMessage, Message, UserMessage
from m1agent.protocol.types import ToolCallPart

CORPUS = Path(__file__).resolve().parent / "data" / "replies.tsv"
PROPOSALS = {
    "cancel": (
        "I can cancel reservation NO6JO3 (business cabin, so the full amount is refunded to the original "
        "payment method). Shall I proceed?",
        ToolCallPart("cancel_reservation", {"reservation_id": "NO6JO3"}, "c1"),
    ),
    "bags": (
        "I'll add one bag to reservation NO6JO3, for a total of 3 checked bags; 0 of them are paid bags, so "
        "nothing is charged to your credit card 1234567. Shall I go ahead?",
        ToolCallPart("update_reservation_baggages", {"reservation_id": "NO6JO3", "total_baggages": 3,
                                                     "nonfree_baggages": 0, "payment_id": "credit_card_1234567"},
                     "c1"),
    ),
}


def corpus(path: Path = CORPUS) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        label, kind, reply = line.split("\t", 2)
        rows.append((label, kind, reply))
    return rows


def gate() -> ConfirmationGate:
    return next(r for r in load_pack("airline").rules() if isinstance(r, ConfirmationGate))


def released(rule: ConfirmationGate, kind: str, reply: str) -> bool:
    proposal, call = PROPOSALS[kind]
    history: list[Message] = [UserMessage("I'm mia_li_3668."), AssistantMessage(text=proposal),
                              UserMessage(reply), AssistantMessage(tool_calls=(call,))]
    ctx = PolicyContext(history, ConversationState(), write_tools=load_pack("airline").write_tools)
    return rule.check_call(call, ctx) is None


def test_the_corpus_is_large_and_labelled() -> None:
    rows = corpus()
    assert len(rows) >= 400
    assert {label for label, _, _ in rows} == {"yes", "no"}
    assert len({(kind, reply) for _, kind, reply in rows}) == len(rows), "duplicate rows"


def test_error_rates_on_the_reply_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    rule = gate()
    rows = corpus()
    wrong_accepts = [(k, r) for label, k, r in rows if label == "no" and released(rule, k, r)]
    wrong_denials = [(k, r) for label, k, r in rows if label == "yes" and not released(rule, k, r)]
    yes, no = sum(label == "yes" for label, _, _ in rows), sum(label == "no" for label, _, _ in rows)
    with capsys.disabled():
        print(f"\nreply corpus: {len(rows)} replies ({yes} yes, {no} not yes); "
              f"false accepts {len(wrong_accepts)}/{no} ({len(wrong_accepts) / no:.1%}), "
              f"false denials {len(wrong_denials)}/{yes} ({len(wrong_denials) / yes:.1%})")
        for kind, reply in wrong_denials:
            print(f"  false denial [{kind}]: {reply!r}")
    assert wrong_accepts == [], wrong_accepts
    assert len(wrong_denials) / yes <= 0.03, wrong_denials


@pytest.mark.parametrize("reply", ["Yes, no problem.", "Yes please, I don't need it anymore.",
                                   "Yes, cancel that reservation.", "Absolutely, I can't wait to get the refund."])
def test_what_customers_say_is_accepted(reply: str) -> None:
    assert released(gate(), "cancel", reply)


def test_error_rates_on_the_held_out_replies(capsys: pytest.CaptureFixture[str]) -> None:
    rule = gate()
    rows = corpus(CORPUS.with_name("replies_heldout.tsv"))
    wrong_accepts = [(k, r) for label, k, r in rows if label == "no" and released(rule, k, r)]
    wrong_denials = [(k, r) for label, k, r in rows if label == "yes" and not released(rule, k, r)]
    yes, no = sum(label == "yes" for label, _, _ in rows), sum(label == "no" for label, _, _ in rows)
    with capsys.disabled():
        print(f"\nheld-out replies: {len(rows)} ({yes} yes, {no} not yes); "
              f"false accepts {len(wrong_accepts)}/{no} ({len(wrong_accepts) / no:.1%}), "
              f"false denials {len(wrong_denials)}/{yes} ({len(wrong_denials) / yes:.1%})")
        for kind, reply in wrong_accepts:
            print(f"  false accept [{kind}]: {reply!r}")
        for kind, reply in wrong_denials:
            print(f"  false denial [{kind}]: {reply!r}")
    assert len(wrong_accepts) / no <= 0.05, wrong_accepts
