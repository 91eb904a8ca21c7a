"""The reasoning-history modes shape only the copy sent to the backend."""

from m1agent.messages import AssistantMessage, UserMessage
from m1agent.thinking import ReasoningHistory

HISTORY = [UserMessage("a"), AssistantMessage(text="1", thinking="t1"), UserMessage("b"),
           AssistantMessage(text="2", thinking="t2"), UserMessage("c")]


def _thoughts(messages: list) -> list[str]:
    return [m.thinking for m in messages if isinstance(m, AssistantMessage)]


async def test_strip_keep_and_last_n() -> None:
    assert _thoughts(await ReasoningHistory("strip").apply(HISTORY)) == ["", ""]
    assert _thoughts(await ReasoningHistory("keep").apply(HISTORY)) == ["t1", "t2"]
    assert _thoughts(await ReasoningHistory("keep_last_n", last_n=1).apply(HISTORY)) == ["", "t2"]
    assert _thoughts(HISTORY) == ["t1", "t2"]


async def test_summarize_is_cached() -> None:
    calls: list[str] = []

    async def summarize(text: str) -> str:
        calls.append(text)
        return f" short {text} "

    policy = ReasoningHistory("summarize", summarizer=summarize)
    assert _thoughts(await policy.apply(HISTORY)) == ["short t1", "short t2"]
    assert _thoughts(await policy.apply(HISTORY)) == ["short t1", "short t2"]
    assert calls == ["t1", "t2"]
