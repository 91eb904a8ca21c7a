"""Loop overhead per tool-call turn: m1agent against openai-agents and pydantic-ai, in the same run.

A scripted model with no latency asks for one trivial tool per turn, then answers; we time whole runs
of 50 and 200 turns and report the median CPU microseconds per turn (the process's CPU time, which
other load on a shared machine disturbs far less than wall time; all the work is CPU work here, and
wall time is printed too), and the peak memory of one run
(tracemalloc, measured in a separate run so it does not slow the timed ones). Every framework runs in
its own subprocess (the peers in their venvs under ``benchmarks/.peers``, set up by
``setup_peers.sh``), one event loop for all its runs, after a warm-up run.

    .venv/bin/python benchmarks/bench_loop.py [--repeats 7] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
from pathlib import Path

from results import write_section

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / ".peers"
TURNS = (50, 200)

HARNESS = r"""
import asyncio, gc, json, sys, time, tracemalloc

counts, repeats, variant = [int(n) for n in sys.argv[1].split(",")], int(sys.argv[2]), sys.argv[3]

async def measure():
    for turns in counts:
        await once(turns)  # warm-up
    cpu = {n: [] for n in counts}
    wall = {n: [] for n in counts}
    for _ in range(repeats):  # interleaved, so that load drifting over time hits every size alike
        for turns in counts:
            gc.collect()
            c, w = time.process_time(), time.perf_counter()
            await once(turns)
            cpu[turns].append((time.process_time() - c) / turns * 1e6)
            wall[turns].append((time.perf_counter() - w) / turns * 1e6)
    peak = {}
    for turns in counts:
        gc.collect()
        tracemalloc.start()
        await once(turns)
        peak[turns] = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
    print(json.dumps({n: {"cpu_us": cpu[n], "wall_us": wall[n], "peak_kib": peak[n]} for n in counts}))
"""

OURS = r"""
import tempfile
from m1agent import Agent, Limits, tool
from m1agent.backends.replay import Replay
from m1agent.protocol.types import ToolCallPart, Turn

@tool
async def echo(x: int) -> str:
    "Echo a number."
    return str(x)

scripts = {n: [Turn(tool_calls=(ToolCallPart("echo", {"x": i}, f"call_{i}_0"),)) for i in range(n - 1)]
           + [Turn(text="done")] for n in counts}
sessions = tempfile.mkdtemp() if variant == "jsonl" else None
agent = Agent(Replay.from_turns([]), tools=[echo], limits=Limits(max_turns=None), sessions=sessions)

async def once(turns):
    agent.backend = Replay.from_turns(scripts[turns])
    result = await agent.run("go")
    assert result.stop_reason == "completed" and len(result.turns) == turns, result

asyncio.run(measure())
"""

OPENAI_AGENTS = r"""
import os
os.environ["OPENAI_AGENTS_DISABLE_TRACING"] = "1"
from agents import Agent, RunConfig, Runner, function_tool
from agents.items import ModelResponse
from agents.models.interface import Model
from agents.usage import Usage
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText

class Scripted(Model):
    def __init__(self):
        self.calls = 0
        self.turns = 0

    async def get_response(self, *args, **kwargs):
        self.calls += 1
        if self.calls < self.turns:
            output = [ResponseFunctionToolCall(type="function_call", call_id=f"c{self.calls}", name="echo",
                                               arguments=json.dumps({"x": self.calls}), id=f"f{self.calls}",
                                               status="completed")]
        else:
            output = [ResponseOutputMessage(id="m", type="message", role="assistant", status="completed",
                                            content=[ResponseOutputText(type="output_text", text="done",
                                                                        annotations=[])])]
        return ModelResponse(output=output, usage=Usage(), response_id=None)

    def stream_response(self, *args, **kwargs):
        raise NotImplementedError

@function_tool
async def echo(x: int) -> str:
    "Echo a number."
    return str(x)

model = Scripted()
agent = Agent(name="bench", instructions="", tools=[echo], model=model)
config = RunConfig(tracing_disabled=True)

async def once(turns):
    model.calls, model.turns = 0, turns
    result = await Runner.run(agent, "go", max_turns=turns + 5, run_config=config)
    assert result.final_output == "done" and model.calls == turns

asyncio.run(measure())
"""

PYDANTIC_AI = r"""
from pydantic_ai import Agent, UsageLimits
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

calls = 0
wanted = 0

def scripted(messages, info: AgentInfo) -> ModelResponse:
    global calls
    calls += 1
    if calls < wanted:
        return ModelResponse(parts=[ToolCallPart("echo", {"x": calls}, tool_call_id=f"c{calls}")])
    return ModelResponse(parts=[TextPart("done")])

