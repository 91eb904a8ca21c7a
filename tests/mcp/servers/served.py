"""What the ``m1agent mcp serve`` tests expose: two tools and an agent on a scripted loopback model."""

from __future__ import annotations

import os

from m1agent import Agent, tool
from m1agent.backends.vllm import VLLM


@tool
def shout(text: str) -> str:
    """Upper-case the text."""
    return text.upper()


@tool
def refuse(reason: str) -> str:
    """Always fail with the reason."""
    raise ValueError(reason)


def make_agent() -> Agent[None]:
    """An agent whose model is the scripted server named by M1AGENT_TEST_VLLM_URL."""
    return Agent(VLLM(os.environ["M1AGENT_TEST_VLLM_URL"]), tools=[shout])
