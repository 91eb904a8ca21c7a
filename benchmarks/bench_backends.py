"""Client-side cost of the backends: CPU per streamed chunk, over loopback, against the bare openai client.

Each backend streams the same synthetic M1 answers (thinking, text, four calls) from the scripted
loopback servers of ``m1agent.testing``. The servers run in a background thread, so the figure is the
CPU time of the client thread alone (``time.thread_time``). The peer is the ``openai`` client iterating
its own parsed chunks of the same raw-completions stream and doing nothing else with them.
Prints medians and writes the "Backends" section of RESULTS.md.
"""

from __future__ import annotations

import asyncio
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import openai
from results import write_section

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from m1agent.backends import VLLM, Completions, MiniMax, ModelRequest
from m1agent.messages import ToolSpec, UserMessage
from m1agent.testing import MiniMaxServer, VLLMServer
from m1agent.tokens import load_counter

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## Backends"
RUNS = 3
KEY = "bench-key"
TOOL = ToolSpec("write_file", "Write a file", {"type": "object", "properties": {"path": {"type": "string"}}})


def synthetic(thinking_words: int) -> str:
    sentence = "Let me weigh each file in turn and check the edge cases before I write anything . "
    thinking = (sentence * (thinking_words // 16 + 1)).strip()
    calls = "\n".join(
        json.dumps({"name": "write_file", "arguments": {"path": f"src/app/m{i}.py", "content": "x = {}\n" * 40}})
        for i in range(4)
    )
    return f"<think>\n{thinking}\n</think>\nWriting the four modules now.\n<tool_calls>\n{calls}\n</tool_calls>"


async def client_cpu(make: Any, request: ModelRequest) -> tuple[float, int]:
    backend = make()
    started = time.thread_time()
    chunks = 0
    async for _event in backend.stream(request):
        chunks += 1
    spent = time.thread_time() - started
    await backend.aclose()
    return spent, chunks


async def peer_cpu(base_url: str, prompt: str) -> tuple[float, int]:
    client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
    started = time.thread_time()
    chunks = 0
    text = []
    stream = await client.completions.create(model="MiniMaxAI/MiniMax-M1-80k", prompt=prompt, max_tokens=100_000,
                                             stream=True)
    async for chunk in stream:
        chunks += 1
        text.extend(c.text for c in chunk.choices)
    spent = time.thread_time() - started
    await client.close()
    return spent, chunks


async def measure(output: str, counter: Any) -> dict[str, tuple[float, int]]:
    request = ModelRequest(messages=[UserMessage("Write the modules.")], tools=[TOOL], max_tokens=100_000)
    figures: dict[str, list[float]] = {}
    sizes: dict[str, int] = {}
    async with VLLMServer([output] * (3 * RUNS + RUNS), counter=counter) as vllm, \
            MiniMaxServer([output] * RUNS, api_key=KEY, counter=counter) as hosted:
        makers = {
            "Completions (raw /v1/completions + our parser)": lambda: Completions(vllm.base_url),
            "VLLM (chat, server tool parser, validated)": lambda: VLLM(vllm.base_url),
            "MiniMax (hosted API, httpx)": lambda: MiniMax(KEY, host=hosted.host),
        }
        for _ in range(RUNS):
            for name, make in makers.items():
                spent, _events = await client_cpu(make, request)
                figures.setdefault(name, []).append(spent)
            spent, chunks = await peer_cpu(vllm.base_url, "<beginning_of_sentence>ai name=MiniMax AI\n")
            figures.setdefault("peer: openai client, parsed chunks only", []).append(spent)
            sizes["chunks"] = chunks
    return {name: (statistics.median(values), sizes["chunks"]) for name, values in figures.items()}


def main() -> None:
    tokenizer = ROOT.parent / "shared" / "m1-tokenizer"
    counter = load_counter(tokenizer if tokenizer.is_dir() else None)
    lines = [
        SECTION,
        "",
        f"`benchmarks/bench_backends.py` on CPython {platform.python_version()}, openai {openai.__version__}; "
        f"CPU time of the client thread (`time.thread_time`), medians of {RUNS} runs; the scripted servers "
        "stream one token-like piece per SSE event from a background thread.",
        "",
        "| output | client | SSE chunks | CPU s | µs/chunk | vs peer |",
        "|---|---|---|---|---|---|",
    ]
    for words in (7_000, 35_000):
        output = synthetic(words)
        tokens = counter.count(output)
        label = f"{tokens / 1000:.1f}K tokens + 4 calls"
        results = asyncio.run(measure(output, counter))
        peer = results["peer: openai client, parsed chunks only"][0]
        for name, (cpu, chunks) in results.items():
            ratio = "—" if name.startswith("peer") else (
                f"{peer / cpu:.1f}× less" if cpu < peer else f"{cpu / peer:.1f}× more"
            )
            print(f"{label} | {name}: {cpu:.3f} s CPU, {1e6 * cpu / chunks:.1f} µs/chunk, {ratio}")
            lines.append(f"| {label} | {name} | {chunks} | {cpu:.3f} | {1e6 * cpu / chunks:.1f} | {ratio} |")
    lines += ["", "Ours parse the M1 text, validate calls and build typed deltas; the peer only decodes chunks.", ""]
    write_section("\n".join(lines))


if __name__ == "__main__":
    main()
