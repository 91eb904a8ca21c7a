"""Sandbox latency and throughput: m1agent's DockerSandbox against llm-sandbox, same image, same run.

    .venv/bin/python benchmarks/bench_sandbox.py [--quick] [--no-peer]

Measures the cold start of a session, the warm latency of ``echo`` and of ``print(1)`` in the
Python session, closing, and the command throughput of 4 sandboxes in parallel. Prints medians and
ratios and writes the "Sandbox" section of benchmarks/RESULTS.md. The peer is installed on first use
into benchmarks/.peers/llm-sandbox (its own venv).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from m1agent.sandboxes import DEFAULT_IMAGE, DockerSandbox, docker_client
from results import write_section

HERE = Path(__file__).resolve().parent
PEER_VENV = HERE / ".peers" / "llm-sandbox"
PEER_SPEC = "llm-sandbox[docker]==0.3.46"
PARALLEL = 4

# Runs inside the peer's venv; prints one JSON object with lists of seconds.
PEER_SCRIPT = r"""
import json, sys, time, threading
from llm_sandbox import SandboxSession
image, runs, warm, per_box = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def session():
    return SandboxSession(lang="python", image=image, keep_template=True, verbose=False,
                          skip_environment_setup=True)
out = {"start": [], "first": [], "echo": [], "echo_spaced": [], "print": [], "close": []}
for i in range(runs):
    s = session()
    t = time.perf_counter(); s.open(); out["start"].append(time.perf_counter() - t)
    s.execute_command("echo hi"); out["first"].append(time.perf_counter() - t)
    if i == 0:
        for _ in range(warm):
            t = time.perf_counter(); r = s.execute_command("echo hi"); out["echo"].append(time.perf_counter() - t)
            assert r.stdout.strip() == "hi", r
            time.sleep(0.05)
            t = time.perf_counter(); s.execute_command("echo hi"); out["echo_spaced"].append(time.perf_counter() - t)
            t = time.perf_counter(); r = s.run("print(1)"); out["print"].append(time.perf_counter() - t)
            assert r.stdout.strip() == "1", r
    t = time.perf_counter(); s.close(); out["close"].append(time.perf_counter() - t)
boxes = [session() for _ in range(4)]
threads = [threading.Thread(target=b.open) for b in boxes]
[t.start() for t in threads]; [t.join() for t in threads]
def work(b):
    for _ in range(per_box):
        b.execute_command("echo hi")
t = time.perf_counter()
threads = [threading.Thread(target=work, args=(b,)) for b in boxes]
[t.start() for t in threads]; [t.join() for t in threads]
out["throughput"] = 4 * per_box / (time.perf_counter() - t)
threads = [threading.Thread(target=b.close) for b in boxes]
[t.start() for t in threads]; [t.join() for t in threads]
print(json.dumps(out))
"""


def ensure_peer() -> Path:
    """The peer's python, installing llm-sandbox into its own venv the first time."""
    python = PEER_VENV / "bin" / "python"
    if python.exists() and subprocess.run([python, "-c", "import llm_sandbox"], capture_output=True).returncode == 0:
        return python
    print(f"installing {PEER_SPEC} into {PEER_VENV} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", PEER_SPEC], check=True)
    return python


async def measure_ours(runs: int, warm: int, per_box: int) -> dict[str, object]:
    client = docker_client()
    out: dict[str, object] = {"start": [], "first": [], "echo": [], "echo_spaced": [], "print": [], "close": []}
    warmup = DockerSandbox(client=client)  # the first start also reaps orphans and warms the client
    await warmup.start()
    await warmup.close()
    for i in range(runs):
        box = DockerSandbox(client=client)
        t = time.perf_counter()
        await box.start()
        out["start"].append(time.perf_counter() - t)  # type: ignore[attr-defined]
        await box.run("echo hi")
        out["first"].append(time.perf_counter() - t)  # type: ignore[attr-defined]
        if i == 0:
            await box.run_python("0")  # the Python session starts on first use
            for _ in range(warm):
                t = time.perf_counter()
                result = await box.run("echo hi")
                out["echo"].append(time.perf_counter() - t)  # type: ignore[attr-defined]
                assert result.stdout == "hi\n", result
            for _ in range(warm):  # as in an agent's loop: commands come apart, not back to back
                await asyncio.sleep(0.05)
                t = time.perf_counter()
                await box.run("echo hi")
                out["echo_spaced"].append(time.perf_counter() - t)  # type: ignore[attr-defined]
            for _ in range(warm):
                t = time.perf_counter()
                result = await box.run_python("print(1)")
                out["print"].append(time.perf_counter() - t)  # type: ignore[attr-defined]
                assert result.stdout == "1\n", result
        t = time.perf_counter()
        await box.close()
        out["close"].append(time.perf_counter() - t)  # type: ignore[attr-defined]
    boxes = [DockerSandbox(client=client) for _ in range(PARALLEL)]
    await asyncio.gather(*(b.start() for b in boxes))

    async def work(box: DockerSandbox) -> None:
        for _ in range(per_box):
            await box.run("echo hi")

    t = time.perf_counter()
    await asyncio.gather(*(work(b) for b in boxes))
    out["throughput"] = PARALLEL * per_box / (time.perf_counter() - t)
    await asyncio.gather(*(b.close() for b in boxes))
    return out


