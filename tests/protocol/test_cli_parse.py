"""``m1agent parse`` through the installed console script, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "corpus"
M1AGENT = Path(sys.executable).with_name("m1agent")


def run(stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(M1AGENT), "parse", *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("case", "chunk"),
    [("two_calls_official_example", None), ("invalid_json_line_skipped", "1"), ("unicode_arguments", "5")],
)
def test_json_output_is_the_corpus_form(case: str, chunk: str | None) -> None:
    args = ["--json"] + (["--chunk", chunk] if chunk else [])
    done = run((CORPUS / f"{case}.txt").read_text(encoding="utf-8"), *args)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert list(got) == ["thinking", "text", "tool_calls", "problems"]
    assert got == json.loads((CORPUS / f"{case}.json").read_text(encoding="utf-8"))


def test_problems_are_sorted_kinds() -> None:
    text = '<think>\nx <tool_calls>\n{}\n</tool_calls>\n</think>\n<tool_calls>\n{"arguments": {}}\n'
    got = json.loads(run(text, "--json").stdout)
    assert got["problems"] == ["tool_call_in_thinking", "tool_call_missing_name", "unclosed_tool_calls"]


def test_human_output_shows_every_part() -> None:
    text = (CORPUS / "text_after_calls.txt").read_text(encoding="utf-8") + "\n<tool_calls>\nnot json\n</tool_calls>"
    done = run(text)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for expected in ("thinking", "Run tests.", "Running the tests now.", "call_0_0", "run", '"pytest -q"',
                     "invalid_tool_call_json", "not json"):
        assert expected in out


def test_chunk_must_not_be_negative() -> None:
    done = run("hi", "--chunk", "-1")
    assert done.returncode != 0
    assert "--chunk" in done.stderr
