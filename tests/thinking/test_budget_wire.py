"""Budgets reaching the requests: max_tokens near the context edge, per-turn effort, thinking usage and cost."""

from __future__ import annotations

import json
from typing import Any

import pytest
from thinking_wire_helpers import max_tokens, serve

from m1agent import Agent, Price, PriceTable, PriceTier, TurnStarted, tool
from m1agent.thinking import ThinkingBudget, ThinkingGovernor, default_effort
from m1agent.thinking.budget import MIN_MARGIN_TOKENS


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"{city}: 18C, clear"


@tool
def flaky(n: int) -> str:
    """Fails."""
    raise RuntimeError("the sensor is offline")


def calls(name: str, thinking: str, **arguments: Any) -> str:
    line = json.dumps({"name": name, "arguments": arguments})
    return f"<think>\n{thinking}\n</think>\n<tool_calls>\n{line}\n</tool_calls>"


@pytest.mark.parametrize("kind", ["chat", "raw"])
async def test_max_tokens_fits_the_room_left_near_the_context_edge(kind: str, counter: Any, tokenizer_dir: Any) -> None:
    # The window and reserve are sized for exact M1 counts: the estimate would not fit them.
    window = 3_000
    instructions = "Answer from the weather tool. " * 150  # about 900 tokens of the 3,000
    script = [calls("get_weather", "Look it up.", city="Paris"), "<think>\nClear.\n</think>\nClear in Paris."]
    budget = ThinkingBudget.m1_40k(answer_reserve=500)  # 40K of thinking asked for, far beyond the window
    async with serve(kind, script, counter, max_model_len=window, context_window=window) as (server, backend):
        agent = Agent(backend, instructions, [get_weather], thinking=ThinkingGovernor(budget, effort=None))
        result = await agent.run("Weather in Paris?")
        bodies = server.bodies
    assert result.stop_reason == "completed", result.error  # no 400 from the server
    assert len(bodies) == 2
    usage_in = [t.usage.input_tokens for t in result.turns]
    for body, prompt in zip(bodies, usage_in, strict=True):
        # The governor counted the prompt exactly as the server did, and kept the margin free.
        assert max_tokens(body) == window - prompt - MIN_MARGIN_TOKENS
    assert usage_in[1] > usage_in[0]


async def test_no_room_for_the_answer_stops_before_sending(counter: Any) -> None:
    budget = ThinkingBudget.m1_40k(answer_reserve=2_500)
    async with serve("raw", ["<think>\nx\n</think>\ny"], counter, max_model_len=3_000,
                     context_window=3_000) as (server, backend):
        result = await Agent(backend, "Be brief. " * 300, thinking=ThinkingGovernor(budget)).run("Hi")
        sent = server.bodies
    assert sent == [] and result.stop_reason == "backend_error" and "answer reserve" in result.error


async def test_per_turn_effort_caps_reach_the_requests(counter: Any) -> None:
    script = [
        calls("get_weather", "Plan: look up Paris first.", city="Paris"),
        calls("flaky", "Now the sensor.", n=1),
        "<think>\nThe sensor failed; answer from Paris.\n</think>\nParis is clear.",
    ]
    budget = ThinkingBudget(per_turn=8_000, answer_reserve=500)
    hook = default_effort(after_tool_fraction=0.25, minimum=1_000)
    async with serve("raw", script, counter) as (server, backend):
        agent = Agent(backend, tools=[get_weather, flaky], thinking=ThinkingGovernor(budget, effort=hook))
        events = [e async for e in agent.stream("Weather in Paris, and the sensor?")]
        bodies = server.bodies
    # Planning turn: full budget; after a plain result: a quarter; after a failed call: full again.
    assert [max_tokens(b) for b in bodies] == [8_500, 2_500, 8_500]
    assert [e.thinking_cap for e in events if isinstance(e, TurnStarted)] == [8_000, 2_000, 8_000]


async def test_an_application_hook_sets_every_cap(counter: Any) -> None:
    script = [calls("get_weather", "Look.", city="Rome"), "<think>\nOk.\n</think>\nRome is clear."]
    gov = ThinkingGovernor(ThinkingBudget(per_turn=8_000, answer_reserve=500),
                           effort=lambda info: 1_234 if info.turn_index else None)
    async with serve("chat", script, counter) as (server, backend):
        await Agent(backend, tools=[get_weather], thinking=gov).run("Rome?")
        bodies = server.bodies
    assert [max_tokens(b) for b in bodies] == [8_500, 1_734]


PRICES = PriceTable({"MiniMaxAI/MiniMax-M1-80k": Price((PriceTier(1_000_000, 0.40, 2.20),)),
                     "MiniMax-M1": Price((PriceTier(1_000_000, 0.40, 2.20),))})
THOUGHTS = ("Plan: ask the weather tool for Paris.", "The tool says clear; answer in one line.")


@pytest.mark.parametrize("kind", ["chat", "raw", "hosted"])
async def test_thinking_tokens_counted_and_priced_per_turn_and_run(kind: str, counter: Any) -> None:
    script = [calls("get_weather", THOUGHTS[0], city="Paris"), f"<think>\n{THOUGHTS[1]}\n</think>\nClear."]
    gov = ThinkingGovernor(ThinkingBudget(per_turn=4_000, answer_reserve=500), effort=None)
    async with serve(kind, script, counter) as (_server, backend):
        result = await Agent(backend, tools=[get_weather], pricing=PRICES, thinking=gov).run("Paris?")
    if kind == "hosted":  # the hosted API reports reasoning tokens: its figure is taken as it is
        expected = [counter.count(t) for t in THOUGHTS]
    else:  # vLLM reports none: the exact counter on the think block as written
        expected = [counter.count(f"<think>\n{t}\n</think>\n") for t in THOUGHTS]
    assert [t.usage.thinking_tokens for t in result.turns] == expected
    assert result.usage.thinking_tokens == sum(expected)
    assert [t.thinking_cost for t in result.turns] == [pytest.approx(n * 2.20 / 1e6) for n in expected]
    assert result.thinking_cost == pytest.approx(sum(expected) * 2.20 / 1e6)
    assert result.cost is not None and result.thinking_cost < result.cost


async def test_the_governor_counts_with_the_backends_exact_counter(counter: Any, tokenizer_dir: Any) -> None:
    async with serve("raw", ["<think>\nOk.\n</think>\nHi."], counter) as (server, _backend):
        from m1agent.backends import Completions

        gov = ThinkingGovernor(ThinkingBudget(per_turn=1_000, answer_reserve=100), effort=None)
        backend = Completions(server.base_url, token_counter=counter)
        result = await Agent(backend, thinking=gov).run("Hi")
    assert backend.token_counter is counter and gov.counter is None  # the governor itself is left as it was
    assert result.usage.thinking_tokens == counter.count("<think>\nOk.\n</think>\n")
