"""The README's SDK section, run as written against the loopback server; and the Agent methods it names."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

from loop_helpers import answer, call

from m1agent import Agent, tool
from m1agent.backends import Completions, MiniMax, RetryPolicy
from m1agent.context.compaction import CompactionPolicy, Compactor
from m1agent.testing import MiniMaxServer, VLLMServer
from m1agent.testing.faults import Fault
from m1agent.thinking import ThinkingBudget, ThinkingGovernor

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SDK = README.split("## The SDK", 1)[1].split("\n## ", 1)[0]
BLOCKS = re.findall(r"```python\n(.*?)```", SDK, re.S)


async def run_block(source: str, namespace: dict[str, Any]) -> None:
    """A block as an async function body, so that its ``async for`` runs as a user's coroutine would."""
    code = "async def __block():\n" + textwrap.indent(source, "    ") + "\n    return locals()\n"
    exec(compile(code, "README.md", "exec"), namespace)
    namespace.update(await namespace["__block"]())


async def test_stream_then_typed_errors_as_the_readme_shows(counter: Any, capsys: Any) -> None:
    stream_block = next(b for b in BLOCKS if "agent.stream(" in b and "RunFinished" in b)
    errors_block = next(b for b in BLOCKS if "AuthenticationFailed" in b)

    @tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return f"{city}: 18°C"

    async with VLLMServer(script=[call("get_weather", city="Rome"), answer("Sunny in Rome.")], counter=counter) as s:
        namespace: dict[str, Any] = {"agent": Agent(Completions(s.base_url), tools=[get_weather])}
        await run_block(stream_block, namespace)
    assert namespace["result"].output == "Sunny in Rome." and namespace["result"].completed
    assert "Sunny in Rome." in capsys.readouterr().out

    key = "sk-readme-0123456789"
    async with MiniMaxServer([answer("x")], faults={0: Fault.base_resp(1004)}, api_key=key, counter=counter) as s:
        result = await Agent(MiniMax(api_key=key, host=s.host, retry=RetryPolicy(max_retries=0))).run("Hi")
    namespace = {"result": result}
    await run_block(errors_block, namespace)
    assert "check MINIMAX_API_KEY" in capsys.readouterr().out


async def test_replace_gives_a_new_agent_and_leaves_the_first_as_it_was(counter: Any) -> None:
    first = Agent(Completions("http://127.0.0.1:9/v1"), instructions="Be brief.",
                  thinking=ThinkingGovernor(ThinkingBudget(per_turn=1_000)))
    second = first.replace(thinking=ThinkingGovernor(ThinkingBudget(per_turn=200)))
    assert first.thinking.budget.per_turn == 1_000 and second.thinking.budget.per_turn == 200
    assert second.instructions == "Be brief." and second.sessions is first.sessions
    try:
        first.replace(thinkng=None)
    except TypeError as exc:
        assert "thinkng" in str(exc)
    else:
        raise AssertionError("a misspelt setting must be refused")


async def test_compact_now_is_recorded_and_elided_outputs_stay_readable(counter: Any, tmp_path: Path) -> None:
    @tool
    def fetch(page: int) -> str:
        """Fetch a long page."""
        return f"page {page}: " + "lorem ipsum dolor sit amet " * 300

    script = [call("fetch", page=i) for i in range(4)] + [answer("Read them.")]
    async with VLLMServer(script=script, counter=counter) as server:
        agent = Agent(Completions(server.base_url), tools=[fetch], sessions=tmp_path, max_result_chars=50_000)
        result = await agent.run("Read pages 0 to 3.")
    compactor = Compactor(CompactionPolicy(limit=1_000, trigger=0.0, target=0.3, keep_recent=2, stale_turns=1,
                                           min_stub_tokens=50), counter)
    compacted = await agent.compact(result.session_id, compactor)
    assert compacted is not None and compacted.stubbed
    state = agent.load_state(result.session_id)
    assert state.history == compacted.messages  # the transcript holds the compaction, as a run's would
    stored = agent.sessions.open(result.session_id).read_output(compacted.stubbed[0])
    assert stored is not None and "lorem ipsum" in stored
