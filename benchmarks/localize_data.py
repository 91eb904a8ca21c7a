"""The history localization benchmark's data: real bug-fix commits as questions, their files as answers.

Rule (fixed, applied in this order to each repository's history, newest first):
- not a merge; the message says it fixes something (fix/fixes/fixed/bug) and is not a docs/chore/ci/
  deps change;
- it modifies 1-3 non-test source files (all of them existing before the commit) and at least one test;
- the message, without its conventional prefix ("fix(scope):"), PR numbers, URLs and trailers, has at
  least 6 words and names no file (nothing like ``name.ext``);
- the newest ``PER_REPO`` such commits are kept.
The question is that cleaned message; the answer is the modified source files; the pack is built from
the parent commit. ``python benchmarks/localize_data.py`` writes ``data/localize_queries.json`` from
mirrors under ``/work/.mirror`` (or ``$M1AGENT_BENCH_MIRRORS``); the bench only reads that file and
clones the mirrors it names, saying which are missing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUERIES = HERE / "data" / "localize_queries.json"
CLONES = HERE / ".peers" / "history"
MIRRORS = Path(os.environ.get("M1AGENT_BENCH_MIRRORS", "/work/.mirror"))
PER_REPO = 50
# Repository -> role. Tuning looked only at the "dev" repositories; the others are reported untouched.
REPOS = {
    "pallets/flask": "dev",
    "gin-gonic/gin": "dev",
    "psf/requests": "test",
    "pallets/werkzeug": "test",
    "expressjs/express": "test",
    "sveltejs/svelte": "test",
}
SOURCE_EXT = re.compile(r"\.(py|go|js|mjs|cjs|ts|tsx|jsx)$")
_TEST = re.compile(
    r"(^|/)(tests?|spec|__tests__|testdata|fixtures?)(/|$)|(^|/)test_[^/]*$|_test\.\w+$|\.(test|spec)\.\w+$"
)
_FIX = re.compile(r"\b(fix|fixes|fixed|fixing|bug|bugfix)\b", re.IGNORECASE)
_NOT_CODE = re.compile(r"^(docs?|chore|ci|build|deps|style|test|release)(\(|:|!)", re.IGNORECASE)
_PREFIX = re.compile(r"^\s*\w+(\([^)]*\))?!?:\s*")
_TRAILER = re.compile(r"^[A-Za-z-]+-by:|^Signed-off|^Co-authored|^(Fixes|Closes|Refs?|See)\b", re.IGNORECASE)
_FILE_NAME = re.compile(r"\b[\w-]+\.(py|go|js|mjs|cjs|ts|tsx|jsx|json|md|rst|txt|cfg|toml|html|svelte)\b")


def mirror(repo: str) -> Path:
    return MIRRORS / repo.replace("/", "+") / "repo"


def clean_message(subject: str, body: str) -> str:
    """The question: subject without its conventional prefix, then the body's first paragraph."""
    text = _PREFIX.sub("", subject)
    paragraph = []
    for line in body.strip().splitlines():
        if not line.strip():
            if paragraph:
                break
            continue
        if _TRAILER.search(line.strip()):
            break
        paragraph.append(line.strip())
    text = " ".join([text, *paragraph])
    text = re.sub(r"https?://\S+|\(#\d+\)|#\d+", " ", text)
    return re.sub(r"\s+", " ", text).strip()[:600]


def _commits(git_dir: Path) -> list[tuple[str, str, str, str, list[tuple[str, str]]]]:
    out = subprocess.run(
        ["git", "--git-dir", str(git_dir), "log", "--no-merges", "--no-renames",
         "--format=%x00%H%x01%P%x01%s%x01%b%x01", "--name-status", "-n", "6000", "HEAD"],
        capture_output=True, text=True, check=True, errors="replace",
    )  # fmt: skip
    commits = []
    for chunk in out.stdout.split("\0")[1:]:
        sha, parents, subject, body, files = chunk.split("\x01", 4)
        changes = [tuple(line.split("\t", 1)) for line in files.strip().splitlines() if "\t" in line]
        commits.append((sha, parents.split(" ")[0], subject, body, changes))  # type: ignore[arg-type]
    return commits  # type: ignore[return-value]


def select(repo: str) -> list[dict[str, object]]:
    """The newest ``PER_REPO`` commits of ``repo`` that pass the rule."""
    chosen: list[dict[str, object]] = []
    for sha, parent, subject, body, changes in _commits(mirror(repo)):
        if not parent or _NOT_CODE.search(subject) or not _FIX.search(subject + " " + body):
            continue
        tests = [p for _s, p in changes if _TEST.search(p)]
        sources = [(s, p) for s, p in changes if SOURCE_EXT.search(p) and not _TEST.search(p)]
        if not tests or not 1 <= len(sources) <= 3 or any(s != "M" for s, _p in sources):
            continue
        question = clean_message(subject, body)
        if len(question.split()) < 6 or _FILE_NAME.search(question):
            continue
        chosen.append({"repo": repo, "commit": sha, "parent": parent, "query": question,
                       "answer": sorted(p for _s, p in sources)})  # fmt: skip
        if len(chosen) >= PER_REPO:
            break
    return chosen


def main() -> None:
    queries: list[dict[str, object]] = []
    for repo in REPOS:
        if not mirror(repo).is_dir():
            print(f"missing mirror for {repo} at {mirror(repo)}: skipped", file=sys.stderr)
            continue
        picked = select(repo)
        print(f"{repo}: {len(picked)} queries")
        queries += picked
    QUERIES.parent.mkdir(parents=True, exist_ok=True)
    QUERIES.write_text(json.dumps(queries, indent=1) + "\n")


def clone(repo: str) -> Path | None:
    """A work tree of ``repo`` under benchmarks/.peers/history (cloned once from its mirror)."""
    target = CLONES / repo.replace("/", "+")
    if (target / ".git").is_dir():
        return target
    if not mirror(repo).is_dir():
        return None
    CLONES.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(mirror(repo)), str(target)], check=True)
    return target


def checkout(tree: Path, commit: str) -> None:
    """Put ``tree`` at ``commit`` exactly (nothing untracked left over)."""
    subprocess.run(["git", "-C", str(tree), "checkout", "-q", "-f", "--detach", commit], check=True)
    subprocess.run(["git", "-C", str(tree), "clean", "-q", "-fdx"], check=True)


if __name__ == "__main__":
    main()
