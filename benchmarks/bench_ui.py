"""The interactive UI's display cost per streamed delta: can it keep up with M1 streaming thinking?

Run: ``.venv/bin/python benchmarks/bench_ui.py [--repeats N]``. A run's events (a long thought streamed in
small deltas, an answer, a tool call and its result) go through ``EventPrinter`` on a terminal console
writing to /dev/null: with thinking folded (the live view of ``m1agent code`` with its token count),
streamed in full (``m1agent demo`` / ``run``), and as the floor, the same text written with plain
``console.print`` calls. No peer is named for the display; the floor is the reference. Prints medians
and writes the "Interactive UI" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from results import write_section
from rich.console import Console
from rich.text import Text

from m1agent.cli.display import EventPrinter, ThinkingFold
from m1agent.events import ToolCallFinished, ToolCallStarted, TurnFinished, TurnStarted
from m1agent.messages import AssistantMessage
from m1agent.protocol.types import TextDelta, ThinkingDelta
from m1agent.tokens import load_counter
from m1agent.usage import Usage

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## Interactive UI"
TOKENIZER = Path(os.environ.get("M1AGENT_TOKENIZER") or ROOT.parent / "shared" / "m1-tokenizer")
DELTA_CHARS = 12  # about 3 tokens: what a streaming server sends per chunk
THOUGHT_CHARS = 60_000


def _events() -> list[object]:
    line = "Consider where the failing assertion comes from, and which function builds the slug. "
    thought = (line * (THOUGHT_CHARS // len(line) + 1))[:THOUGHT_CHARS]
    deltas: list[object] = [ThinkingDelta(thought[i:i + DELTA_CHARS]) for i in range(0, len(thought), DELTA_CHARS)]
    answer = "I'll change slugify to keep only runs of letters and digits."
    deltas += [TextDelta(answer[i:i + DELTA_CHARS]) for i in range(0, len(answer), DELTA_CHARS)]
    message = AssistantMessage(text=answer, thinking=thought)
    return [
        TurnStarted(0, 3), *deltas, TurnFinished(0, message, Usage(1000, 15000, 14000), "tool_calls"),
        ToolCallStarted(0, "c1", "run_shell", {"command": "python -m pytest -q"}),
        ToolCallFinished(0, "c1", "run_shell", "exit code: 0\n" + "ok\n" * 40),
    ]


def _console(sink: object) -> Console:
    return Console(file=sink, force_terminal=True, width=120, color_system="truecolor")  # type: ignore[arg-type]


def _time_printer(events: list[object], fold: bool, count: object) -> float:
    with open(os.devnull, "w") as sink:
        console = _console(sink)
        printer = EventPrinter(console, fold=ThinkingFold(console, 40_000, count) if fold else None)
        start = time.process_time()
        for event in events:
            printer(event)  # type: ignore[arg-type]
        return time.process_time() - start


def _time_floor(events: list[object]) -> float:
    with open(os.devnull, "w") as sink:
        console = _console(sink)
        start = time.process_time()
        for event in events:
            if isinstance(event, ThinkingDelta | TextDelta):
                console.print(Text(event.text), end="", soft_wrap=True)
        return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    events = _events()
    deltas = sum(isinstance(e, ThinkingDelta | TextDelta) for e in events)
    exact = TOKENIZER.is_dir()
    count = load_counter(TOKENIZER if exact else None).count
    results: dict[str, list[float]] = {
        "folded (m1agent code)": [], "streamed in full (demo, run)": [], "plain console.print (floor)": [],
    }
    for _ in range(args.repeats):  # interleaved, so that a noisy moment hits every variant alike
        results["folded (m1agent code)"].append(_time_printer(events, True, count))
        results["streamed in full (demo, run)"].append(_time_printer(events, False, count))
        results["plain console.print (floor)"].append(_time_floor(events))
    floor = statistics.median(results["plain console.print (floor)"])
    rows = []
    for name, times in results.items():
        median = statistics.median(times)
        per_delta = median / deltas * 1e6
        rows.append((name, f"{per_delta:.1f} µs", f"{deltas / median:,.0f}", f"{median / floor:.2f}×"))
        print(f"{name:32} {per_delta:8.1f} µs/delta  {deltas / median:10,.0f} deltas/s  {median / floor:.2f}× floor")
    _write(rows, deltas, exact, args.repeats)


def _write(rows: list[tuple[str, str, str, str]], deltas: int, exact: bool, repeats: int) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        SECTION,
        "",
        f"`benchmarks/bench_ui.py` on CPython {platform.python_version()}, {os.cpu_count()} CPUs (load average "
        f"{load:.1f} at the end); medians of {repeats} interleaved runs; CPU time. One turn of {deltas:,} streamed "
        f"deltas ({DELTA_CHARS} characters each: a {THOUGHT_CHARS:,}-character thought, then the answer), a tool "
        f"call and its result, printed to a 120-column terminal console on /dev/null; thinking counted with the "
        f"{'exact M1' if exact else 'estimating'} counter. M1 streams at most a few hundred tokens a second, "
        "about a hundred deltas: the display's budget per delta is milliseconds. No peer is named for the "
        "display; plain `console.print` of the same deltas is the floor.",
        "",
        "| display | CPU per delta | deltas per CPU second | vs floor |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
    ]
    body = "\n".join(lines)
    write_section(body)


if __name__ == "__main__":
    main()
