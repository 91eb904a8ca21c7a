"""Prompt growth under the reasoning-history policies: ``strip`` against ``keep``, over the real wire.

A tool-using conversation of 20 model turns, each with about 8K tokens of scripted thinking, runs
through the agent loop against the loopback vLLM server, once per policy, on the raw completions
backend and on the chat backend. Two shapes of the same 20 turns:

- ``10 questions``: ten user questions in one session, each answered by a tool call and then a text
  answer (10 tool-call turns, 10 answer turns);
- ``1 task``: one question, 19 tool calls in a row, then the answer.

Reported: the prompt tokens of the last request (the exact M1 counter: on the raw prompt the client
sent, and as the server counted the chat request it rendered), the bytes of the last request body,
and the median wall time of a whole conversation.

    .venv/bin/python benchmarks/bench_thinking.py [--repeats 3] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from results import write_section

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from m1agent import Agent, tool
from m1agent.backends import VLLM, Completions
from m1agent.testing import VLLMServer
from m1agent.thinking import ReasoningHistory, ThinkingBudget, ThinkingGovernor
from m1agent.tokens import load_counter

THINKING_TOKENS = 8_000
TURNS = 20
WINDOW = 1_000_000
WORDS = ("the", "tool", "result", "says", "file", "line", "check", "next", "value", "because", "so", "then",
         "maybe", "config", "parser", "returns", "error", "test", "path", "list", "count", "should", "update",
         "first", "plan", "function", "module", "call", "argument", "order", "cache", "state", "request")


@tool
def lookup(key: int) -> str:
    """Look a fact up by its number."""
    return f"fact {key}: the value is {key * 7}"


def thought(seed: int, counter: Any) -> str:
    """About ``THINKING_TOKENS`` tokens of varied, deterministic reasoning prose."""
    rng = random.Random(seed)
    sentences: list[str] = []
    while True:
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
        sentences.append(" ".join(words).capitalize() + ".")
        if len(sentences) % 50 == 0 and counter.count(" ".join(sentences)) >= THINKING_TOKENS:
            return " ".join(sentences)


def call_turn(seed: int, counter: Any) -> str:
    line = json.dumps({"name": "lookup", "arguments": {"key": seed}})
    return f"<think>\n{thought(seed, counter)}\n</think>\n<tool_calls>\n{line}\n</tool_calls>"


def answer_turn(seed: int, counter: Any) -> str:
    return f"<think>\n{thought(seed, counter)}\n</think>\nFact {seed} is noted."


def scripts(counter: Any) -> dict[str, list[str]]:
    questions: list[str] = []
    for q in range(TURNS // 2):
        questions += [call_turn(2 * q, counter), answer_turn(2 * q + 1, counter)]
    task = [call_turn(n, counter) for n in range(TURNS - 1)] + [answer_turn(TURNS - 1, counter)]
    return {"10 questions": questions, "1 task": task}


async def converse(shape: str, script: list[str], kind: str, mode: str, counter: Any) -> dict[str, Any]:
    async with VLLMServer(script=script, counter=counter, max_model_len=WINDOW) as server:
        backend = (Completions if kind == "raw" else VLLM)(server.base_url, context_window=WINDOW)
        governor = ThinkingGovernor(ThinkingBudget(per_turn=16_000, answer_reserve=2_000),
                                    history=ReasoningHistory(mode), effort=None,  # type: ignore[arg-type]
                                    counter=counter)
        agent = Agent(backend, "Answer with the lookup tool.", [lookup], thinking=governor)
        started = time.perf_counter()
        session = None
        prompts = range(TURNS // 2) if shape == "10 questions" else range(1)
        results = []
        for q in prompts:
            result = await agent.run(f"What is fact {2 * q}?", session_id=session)
            session = result.session_id
            results.append(result)
        elapsed = time.perf_counter() - started
        bodies = server.bodies
    turns = [t for r in results for t in r.turns]
    assert len(turns) == TURNS and all(r.stop_reason == "completed" for r in results), results[-1].error
    last = bodies[-1]
    return {
        "last_prompt_tokens": turns[-1].usage.input_tokens,
        "client_count": counter.count(last["prompt"]) if kind == "raw" else None,
        "last_body_kib": len(json.dumps(last, ensure_ascii=False).encode()) / 1024,
        "thinking_tokens": sum(t.usage.thinking_tokens for t in turns),
        "seconds": elapsed,
    }


async def measure(repeats: int) -> dict[tuple[str, str, str], dict[str, Any]]:
    counter = load_counter(ROOT.parent / "shared" / "m1-tokenizer")
    shapes = scripts(counter)
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for shape, script in shapes.items():
        for kind in ("raw", "chat"):
            for mode in ("strip", "keep"):
                runs = [await converse(shape, script, kind, mode, counter) for _ in range(repeats)]
                row = dict(runs[0])
                row["seconds"] = statistics.median(r["seconds"] for r in runs)
                out[(shape, kind, mode)] = row
                print(shape, kind, mode, row, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    results = asyncio.run(measure(args.repeats))
    lines = [
        "## Thinking",
        "",
        f"Prompt size under the reasoning-history policies. A tool-using conversation of {TURNS} model turns, "
        f"each with about {THINKING_TOKENS:,} tokens of scripted thinking, runs through the agent loop against "
        "the loopback vLLM server (real HTTP, the exact M1 counter for usage), once with `strip` and once with "
        "`keep`. `10 questions`: ten questions in one session, each a tool call then a text answer. `1 task`: "
        "one question, 19 tool calls, then the answer. Token counts are exact and the same on every run; time "
        f"is the median of {args.repeats} whole conversations. Machine: {platform.machine()}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}. Command: `.venv/bin/python benchmarks/bench_thinking.py`.",
        "",
        "| conversation | backend | policy | prompt tokens, last turn | last request body KiB | thinking tokens "
        "(run) | median s |",
        "|---|---|---|---|---|---|---|",
    ]
    for (shape, kind, mode), row in results.items():
        lines.append(f"| {shape} | {kind} | {mode} | {row['last_prompt_tokens']:,} | {row['last_body_kib']:.0f} | "
                     f"{row['thinking_tokens']:,} | {row['seconds']:.1f} |")
    lines.append("")
    for shape in ("10 questions", "1 task"):
        strip = results[(shape, "raw", "strip")]["last_prompt_tokens"]
        keep = results[(shape, "raw", "keep")]["last_prompt_tokens"]
        lines.append(f"- {shape}: the last turn's prompt is {keep:,} tokens with `keep` and {strip:,} with `strip` "
                     f"({keep / strip:.1f}×).")
    lines += [
        "- M1's vLLM template drops every part of an assistant turn that called tools, thinking included, so on "
        "vLLM and raw completions `keep` only keeps the thinking of text answers; the chat client still sends "
        "those thoughts (the request body column), and the server discards them.",
        "- On the raw backend the client's own count of the prompt it sent equals the server's count: "
        + ", ".join(
            f"{s}/{m} {'equal' if r['client_count'] == r['last_prompt_tokens'] else 'different'}"
            for (s, k, m), r in results.items() if k == "raw"
        ) + ".",
        f"- Load average when the run ended: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
    ]
    section = "\n".join(lines) + "\n"
    print()
    print(section)
    if not args.no_write:
        write_section(section)


if __name__ == "__main__":
    main()
