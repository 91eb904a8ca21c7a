"""Sessions: JSONL flushed per event, exact context on resume, kill -9 mid-turn loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from loop_helpers import answer, call, calls

from m1agent import Agent, tool
from m1agent.backends.replay import Replay
from m1agent.messages import AssistantMessage, SystemMessage, ToolResultMessage, UserMessage
from m1agent.session import SessionState, SessionStore
from m1agent.testing.cassette import Cassette, record


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


@tool(needs_approval=True)
def delete(key: str) -> str:
    """Delete a key."""
    return f"deleted {key}"


async def test_transcript_is_flushed_per_event_and_folds_back_to_the_same_context(tmp_path: Path) -> None:
    seen_on_disk: list[int] = []
    path = tmp_path / "s1" / "transcript.jsonl"
    agent = Agent(Replay.from_outputs([call("lookup", key="a"), answer("A")]), "Be exact.", [lookup],
                  sessions=tmp_path, keep_thinking=True)
    async for _event in agent.stream("go", session_id="s1"):
        seen_on_disk.append(len(path.read_bytes().splitlines()))  # already written when we see it
    assert all(n >= i + 1 for i, n in enumerate(seen_on_disk))
    lines = [json.loads(line) for line in path.read_bytes().splitlines()]
    assert lines[0]["kind"] == "context_changed" and lines[-1]["kind"] == "run_finished"
    state = SessionState.from_events(SessionStore(tmp_path).load("s1"))
    assert state.history == [
        SystemMessage("Be exact."), UserMessage("go"), state.history[2],
        ToolResultMessage("call_0_0", "lookup", "[lookup] value of a"), state.history[4],
    ]
    assert isinstance(state.history[2], AssistantMessage) and state.history[2].thinking == "I will use tools."
    assert state.view == state.history  # keep_thinking was recorded, so the fold keeps it too

    # Continuing the conversation appends to the same transcript.
    more = Agent(Replay.from_outputs([answer("B")]), "Be exact.", [lookup], sessions=tmp_path, keep_thinking=True)
    result = await more.run("and again", session_id="s1")
    assert result.output == "B" and len(result.messages) == 7


async def test_resume_sends_exactly_the_request_an_uninterrupted_run_sends(tmp_path: Path) -> None:
    script = [calls(("lookup", {"key": "a"}), ("delete", {"key": "a"})), answer("gone")]
    cassette_path = tmp_path / "run.cassette"
    recorder = record(Replay.from_outputs(script), cassette_path)
    straight = Agent(recorder, tools=[lookup, delete], approver=lambda r: True)
    assert (await straight.run("clean up")).output == "gone"
    cassette = Cassette.load(cassette_path)

    # The same run, stopped at the approval and resumed by another agent: every request must match.
    first = Agent(Replay(cassette, strict=True), tools=[lookup, delete], sessions=tmp_path)
    pending = await first.run("clean up", session_id="s2")
    assert pending.stop_reason == "approval_pending"
    second = Agent(Replay(cassette, strict=True, position=1), tools=[lookup, delete], sessions=tmp_path)
    resumed = await second.resume("s2", approvals={"call_0_1": True})
    assert resumed.stop_reason == "completed" and resumed.output == "gone", resumed.error


async def test_strict_replay_catches_an_agent_that_changed(tmp_path: Path) -> None:
    cassette_path = tmp_path / "c.jsonl"
    recorder = record(Replay.from_outputs([call("lookup", key="a"), answer("A")]), cassette_path)
    await Agent(recorder, tools=[lookup]).run("x")

    @tool(name="lookup")
    def other_lookup(key: str) -> str:
        """Look a key up, differently."""
        return f"other {key}"

    changed = await Agent(Replay(cassette_path), tools=[other_lookup]).run("x")
    assert changed.stop_reason == "backend_error" and "differs from the recording" in changed.error
    same = await Agent(Replay(cassette_path), tools=[lookup]).run("x")
    assert same.stop_reason == "completed" and same.output == "A"


CHILD = """
import sys, time
from m1agent import Agent, tool
from m1agent.backends.replay import Replay

ran = sys.argv[2]