agent = Agent(FunctionModel(scripted))

@agent.tool_plain
async def echo(x: int) -> str:
    "Echo a number."
    return str(x)

limits = UsageLimits(request_limit=None)

async def once(turns):
    global calls, wanted
    calls, wanted = 0, turns
    result = await agent.run("go", usage_limits=limits)
    assert result.output == "done" and calls == turns

asyncio.run(measure())
"""

FRAMEWORKS = {
    "m1agent": (ROOT / ".venv" / "bin" / "python", OURS, "memory"),
    "m1agent (JSONL session)": (ROOT / ".venv" / "bin" / "python", OURS, "jsonl"),
    "openai-agents": (PEERS / "openai-agents" / "bin" / "python", OPENAI_AGENTS, ""),
    "pydantic-ai": (PEERS / "pydantic-ai" / "bin" / "python", PYDANTIC_AI, ""),
}


def run_framework(python: Path, script: str, repeats: int, variant: str) -> dict[int, dict[str, float]]:
    out = subprocess.run(
        [str(python), "-c", HARNESS + script, ",".join(map(str, TURNS)), str(repeats), variant or "-"],
        capture_output=True, text=True, check=False, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    if out.returncode != 0:
        raise RuntimeError(f"{python} failed:\n{out.stderr[-3000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        int(n): {"median_us": statistics.median(d["cpu_us"]), "wall_us": statistics.median(d["wall_us"]),
                 "peak_kib": d["peak_kib"]}
        for n, d in data.items()
    }


def versions() -> dict[str, str]:
    found = {}
    for name, module in (("openai-agents", "openai-agents"), ("pydantic-ai", "pydantic-ai-slim")):
        python = PEERS / name / "bin" / "python"
        code = f"import importlib.metadata as m; print(m.version({module!r}))"
        found[name] = subprocess.run([str(python), "-c", code], capture_output=True, text=True).stdout.strip()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="loop overhead per tool-call turn")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    subprocess.run(["bash", str(HERE / "setup_peers.sh")], check=True)

    results: dict[str, dict[int, dict[str, float]]] = {}
    for name, (python, script, variant) in FRAMEWORKS.items():
        results[name] = run_framework(python, script, args.repeats, variant)
        row = "  ".join(f"{n} turns: {r['median_us']:9.1f} µs/turn CPU ({r['wall_us']:9.1f} wall), "
                        f"peak {r['peak_kib']:6.0f} KiB"
                        for n, r in results[name].items())
        print(f"{name:26s} {row}")

    ours = results["m1agent"]
    lines = [
        "## Loop",
        "",
        "Overhead of one tool-call turn: a scripted model with no latency asks for one trivial tool per turn,",
        "then answers. Median CPU µs per turn over whole runs (after a warm-up run; the process's CPU time,",
        "which other load on a shared machine disturbs far less than wall time), and peak memory of one run",
        f"(tracemalloc). {args.repeats} runs each; every framework in its own process; peers in their own venvs",
        f"({', '.join(f'{k} {v}' for k, v in versions().items())}). Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}.",
        "Command: `.venv/bin/python benchmarks/bench_loop.py`.",
        "",
        "| framework | CPU µs/turn at 50 | CPU µs/turn at 200 | 200 vs 50 | wall µs/turn at 50 | wall µs/turn at 200 "
        "| peak KiB at 50 | peak KiB at 200 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        growth = r[200]["median_us"] / r[50]["median_us"]
        lines.append(f"| {name} | {r[50]['median_us']:.0f} | {r[200]['median_us']:.0f} | {growth:.2f}× | "
                     f"{r[50]['wall_us']:.0f} | {r[200]['wall_us']:.0f} | "
                     f"{r[50]['peak_kib']:.0f} | {r[200]['peak_kib']:.0f} |")
    lines.append("")
    for n in TURNS:
        faster = min(results["openai-agents"][n]["median_us"], results["pydantic-ai"][n]["median_us"])
        lines.append(f"- At {n} turns m1agent spends {ours[n]['median_us'] / faster:.3f}× the per-turn time of the "
                     f"faster peer (target ≤ 0.1×).")
    lines.append(f"- m1agent at 200 turns costs {ours[200]['median_us'] / ours[50]['median_us']:.2f}× per turn what "
                 "it costs at 50 (target ≤ 1.5×).")
    lines.append("- The JSONL row writes and flushes every event to a transcript on disk, as a resumable run does.")
    lines.append(f"- Load average when the run ended: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work "
                 "shared the machine; wall times suffer from it far more than CPU times).")
    section = "\n".join(lines) + "\n"
    print()
    print(section)
    if not args.no_write:
        write_section(section)


if __name__ == "__main__":
    main()
