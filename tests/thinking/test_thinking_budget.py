"""max_tokens near the context edge, presets, and the per-turn effort hook."""

import pytest

from m1agent.errors import ContextTooLong
from m1agent.messages import AssistantMessage, ToolResultMessage, UserMessage
from m1agent.protocol.types import ToolCallPart
from m1agent.thinking import ThinkingBudget, ThinkingGovernor, compute_max_tokens, default_effort, room_left


def test_presets() -> None:
    assert ThinkingBudget.m1_40k().per_turn == 40_000
    assert ThinkingBudget.m1_80k().per_turn == 80_000
    assert ThinkingBudget.m1_80k(per_run=100_000).per_run == 100_000


def test_max_tokens_is_budget_plus_reserve_when_room() -> None:
    assert compute_max_tokens(thinking_cap=40_000, answer_reserve=8_192, prompt_tokens=10_000,
                              context_window=1_000_000) == 48_192


def test_max_tokens_shrinks_to_the_room_left_near_the_edge() -> None:
    window, prompt = 131_072, 100_000
    got = compute_max_tokens(thinking_cap=80_000, answer_reserve=8_192, prompt_tokens=prompt,
                             context_window=window)
    assert got == room_left(window, prompt)
    # The request must fit: prompt + max_tokens + the counting margin stays inside the window.
    assert prompt + got + int(prompt * 0.02) <= window


def test_no_room_for_the_answer_raises_before_sending() -> None:
    with pytest.raises(ContextTooLong, match="answer reserve"):
        compute_max_tokens(thinking_cap=40_000, answer_reserve=8_192, prompt_tokens=128_000,
                           context_window=131_072)


def test_run_budget_caps_turns_and_ends() -> None:
    gov = ThinkingGovernor(ThinkingBudget(per_turn=10_000, per_run=12_000, answer_reserve=1_000), effort=None)
    first = gov.plan(turn_index=0, history=[UserMessage("hi")], prompt_tokens=100, context_window=1_000_000)
    assert first is not None and first.thinking_cap == 10_000 and first.max_tokens == 11_000
    second = gov.plan(turn_index=1, history=[UserMessage("hi")], prompt_tokens=100, context_window=1_000_000,
                      used=11_000)
    assert second is not None and second.thinking_cap == 1_000
    assert gov.plan(turn_index=2, history=[], prompt_tokens=100, context_window=1_000_000, used=11_900) is None


def test_the_governor_is_a_frozen_policy() -> None:
    import dataclasses

    gov = ThinkingGovernor(ThinkingBudget(per_run=1_500))
    with pytest.raises(dataclasses.FrozenInstanceError):
        gov.budget = ThinkingBudget(per_run=10)  # type: ignore[misc]
    assert not hasattr(gov, "used")
    assert gov.run_remaining(1_000) == 500 and gov.run_remaining(2_000) == 0


def test_default_effort_lowers_cap_after_plain_results_only() -> None:
    hook = default_effort(after_tool_fraction=0.25, minimum=1_000)
    call = ToolCallPart("read", {}, "call_0_0")
    after_ok = [UserMessage("go"), AssistantMessage(tool_calls=(call,)), ToolResultMessage("call_0_0", "read", "x")]
    after_err = [*after_ok[:2], ToolResultMessage("call_0_0", "read", "boom", is_error=True)]
    gov = ThinkingGovernor(ThinkingBudget(per_turn=40_000, answer_reserve=1_000), effort=hook)
    plan_ok = gov.plan(turn_index=1, history=after_ok, prompt_tokens=10, context_window=1_000_000)
    plan_err = gov.plan(turn_index=1, history=after_err, prompt_tokens=10, context_window=1_000_000)
    plan_user = gov.plan(turn_index=0, history=after_ok[:1], prompt_tokens=10, context_window=1_000_000)
    assert plan_ok is not None and plan_ok.thinking_cap == 10_000
    assert plan_err is not None and plan_err.thinking_cap == 40_000
    assert plan_user is not None and plan_user.thinking_cap == 40_000
