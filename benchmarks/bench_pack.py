"""Repository packing: m1agent pack against repomix, gitingest and files-to-prompt on the same trees.

One command: ``.venv/bin/python benchmarks/bench_pack.py [--repeat N] [--skip-large]``.
It downloads two public source trees (the requests and django sdists) into ``benchmarks/.peers/``,
turns each into a git repository, installs the peers there (idempotent), and measures in one run:
wall time and peak RSS of each tool as a separate process (medians of repeats), and the M1 tokens of
each output. Ours runs cold (fresh cache) to a 1M budget with ranking on, and warm. A retrieval check
asks 24 questions about requests and checks the right file lands whole in a 50K pack.
Figures go to the "Context" section of ``benchmarks/RESULTS.md``.

``--localize`` runs the history localization benchmark instead (localize_eval.py): real bug-fix
commits as questions, m1agent against whole-file BM25 and aider's repo map in the same run, into the
"Context: localization" section. ``--setup`` installs bm25s and aider (into benchmarks/.peers/aider)
and writes the query file from the mirrors; both steps skip what is already there.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / ".peers"
DATA = PEERS / "data"
PY = Path(sys.executable)
TOKENIZER = ROOT.parent / "shared" / "m1-tokenizer"
TREES = {"requests": "requests==2.34.2", "django": "django==5.2.19"}
QUERY = "how are redirects followed and authentication handled"

RETRIEVAL = [
    ("How does the session strip the Authorization header on a redirect to another host?", "sessions.py"),
    ("How does HTTPAdapter send a request and map connect and read timeouts?", "adapters.py"),
    ("How does HTTPBasicAuth encode the username and password (_basic_auth_str)?", "auth.py"),
    ("How does HTTPDigestAuth build the digest header for a challenge?", "auth.py"),
    ("Where is CaseInsensitiveDict defined?", "structures.py"),
    ("Which exception says there were too many redirects?", "exceptions.py"),
    ("How does get_environ_proxies honour no_proxy?", "utils.py"),
    ("How are cookies from a response extracted into the cookie jar?", "cookies.py"),
    ("How does Response.iter_content stream and decode chunks?", "models.py"),
    ("How is the status code name lookup table (codes) built?", "status_codes.py"),
    ("How does PreparedRequest encode multipart file uploads?", "models.py"),
    ("Where is the requests.get convenience function defined?", "api.py"),
    ("How are response hooks dispatched (dispatch_hook)?", "hooks.py"),
    ("Where does requests find the certifi CA bundle (certs where)?", "certs.py"),
    ("How is the bug report system information gathered (help info, platform, urllib3 version)?", "help.py"),
    ("What does requote_uri do with unreserved characters?", "utils.py"),
    ("How does the LookupDict class work?", "structures.py"),
    ("How does merge_setting combine request and session settings?", "sessions.py"),
    ("How does guess_json_utf detect the encoding of JSON bytes?", "utils.py"),
    ("How are Proxy-Authorization headers built for a proxy (proxy_headers)?", "adapters.py"),
    ("How does merge_cookies add cookies to a cookiejar?", "cookies.py"),
    ("Where is the package version string __version__ defined?", "__version__.py"),
    ("How does Session.rebuild_method change POST to GET after a 302 or 303?", "sessions.py"),
    ("How does a Response raise_for_status build the HTTPError message?", "models.py"),
]


def ensure_peers() -> dict[str, list[str]]:
    """Install the peers into benchmarks/.peers (skips what is there); their command lines."""
    venv = PEERS / "py"
    if not (venv / "bin" / "gitingest").exists() or not (venv / "bin" / "files-to-prompt").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "gitingest", "files-to-prompt"], check=True)
    npm_dir = PEERS / "npm"
    repomix = npm_dir / "node_modules" / ".bin" / "repomix"
    if not repomix.exists():
        npm_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(npm_dir), "repomix"], check=True)
    return {
        "repomix": [str(repomix), "--quiet", "-o", "{out}", "{tree}"],
        "gitingest": [str(venv / "bin" / "gitingest"), "{tree}", "-o", "{out}"],
        "files-to-prompt": [str(venv / "bin" / "files-to-prompt"), "{tree}", "-o", "{out}"],
    }


def ensure_tree(name: str, requirement: str) -> Path:
    """The sdist of ``requirement`` unpacked and committed as a git repository (cached)."""
    target = DATA / name
    if (target / ".git").is_dir():
        return target
    DATA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                ":all:",
                requirement,
                "-d",
                tmp,
            ],
            check=True,
        )
        archive = next(Path(tmp).glob("*.tar.gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        top = next(p for p in Path(tmp).iterdir() if p.is_dir())
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(top), target)
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.org",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.org")  # fmt: skip
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "sdist"]):
        subprocess.run(["git", "-C", str(target), *args], check=True, env=env)
    return target


CPU: dict[str, list[float]] = {}


def run_measured(cmd: list[str], env: dict[str, str] | None = None, *, label: str = "") -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit code of one child process; its CPU seconds (user + system,
    which a busy machine inflates far less than wall time) are kept under ``label``."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    if label:
        CPU.setdefault(label, []).append(usage.ru_utime + usage.ru_stime)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def ours_cmd(tree: Path, out: Path, *, query: str, budget: int) -> list[str]:
    """Our CLI as a separate process, so startup and tokenizer loading count as they do for peers."""
    return [str(PY), "-m", "m1agent", "pack", str(tree), "--query", query, "--budget", str(budget),
            "--output", str(out), "--tokenizer", str(TOKENIZER), "--json"]  # fmt: skip


def in_process(tree: Path, work: Path, repeat: int, counter: object) -> tuple[float, float]:
    """Median seconds of ``pack_repository`` called in a warm interpreter (as the pack_repo tool
    runs inside an agent): cold = fresh cache, warm = the same cache again."""
    from m1agent.context.pack import PackOptions, pack_repository

    cold, warm = [], []
    for i in range(repeat):
        opts = PackOptions(query=QUERY, budget=1_000_000, cache_dir=work / f"lib{i}")
        start, cpu = time.perf_counter(), time.process_time()
        pack_repository(tree, opts, counter=counter)  # type: ignore[arg-type]
        cold.append(time.perf_counter() - start)
        CPU.setdefault(f"{tree.name}:m1agent library cold", []).append(time.process_time() - cpu)
        start, cpu = time.perf_counter(), time.process_time()
        pack_repository(tree, opts, counter=counter)  # type: ignore[arg-type]
        warm.append(time.perf_counter() - start)
        CPU.setdefault(f"{tree.name}:m1agent library warm", []).append(time.process_time() - cpu)
    return statistics.median(cold), statistics.median(warm)


def bench_tree(name: str, tree: Path, peers: dict[str, list[str]], repeat: int, counter: object) -> list[str]:
    """Rows of the results table for one tree."""
    rows: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="bench-ctx-"))
    results: dict[str, tuple[float, float, int]] = {}
    try:
        cold_t, cold_rss = [], []
        out = work / "ours.txt"
        for i in range(repeat):
            env = dict(os.environ, M1AGENT_CACHE_DIR=str(work / f"cache{i}"))
            t, rss, code = run_measured(
                ours_cmd(tree, out, query=QUERY, budget=1_000_000), env, label=f"{name}:m1agent CLI cold"
            )
            assert code == 0, f"m1agent pack failed on {name}"
            cold_t.append(t)
            cold_rss.append(rss)
        warm_t, warm_rss = [], []
        env = dict(os.environ, M1AGENT_CACHE_DIR=str(work / "cache0"))
        for _ in range(repeat):
            t, rss, _code = run_measured(
                ours_cmd(tree, out, query=QUERY, budget=1_000_000), env, label=f"{name}:m1agent CLI warm"
            )
            warm_t.append(t)
            warm_rss.append(rss)
        ours_tokens = counter.count(out.read_text())  # type: ignore[attr-defined]
        results["m1agent CLI cold"] = (statistics.median(cold_t), max(cold_rss), ours_tokens)
        results["m1agent CLI warm"] = (statistics.median(warm_t), max(warm_rss), ours_tokens)
        lib_cold, lib_warm = in_process(tree, work, repeat, counter)
        results["m1agent library cold"] = (lib_cold, 0.0, ours_tokens)
        results["m1agent library warm"] = (lib_warm, 0.0, ours_tokens)
        t_import, rss_import, _code = run_measured(
            [str(PY), "-c", "import m1agent.cli.pack_cmd"], label=f"{name}:(python + import m1agent)"
        )
        results["(python + import m1agent)"] = (t_import, rss_import, 0)
        for peer, template in peers.items():
            peer_out = work / f"{peer}.txt"
            times, rsss = [], []
            for _ in range(repeat):
                cmd = [part.replace("{out}", str(peer_out)).replace("{tree}", str(tree)) for part in template]
                t, rss, code = run_measured(cmd, label=f"{name}:{peer}")
                if code != 0:
                    break
                times.append(t)
                rsss.append(rss)
            if not times or not peer_out.exists():
                rows.append(f"| {name} | {peer} | failed | | | | | |")
                continue
            tokens = counter.count(peer_out.read_text("utf-8", errors="replace"))  # type: ignore[attr-defined]
            results[peer] = (statistics.median(times), max(rsss), tokens)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = results.get("repomix", (0.0, 0.0, 0))[0]
    base_cpu = statistics.median(CPU.get(f"{name}:repomix", [0.0]))
    for tool, (t, rss, tokens) in results.items():
        cpu = statistics.median(CPU.get(f"{name}:{tool}", [0.0]))
        ratio = f"{base / t:.1f}×" if base and tool != "repomix" else ("1.0×" if tool == "repomix" else "")
        cpu_ratio = f"{base_cpu / cpu:.1f}×" if base_cpu and cpu else ""
        rss_text = f"{rss:.0f}" if rss else "(in process)"
        tokens_text = f"{tokens:,}" if tokens else ""
        rows.append(f"| {name} | {tool} | {t:.2f} | {cpu:.2f} | {rss_text} | {tokens_text} | {ratio} | {cpu_ratio} |")
        print(rows[-1], flush=True)
    return rows


def retrieval_check(tree: Path, counter: object) -> tuple[int, int, list[str]]:
    """Questions whose answer file is packed whole (or in focus) within a 50K budget."""
    from m1agent.context.pack import PackOptions, pack_repository

    cache = Path(tempfile.mkdtemp(prefix="bench-ret-"))
    hits, misses = 0, []
    try:
        for question, expected in RETRIEVAL:
            result = pack_repository(tree, PackOptions(query=question, budget=50_000, cache_dir=cache), counter=counter)  # type: ignore[arg-type]
            whole = {e.path.rsplit("/", 1)[-1] for e in result.ledger.entries if e.level == "full"}
            if expected in whole:
                hits += 1
            else:
                misses.append(f"{question} -> {expected}")
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return hits, len(RETRIEVAL), misses


def write_results(section: str) -> None:
    """Replace the "Context" section of RESULTS.md with ``section``."""
    path = HERE / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(r"## Context\n.*?(?=\n## |\Z)", re.DOTALL)
    text = pattern.sub(section.rstrip() + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-large", action="store_true", help="Only the requests tree.")
    parser.add_argument("--localize", action="store_true", help="The history localization benchmark.")
    parser.add_argument("--setup", action="store_true", help="Install its peers and write its queries.")
    parser.add_argument("--limit", type=int, default=25, help="Queries per repository (localization).")
    args = parser.parse_args()
    if args.setup or args.localize:
        from localize_report import run

        run(setup=args.setup, limit=args.limit)
        return
    load_at_start = os.getloadavg()[0]
    from m1agent.tokens import load_counter

    counter = load_counter(TOKENIZER)
    peers = ensure_peers()
    rows: list[str] = []
    for name, requirement in TREES.items():
        if name == "django" and args.skip_large:
            continue
        tree = ensure_tree(name, requirement)
        rows += bench_tree(name, tree, peers, args.repeat, counter)
    hits, total, misses = retrieval_check(ensure_tree("requests", TREES["requests"]), counter)
    print(f"retrieval: {hits}/{total} answer files packed whole in 50K", flush=True)
    for miss in misses:
        print(f"  missed: {miss}")
    section = "\n".join(
        [
            "## Context",
            "",
            f"`python benchmarks/bench_pack.py` (medians of {args.repeat} runs, each tool a separate process;",
            "tokens of each output counted with the M1 counter; ours packs to a 1M budget with ranking on,",
            f'query "{QUERY}"; cold = fresh cache, warm = second run; ratio = repomix time / tool time).',
            "CLI rows include interpreter start and importing the m1agent package; library rows are",
            "`pack_repository` in a running interpreter, as the pack_repo tool runs inside an agent.",
            f"Machine: {os.cpu_count()} cores, load average at start {load_at_start:.1f} "
            "(other jobs shared the machine: compare ratios within this run, not across runs).",
            "",
            "| tree | tool | wall s | CPU s | peak RSS MB | M1 tokens | wall: repomix / tool | CPU: repomix / tool |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Retrieval check (requests, 50K budget): the answer file is packed whole for {hits} of {total} questions.",
            "",
        ]
    )
    write_results(section)


if __name__ == "__main__":
    main()
