"""A command that runs out of time in the sandbox is a result the model reads, not the end of the run."""

from __future__ import annotations

import json
from typing import Any

from m1agent.sandboxes import DockerSandbox
from m1agent.sandboxes.tools import SandboxToolset

from m1agent import Agent
from m1agent.backends import Completions
from m1agent.testing import VLLMServer


def call(name: str, **arguments: Any) -> str:
    line = json.dumps({"name": name, "arguments": arguments})
    return f"<think>\nRun it.\n</think>\n<tool_calls>\n{line}\n</tool_calls>"


class NoRetries(SandboxToolset):
    """The family with ``max_retries=0``: a single bad call would end the run."""

    async def list_tools(self) -> list[Any]:
        tools = list(await super().list_tools())
        for t in tools:  # built for this toolset alone: changing them touches nobody else's
            t.max_retries = 0
        return tools


async def test_a_timed_out_command_does_not_end_the_run(box: DockerSandbox, counter: Any) -> None:
    script = [call("run_shell", command="sleep 100", timeout=2), "<think>\nIt hung.\n</think>\nThe command hung."]
    async with VLLMServer(script=script, counter=counter) as server:
        result = await Agent(Completions(server.base_url), tools=[NoRetries(box)]).run("Sleep for a while.")
    assert result.stop_reason == "completed", result.error
    shell = next(m for m in result.messages if getattr(m, "name", "") == "run_shell")
    assert shell.is_error and "timed out after 2 s" in shell.content
    assert result.output == "The command hung."
