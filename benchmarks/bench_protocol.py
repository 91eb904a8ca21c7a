"""Streaming-parser cost on long M1 outputs, against vLLM's streaming ``minimax`` tool parser.

Run: ``.venv/bin/python benchmarks/bench_protocol.py`` (``--quick`` for fewer repeats).
Synthetic outputs of 8K, 40K and 80K tokens are streamed one token per chunk; the 80K one ends with
16 calls, one carrying a 20 KB argument. Prints medians and writes the "Protocol" section of RESULTS.md.
The peer runs only if ``benchmarks/peers_protocol.py`` could set up its environment.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from results import write_section

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from m1agent.protocol import StreamParser, parse

SIZES = (8_000, 40_000, 80_000)
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## Protocol"

_PROSE = (
    "The user wants the module refactored, so first I should read src/app/models.py and check "
    "which functions call `load_config()`; if the signature changes, every caller breaks. "
    "Let me consider the edge cases: an empty file, a file with only comments, and unicode "
    "names such as café or 北京. Then I will write the new version and run pytest -q. "
)


def _calls(count: int, big_bytes: int) -> list[str]:
    lines = []
    for i in range(count):
        if big_bytes and i == count // 2:
            body = "".join(f"def f{n}(x):\n    return {{'k': x < {n}}}  # </tool_calls> }}\n" for n in range(400))
            args = {"path": f"src/app/generated_{i}.py", "content": body[:big_bytes]}
            name = "write_file"
        else:
            args = {"path": f"src/app/models_{i}.py", "query": "class .* \\{", "limit": i}
            name = "read_file" if i % 2 else "search"
        lines.append(json.dumps({"name": name, "arguments": args}, ensure_ascii=False))
    return lines


def build_output(tokens: int, counter: Callable[[str], int] | None) -> tuple[str, list[str]]:
    """A synthetic M1 output of about ``tokens`` tokens and its token-sized pieces."""
    with_calls = tokens >= 80_000
    tail = ""
    if with_calls:
        tail = "Let me make the changes now.\n<tool_calls>\n" + "\n".join(_calls(16, 20_000)) + "\n</tool_calls>"
    else:
        tail = "I will read the file first.\n<tool_calls>\n" + "\n".join(_calls(1, 0)) + "\n</tool_calls>"
    per_para = max(1, (counter(_PROSE) if counter else len(_PROSE) // 4))
    tail_tokens = counter(tail) if counter else len(tail) // 4
    paragraphs = max(1, (tokens - tail_tokens) // per_para)
    text = "<think>\n" + (_PROSE + "\n") * paragraphs + "</think>\n" + tail
    return text, _pieces(text, counter)


def _pieces(text: str, counter: Callable[[str], int] | None) -> list[str]:
    encoder = _encoder()
    if encoder is not None:
        ids = encoder.encode_ordinary(text)
        raw = [encoder.decode_single_token_bytes(t) for t in ids]
        out, pending = [], b""
        for piece in raw:  # keep multi-byte characters whole, as a detokenizer does
            pending += piece
            try:
                out.append(pending.decode("utf-8"))
                pending = b""
            except UnicodeDecodeError:
                continue
        return out
    return [text[i : i + 4] for i in range(0, len(text), 4)]


_ENC: list[object] = []


def _encoder():  # type: ignore[no-untyped-def]
    """The exact M1 BPE as a tiktoken encoding, when the counter module provides one."""
    if _ENC:
        return _ENC[0]
    enc = None
    try:
        from m1agent import tokens  # type: ignore[attr-defined]

        counter = tokens.load_counter(ROOT.parent / "shared" / "m1-tokenizer")
        enc = getattr(counter, "encoding", None) or getattr(counter, "_encoding", None)
    except Exception:
        enc = None
    _ENC.append(enc)
    return enc


def _token_counter() -> Callable[[str], int] | None:
    enc = _encoder()
    return (lambda s: len(enc.encode_ordinary(s))) if enc is not None else None


def run_ours(pieces: list[str], times: int = 1) -> float:
    """CPU seconds to stream ``pieces`` through a fresh parser (mean of ``times`` back-to-back runs)."""
    start = time.process_time()
    for _ in range(times):
        parser = StreamParser()
        feed = parser.feed
        for piece in pieces:
            feed(piece)
        parser.close()
    return (time.process_time() - start) / times


def run_parse(text: str, times: int = 1) -> float:
    start = time.process_time()
    for _ in range(times):
        parse(text)
    return (time.process_time() - start) / times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--peer-repeats", type=int, default=3)
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args()
    counter = _token_counter()
    how_counted = "exact M1 BPE tokens" if counter else "approximate 4-character tokens"
    print(f"token boundaries: {how_counted}")
    outputs = {size: build_output(size, counter) for size in SIZES}
    streams: dict[int, list[float]] = {size: [] for size in SIZES}
    wholes: dict[int, list[float]] = {size: [] for size in SIZES}
    # Sizes take turns within each round, so a busy machine slows them alike; each sample covers about
    # 80K tokens of work (the 8K output streamed 10 times over), so short runs are not timer noise.
    for _ in range(args.repeats):
        for size, (text, pieces) in outputs.items():
            times = max(1, round(SIZES[-1] / size))
            streams[size].append(run_ours(pieces, times))
            wholes[size].append(run_parse(text, times))
    rows = []
    for size, (text, pieces) in outputs.items():
        turn = parse(text)
        assert not turn.problems and turn.tool_calls, turn.problem_kinds
        stream, whole = statistics.median(streams[size]), statistics.median(wholes[size])
        mb = len(text.encode()) / 1e6
        rows.append((size, len(pieces), len(text), stream, whole, mb))
        print(
            f"{size // 1000:>3}K: {len(pieces):>6} chunks, {mb:5.2f} MB, {len(turn.tool_calls):>2} calls | "
            f"stream {stream:.3f} s CPU = {stream / len(pieces) * 1e6:.2f} µs/token, {mb / stream:.1f} MB/s | "
            f"whole parse {whole * 1000:.1f} ms"
        )
    ratio = rows[2][3] / rows[0][3]
    per_token = (rows[2][3] / rows[2][1]) / (rows[0][3] / rows[0][1])
    print(f"80K/8K stream CPU ratio: {ratio:.1f}x (token ratio {rows[2][1] / rows[0][1]:.1f}x, "
          f"per-token cost ratio {per_token:.2f})")
    peer_rows: list[tuple[str, int, float, str]] = []
    peer_note = "not run (--no-peer)"
    if not args.no_peer:
        peer_rows, peer_note = _run_peers(outputs, args.peer_repeats)
    _write_results(rows, ratio, how_counted, peer_rows, peer_note, args.repeats, args.peer_repeats)


def _run_peers(outputs, repeats):  # type: ignore[no-untyped-def]
    try:
        import peers_protocol
    except ImportError as exc:
        return [], f"not measured: {exc}"
    note, drivers = peers_protocol.load()
    rows = []
    for label, drive in drivers:
        for size in (8_000, 80_000):
            text, pieces = outputs[size]
            expected = [{"name": c.name, "arguments": c.arguments} for c in parse(text).tool_calls]
            times, checks = [], ""
            for _ in range(repeats):
                cpu, loop_cpu, check = drive(pieces, text, expected)
                times.append((cpu, loop_cpu))
                checks = check
            cpu = statistics.median(t[0] for t in times)
            loop = statistics.median(t[1] for t in times)
            print(f"peer {label} {size // 1000}K: {cpu:.2f} s CPU (driving loop alone {loop:.2f} s); {checks}")
            rows.append((label, size, cpu, loop, checks))
    return rows, note


def _write_results(rows, ratio, how_counted, peer_rows, peer_note, repeats, peer_repeats) -> None:  # type: ignore[no-untyped-def]
    lines = [
        SECTION,
        "",
        f"`benchmarks/bench_protocol.py` on {platform.python_implementation()} {platform.python_version()}, "
        f"{_cpus()} CPUs; token boundaries: {how_counted}; medians of {repeats} samples, each about 80K tokens "
        f"of work (peers: {peer_repeats} runs); "
        "CPU time (`time.process_time`). Thinking is English prose; the calls' arguments are paths, a regex "
        "and, in the 20 KB one, Python source whose strings contain `}`, `<` and `</tool_calls>`.",
        "",
        "| output | chunks | MB | stream CPU s | µs/token | MB/s | whole `parse` ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for size, chunks, _chars, stream, whole, mb in rows:
        lines.append(
            f"| {size // 1000}K tokens{' + 16 calls (one 20 KB)' if size >= 80_000 else ' + 1 call'} | {chunks} | "
            f"{mb:.2f} | {stream:.3f} | {stream / chunks * 1e6:.2f} | {mb / stream:.1f} | {whole * 1000:.1f} |"
        )
    per_token = (rows[2][3] / rows[2][1]) / (rows[0][3] / rows[0][1])
    lines += ["", f"80K/8K stream CPU ratio: **{ratio:.1f}×** for {rows[2][1] / rows[0][1]:.1f}× the tokens "
              f"(per-token cost 80K/8K: {per_token:.2f}; target ≤ 12×); 80K stream: "
              f"**{rows[2][3]:.3f} s** CPU (target ≤ 0.5 s).", ""]
    lines.append(f"Peer: vLLM's streaming `minimax` tool parser — {peer_note}")
    if peer_rows:
        lines += [
            "",
            "| peer | output | CPU s (parser + driving loop) | driving loop alone s | parser alone s | ours s "
            "| peer parser / ours | streamed arguments |",
            "|---|---|---|---|---|---|---|---|",
        ]
        ours = {r[0]: r[3] for r in rows}
        alone: dict[tuple[str, int], float] = {}
        for label, size, cpu, loop, check in peer_rows:
            alone[label, size] = cpu - loop
            lines.append(
                f"| {label} | {size // 1000}K | {cpu:.2f} | {loop:.2f} | {cpu - loop:.2f} | {ours[size]:.3f} | "
                f"{(cpu - loop) / ours[size]:.0f}× | {check} |"
            )
        lines.append("")
        for label in dict.fromkeys(r[0] for r in peer_rows):
            if (label, 8_000) in alone and (label, 80_000) in alone:
                lines.append(
                    f"- {label}: parser CPU 80K/8K = {alone[label, 80_000] / alone[label, 8_000]:.0f}× "
                    f"for 10× the tokens (ours: {ratio:.1f}×)."
                )
    lines.append("")
    write_section("\n".join(lines))


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
