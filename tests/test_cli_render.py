"""``m1agent render`` and ``m1agent tokens``, run as the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from m1agent.tokens import BPECounter, load_counter

GOLDEN = json.loads((Path(__file__).parent / "protocol" / "golden" / "render_cases.json").read_text(encoding="utf-8"))
BY_NAME = {case["name"]: case for case in GOLDEN["cases"]}


def _run(args: list[str], stdin: bytes, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items() if k not in ("M1AGENT_TOKENIZER", "HF_HUB_CACHE")}
    return subprocess.run(
        [sys.executable, "-m", "m1agent", *args],
        input=stdin,
        capture_output=True,
        env={**base, **(env or {})},
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("name", ["two_call_round_trip", "unicode_whitespace_trim"])
def test_render_prints_the_exact_prompt(name: str) -> None:
    case = BY_NAME[name]
    request = {"messages": case["messages"], "tools": case["tools"]}
    flag = "--generation-prompt" if case["add_generation_prompt"] else "--no-generation-prompt"
    result = _run(["render", flag, "--template", "vllm-main"], json.dumps(request, ensure_ascii=False).encode("utf-8"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == case["expected"].encode("utf-8")


def test_render_without_tools_key() -> None:
    stdin = b'{"messages": [{"role": "user", "content": "Hello"}]}'
    result = _run(["render", "--no-generation-prompt", "--template", "vllm-main"], stdin)
    assert result.stdout.decode("utf-8") == BY_NAME["user_only_no_generation_prompt"]["expected"]
    default = _run(["render"], stdin)  # M1's own template: no injected system prompt
    assert default.stdout == b"<begin_of_document><beginning_of_sentence>user name=user\nHello<end_of_sentence>\n" \
        b"<beginning_of_sentence>ai name=assistant\n"
    assert _run(["render", "--template", "nope"], stdin).returncode == 2


@pytest.mark.parametrize(
    ("stdin", "code", "message"),
    [
        (b"{not json", 2, "stdin is not JSON"),
        (b'{"msgs": []}', 2, 'expected {"messages"'),
        (b'{"messages": [], "tools": {}}', 2, '"tools" must be a list'),
        (b'{"messages": []}', 1, "there are no messages to render"),
    ],
)
def test_render_reports_bad_input(stdin: bytes, code: int, message: str) -> None:
    result = _run(["render"], stdin)
    assert result.returncode == code
    assert message in result.stderr.decode("utf-8")
    assert result.stdout == b""


def test_tokens_counts_stdin_exactly(tokenizer_dir: Path, tmp_path: Path) -> None:
    counter = load_counter(tokenizer_dir)
    assert isinstance(counter, BPECounter)
    text = "def f(x):\r\n    return x  # 中文 <end_of_sentence>\n"
    result = _run(["tokens", "--tokenizer", str(tokenizer_dir)], text.encode("utf-8"), {"HF_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == counter.count(text)
    via_env = _run(["tokens", "--json"], text.encode("utf-8"), {"M1AGENT_TOKENIZER": str(tokenizer_dir)})
    report = json.loads(via_env.stdout)
    assert report["count"] == counter.count(text) and report["exact"] is True


def test_tokens_without_a_tokenizer_estimates_and_says_so(tmp_path: Path) -> None:
    result = _run(["tokens"], b"some words to count", {"HF_HOME": str(tmp_path)})
    assert result.returncode == 0
    assert int(result.stdout) > 0
    assert "over-estimate" in result.stderr.decode("utf-8")


def test_tokens_with_a_bad_path_fails_clearly(tmp_path: Path) -> None:
    result = _run(["tokens", "--tokenizer", str(tmp_path / "missing")], b"x")
    assert result.returncode == 1
    assert "does not exist" in result.stderr.decode("utf-8")
