"""Token counting: how long the exact M1 counter takes to load, and how fast each counter counts.

Run: ``.venv/bin/python benchmarks/bench_tokens.py [--repeats N]``. Loads are timed in fresh processes (the
import of m1agent excluded): parsing merges.txt cold, from the on-disk rank cache, and a second load in the
same process. Throughput is counted on Python source (this project and the installed packages). Prints
medians and writes the "Tokens" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import write_section

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## Tokens"
TOKENIZER = Path(os.environ.get("M1AGENT_TOKENIZER") or ROOT.parent / "shared" / "m1-tokenizer")
CORPUS_BYTES = 6_000_000

_LOAD_SNIPPET = """
import sys, time
from m1agent.tokens import load_counter
t = time.process_time(); load_counter(sys.argv[1]); first = time.process_time() - t
t = time.perf_counter(); load_counter(sys.argv[1]); again = time.perf_counter() - t
print(first, again)
"""


def _load_times(cache_dir: str) -> tuple[float, float]:
    env = {**os.environ, "M1AGENT_CACHE_DIR": cache_dir}
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_SNIPPET, str(TOKENIZER)], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def _corpus() -> str:
    """Python source, ours first, then installed packages, up to CORPUS_BYTES (deterministic order)."""
    texts: list[str] = []
    size = 0
    roots = [ROOT / "m1agent", ROOT / "tools", *sorted((ROOT / ".venv" / "lib").glob("python3*/site-packages"))]
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            texts.append(text)
            size += len(text.encode("utf-8"))
            if size >= CORPUS_BYTES:
                return "".join(texts)
    return "".join(texts)


def _throughput(count: object, text: str, repeats: int, clock: object = time.process_time) -> tuple[float, int]:
    """Median seconds per pass; CPU time by default, since the machine may be shared."""
    times = []
    result = 0
    for _ in range(repeats):
        start = clock()  # type: ignore[operator]
        result = count(text)  # type: ignore[operator]
        times.append(clock() - start)  # type: ignore[operator]
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from m1agent.tokens import ApproxCounter, BPECounter, load_counter

    cold, warm, again = [], [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as empty:
            cold.append(_load_times(empty)[0])
        with tempfile.TemporaryDirectory() as cache:
            _load_times(cache)  # fills the rank cache
            first, second = _load_times(cache)
            warm.append(first)
            again.append(second)

    counter = load_counter(TOKENIZER)
    assert isinstance(counter, BPECounter)
    text = _corpus()
    megabytes = len(text.encode("utf-8")) / 1e6
    one_thread, tokens = _throughput(counter.count, text, args.repeats)
    chunks = [text[i : i + 100_000] for i in range(0, len(text), 100_000)]
    two_threads, _ = _throughput(
        lambda t: sum(counter.count_batch(chunks, num_threads=2)), text, args.repeats, time.perf_counter
    )
    approx_time, approx_tokens = _throughput(ApproxCounter().count, text, args.repeats)

    rows = [
        ("load, merges.txt parsed (no rank cache), CPU", f"{statistics.median(cold):.2f} s"),
        ("load, ranks from the on-disk cache, CPU", f"{statistics.median(warm):.2f} s"),
        ("load again in the same process, wall", f"{statistics.median(again) * 1e3:.3f} ms"),
        ("exact `count`, 1 thread, per CPU second", f"{megabytes / one_thread:.1f} MB/s"),
        ("exact `count_batch`, 2 threads (100 KB pieces), wall", f"{megabytes / two_threads:.1f} MB/s"),
        ("estimate (`ApproxCounter`), per CPU second", f"{megabytes / approx_time:.1f} MB/s"),
    ]
    for name, value in rows:
        print(f"{name:56s} {value}")
    ratio = approx_tokens / tokens
    per_token = megabytes * 1e6 / tokens
    print(f"corpus: {megabytes:.1f} MB, {tokens:,} tokens ({per_token:.2f} bytes/token); estimate {ratio:.2f}x")
    _write(rows, megabytes, tokens, ratio, args.repeats)


def _write(rows: list[tuple[str, str]], megabytes: float, tokens: int, ratio: float, repeats: int) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        SECTION,
        "",
        f"`benchmarks/bench_tokens.py` on CPython {platform.python_version()}, {os.cpu_count()} CPUs "
        f"(load average {load:.1f} at the end); medians of {repeats} runs; CPU time unless marked wall; loads "
        "timed in fresh processes, import excluded. Corpus: the first "
        f"{megabytes:.1f} MB of Python source (this project, then installed packages): {tokens:,} M1 tokens, "
        f"{megabytes * 1e6 / tokens:.2f} bytes/token; the estimate gave {ratio:.2f}× the exact count. "
        "No peer is named for counting; the exact counter itself is the reference.",
        "",
        "| measure | result |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in rows],
        "",
    ]
    body = "\n".join(lines)
    write_section(body)


if __name__ == "__main__":
    main()
