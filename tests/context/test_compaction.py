"""Compaction: late, lossless first, the task and instructions verbatim, never twice on the same content."""

from __future__ import annotations

from m1agent.context.compaction import STUB_PREFIX, SUMMARY_PREFIX, CompactionPolicy, Compactor
from m1agent.messages import AssistantMessage, SystemMessage, ToolResultMessage, UserMessage
from m1agent.protocol.types import ToolCallPart
from m1agent.session import SessionState

SYSTEM = SystemMessage("You are a careful coding agent. Never delete files.")
TASK = UserMessage("Find why the invoice total is off by one cent and fix it.")


def _conversation(turns: int, output_words: int = 400) -> list:
    msgs: list = [SYSTEM, TASK]
    for t in range(turns):
        call = ToolCallPart("read_file", {"path": f"src/f{t}.py"}, id=f"call_{t}_0")
        msgs.append(AssistantMessage(text=f"step {t}", tool_calls=(call,), thinking=f"thinking about step {t} " * 50))
        body = " ".join(f"line{t}_{w}" for w in range(output_words))
        msgs.append(ToolResultMessage(call.id, "read_file", body))
    msgs.append(AssistantMessage(text="Nearly done.", thinking="final thoughts " * 20))
    return msgs


async def test_not_compacted_below_the_trigger(counter):
    compactor = Compactor(CompactionPolicy(limit=1_000_000), counter)
    assert await compactor.compact(_conversation(3)) is None


async def test_stubs_first_and_outputs_stay_readable_by_id(counter):
    msgs = _conversation(10)
    compactor = Compactor(CompactionPolicy(limit=1), counter)
    size = compactor.tokens(msgs)
    compactor.policy = CompactionPolicy(limit=int(size / 0.9), target=0.7)
    result = await compactor.compact(msgs)
    assert result is not None
    assert result.steps[0] == "stub_tool_outputs"
    assert result.tokens_after < result.tokens_before
    stubs = [m for m in result.messages if isinstance(m, ToolResultMessage) and m.content.startswith(STUB_PREFIX)]
    assert stubs and stubs[0].call_id == "call_0_0"  # oldest first
    # the recent turns are untouched, and every stub can be read back through the tool
    assert not result.messages[-2].content.startswith(STUB_PREFIX)
    original = next(m for m in msgs if isinstance(m, ToolResultMessage) and m.call_id == "call_0_0")
    assert result.elided["call_0_0"] == original.content
    assert 'read_output(id="call_0_0")' in stubs[0].content
    assert set(result.elided) == set(result.stubbed)


async def test_thinking_then_summary_keep_task_and_instructions_verbatim(counter):
    msgs = _conversation(12)
    compactor = Compactor(CompactionPolicy(limit=1), counter)
    size = compactor.tokens(msgs)
    compactor.policy = CompactionPolicy(limit=int(size / 0.9), target=0.05, keep_recent=3)
    seen: list[str] = []

    async def summarize(text: str) -> str:
        seen.append(text)
        return "Read f0..f8; the rounding happens in round_cents."

    result = await compactor.compact(msgs, summarize=summarize)
    assert result is not None
    assert result.steps == ["stub_tool_outputs", "drop_thinking", "summarize"]
    assert result.messages[0] == SYSTEM and result.messages[1] == TASK
    summary = result.messages[2]
    assert isinstance(summary, UserMessage) and summary.content.startswith(SUMMARY_PREFIX)
    assert "round_cents" in summary.content
    assert "Find why the invoice" not in seen[0]  # the task is never summarized away
    # the last thought survives; older ones are gone
    thinking = [m.thinking for m in result.messages if isinstance(m, AssistantMessage) and m.thinking]
    assert thinking == ["final thoughts " * 20]
    # no tool result lost its call: every result follows the assistant message that made the call
    ids_called = {c.id for m in result.messages if isinstance(m, AssistantMessage) for c in m.tool_calls}
    assert {m.call_id for m in result.messages if isinstance(m, ToolResultMessage)} <= ids_called
    assert result.tokens_after < result.tokens_before


async def test_never_compacts_the_same_content_twice(counter):
    msgs = _conversation(10)
    compactor = Compactor(CompactionPolicy(limit=1), counter)
    size = compactor.tokens(msgs)
    compactor.policy = CompactionPolicy(limit=int(size / 0.9), target=0.05)
    calls = 0

    async def summarize(text: str) -> str:
        nonlocal calls
        calls += 1
        return "summary"

    first = await compactor.compact(msgs, summarize=summarize)
    assert first is not None
    assert await compactor.compact(msgs, summarize=summarize) is None
    assert await compactor.compact(first.messages, summarize=summarize) is None
    assert calls == 1


async def test_the_event_replaces_history_in_the_session(counter):
    msgs = _conversation(8)
    compactor = Compactor(CompactionPolicy(limit=1), counter)
    compactor.policy = CompactionPolicy(limit=int(compactor.tokens(msgs) / 0.9), target=0.6)
    result = await compactor.compact(msgs)
    assert result is not None
    event = result.event()
    assert event.what == "compaction" and '"stub_tool_outputs"' in event.detail
    state = SessionState(history=list(msgs), view=list(msgs))
    state.apply(event)
    assert state.history == result.messages