def median_ms(values: object) -> float:
    return statistics.median(values) * 1000  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--no-peer", action="store_true", help="skip llm-sandbox")
    args = parser.parse_args()
    runs, warm, per_box = (3, 20, 20) if args.quick else (7, 50, 50)
    peer_runs, peer_warm, peer_per_box = (2, 5, 5) if args.quick else (3, 10, 10)

    ours = asyncio.run(measure_ours(runs, warm, per_box))
    peer: dict[str, object] | None = None
    if not args.no_peer:
        python = ensure_peer()
        proc = subprocess.run(
            [python, "-c", PEER_SCRIPT, DEFAULT_IMAGE, str(peer_runs), str(peer_warm), str(peer_per_box)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            print(f"peer failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        else:
            peer = json.loads(proc.stdout.strip().splitlines()[-1])

    rows = []
    targets = {"start": "—", "first": "≤ 700 ms", "echo": "≤ 5 ms, ≥ 50× faster", "echo_spaced": "≤ 5 ms",
               "print": "≤ 5 ms, ≥ 50× faster", "close": "≤ 300 ms"}
    labels = {
        "start": "`start()` / `open()` returns",
        "first": "cold start: start + first `echo` answered",
        "echo": "warm `echo hi`, back to back",
        "echo_spaced": "warm `echo hi`, 50 ms apart",
        "print": "warm `print(1)` (Python session)",
        "close": "close (remove container + volume)",
    }
    for key in ("start", "first", "echo", "echo_spaced", "print", "close"):
        mine = median_ms(ours[key])
        theirs = median_ms(peer[key]) if peer else None
        ratio = f"{theirs / mine:.1f}×" if theirs else "—"
        peer_cell = f"{theirs:.1f} ms" if theirs else "—"
        rows.append(f"| {labels[key]} | {mine:.1f} ms | {peer_cell} | {ratio} | {targets[key]} |")
    mine_tp = float(ours["throughput"])  # type: ignore[arg-type]
    theirs_tp = float(peer["throughput"]) if peer else None  # type: ignore[arg-type]
    peer_tp = f"{theirs_tp:.1f} cmd/s" if theirs_tp else "—"
    ratio_tp = f"{mine_tp / theirs_tp:.1f}×" if theirs_tp else "—"
    label_tp = f"{PARALLEL} sandboxes in parallel, `echo` throughput"
    rows.append(f"| {label_tp} | {mine_tp:.0f} cmd/s | {peer_tp} | {ratio_tp} | — |")
    notes = []
    if peer:
        versus_run = median_ms(peer["print"]) / median_ms(ours["echo"])
        notes.append(f"Warm `echo` against llm-sandbox's `run`: {versus_run:.0f}× faster.")
    notes.append(
        "Latencies here depend on the machine's load (the figures grow several-fold when other work "
        "competes for the 2 CPUs); both tools ran in the same run, on the same image."
    )
    engine = docker_client().version().get("Version", "?")
    text = (
        "## Sandbox\n\n"
        f"`benchmarks/bench_sandbox.py{' --quick' if args.quick else ''}` on CPython {platform.python_version()}, "
        f"Docker {engine}, image `{DEFAULT_IMAGE}` for both; medians of {runs} starts/closes and {warm} warm "
        f"commands (peer: {peer_runs} and {peer_warm}); throughput: {PARALLEL}×{per_box} commands "
        f"(peer: {PARALLEL}×{peer_per_box}). Peer: llm-sandbox 0.3.46 (`SandboxSession`, `execute_command`, `run`). "
        f"Load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.\n\n"
        "| measure | m1agent | llm-sandbox | ratio (peer / ours) | target |\n|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\n"
        + " ".join(notes)
        + "\n"
    )
    print(text)
    write_section(text)


if __name__ == "__main__":
    main()
