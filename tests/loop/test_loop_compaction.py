"""Compaction is the logged exception to prefix stability, and a resumed session folds it the same way."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from loop_helpers import answer, call

from m1agent import Agent, ContextChanged, tool
from m1agent.backends import Completions
from m1agent.context.compaction import STUB_PREFIX, CompactionPolicy, Compactor
from m1agent.session import SessionState
from m1agent.testing import VLLMServer


@tool
def fetch(page: int) -> str:
    """Fetch a long page."""
    return f"page {page}: " + "lorem ipsum dolor sit amet " * 300


async def test_compaction_event_breaks_the_prefix_once_and_resume_folds_it(counter: Any, tmp_path: Path) -> None:
    script = [call("fetch", page=i) for i in range(5)] + [answer("Read them all.")]
    compactor = Compactor(CompactionPolicy(limit=6_000, trigger=0.8, target=0.5, keep_recent=2, stale_turns=1,
                                           min_stub_tokens=100), counter)
    async with VLLMServer(script=script, counter=counter) as server:
        agent = Agent(Completions(server.base_url), tools=[fetch], compactor=compactor, sessions=tmp_path,
                      max_result_chars=50_000)
        events = [e async for e in agent.stream("Read pages 0 to 4.", session_id="s")]
        prompts = [b["prompt"] for b in server.bodies]
    assert events[-1].kind == "run_finished" and events[-1].stop_reason == "completed"
    compactions = [i for i, e in enumerate(events) if isinstance(e, ContextChanged) and e.what == "compaction"]
    assert compactions
    broken = [i for i, (a, b) in enumerate(itertools.pairwise(prompts)) if not b.startswith(a)]
    assert len(broken) == len(compactions)  # every break in the prefix is a logged compaction
    assert STUB_PREFIX in prompts[-1] and "page 0: lorem" not in prompts[-1]
    folded = SessionState.from_events(agent.sessions.load("s"))
    assert folded.history == events[compactions[-1]].messages + folded.history[len(events[compactions[-1]].messages):]
    assert any(STUB_PREFIX in getattr(m, "content", "") for m in folded.history)


async def test_an_elided_output_is_read_back_with_read_output_in_the_same_session(counter: Any, tmp_path: Path) -> None:
    # The stub names read_output, the one tool every agent has; it reads the session's own store.
    def read_back(body: dict[str, Any]) -> str:
        stubbed = body["prompt"].split(STUB_PREFIX, 1)[1].split('read_output(id="', 1)[1].split('"', 1)[0]
        return call("read_output", id=stubbed)

    script = [call("fetch", page=i) for i in range(5)] + [read_back, answer("Page 0 said lorem ipsum.")]
    compactor = Compactor(CompactionPolicy(limit=6_000, trigger=0.8, target=0.5, keep_recent=2, stale_turns=1,
                                           min_stub_tokens=100), counter)
    async with VLLMServer(script=script, counter=counter) as server:
        agent = Agent(Completions(server.base_url), tools=[fetch], compactor=compactor, sessions=tmp_path,
                      max_result_chars=50_000)
        result = await agent.run("Read pages 0 to 4, then look at page 0 again.")
    assert result.completed
    recalled = [m for m in result.messages if getattr(m, "name", "") == "read_output"]
    assert len(recalled) == 1 and not recalled[0].is_error
    assert "page 0: lorem ipsum dolor sit amet" in recalled[0].content