@tool
def quick(x: int) -> str:
    return f"quick {{x}}"

@tool
def transfer(amount: int) -> str:
    with open(ran, "a") as f:
        f.write("ran\\n")
    time.sleep(60)
    return "transferred"

script = [{script!r}]
agent = Agent(Replay.from_outputs(script), tools=[quick, transfer], sessions=sys.argv[1])
agent.run_sync("move money", session_id="s3")
"""


def test_kill_9_mid_turn_then_resume_reports_the_started_call_and_never_reruns_it(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    script = calls(("quick", {"x": 1}), ("transfer", {"amount": 10}))
    child = textwrap.dedent(CHILD).format(script=script)
    proc = subprocess.Popen([sys.executable, "-c", child, str(tmp_path), str(ran)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not ran.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    transcript = (tmp_path / "s3" / "transcript.jsonl").read_bytes().splitlines()
    kinds = [json.loads(line)["kind"] for line in transcript]
    assert "run_finished" not in kinds and kinds.count("tool_call_started") == 2
    assert kinds.count("tool_call_finished") == 1  # quick finished, transfer never did

    @tool
    def transfer(amount: int) -> str:
        """Would move money again: must not run."""
        ran.write_text(ran.read_text() + "ran again\n")
        return "transferred"

    @tool
    def quick(x: int) -> str:
        """Quick."""
        return f"quick {x}"

    agent = Agent(Replay.from_outputs([answer("I could not confirm the transfer.")]), tools=[quick, transfer],
                  sessions=tmp_path)
    result = agent.resume_sync("s3")
    assert result.stop_reason == "completed" and result.output == "I could not confirm the transfer."
    assert ran.read_text() == "ran\n"
    results = [m for m in result.messages if isinstance(m, ToolResultMessage)]
    assert results[0].content == "[quick] quick 1"
    assert results[1].name == "transfer" and results[1].is_error
    assert "may or may not have taken effect" in results[1].content and "not run again" in results[1].content
    assert [type(m).__name__ for m in result.messages] == [
        "UserMessage", "AssistantMessage", "ToolResultMessage", "ToolResultMessage", "AssistantMessage"]


async def test_memory_sessions_are_bounded_and_disk_sessions_stay() -> None:
    store = SessionStore(keep=3)
    agent = Agent(Replay.from_outputs([answer("x")] * 5), sessions=store)
    ids = [(await agent.run("hi")).session_id for _ in range(5)]
    assert store.sessions() == sorted(ids[2:])
    assert not store.exists(ids[0]) and store.exists(ids[4])


STREAMING_CHILD = """
import sys
from m1agent import Agent
from m1agent.backends import Completions

agent = Agent(Completions(sys.argv[2]), sessions=sys.argv[1])
agent.run_sync("Tell me a story.", session_id="s4")
"""


def test_kill_9_while_the_model_streams_then_resume_asks_again(tmp_path: Path, counter: object) -> None:
    from m1agent.testing import VLLMServer

    story = "<think>\n" + "Planning the story. " * 60 + "\n</think>\nOnce upon a time."
    transcript = tmp_path / "s4" / "transcript.jsonl"
    with VLLMServer(script=[story, story], counter=counter, chunk_chars=8, chunk_delay=0.02) as server:
        proc = subprocess.Popen([sys.executable, "-c", STREAMING_CHILD, str(tmp_path), server.base_url],
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not (transcript.exists() and transcript.read_bytes().count(b'"thinking_delta"') >= 3):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        kinds = [json.loads(line)["kind"] for line in transcript.read_bytes().splitlines()]
        assert kinds[:2] == ["run_started", "turn_started"] and "turn_finished" not in kinds

        from m1agent.backends import Completions

        result = Agent(Completions(server.base_url), sessions=tmp_path).resume_sync("s4")
        prompts = [b["prompt"] for b in server.bodies]
    assert result.stop_reason == "completed" and result.output == "Once upon a time."
    assert prompts[0] == prompts[1]  # the partial answer was not sent back: the same request again
    assert [type(m).__name__ for m in result.messages] == ["UserMessage", "AssistantMessage"]
