"""The simulated user: any OpenAI-compatible chat model, prompted with tau2's own user guidelines and
the task's scenario (both read from the installed package)."""

from __future__ import annotations

import importlib.resources
from typing import Any

import httpx

STOP_TOKENS = ("###STOP###", "###TRANSFER###", "###OUT-OF-SCOPE###")
GREETING = "Hi! How can I help you today?"


class UserSimulator:
    """Plays the task's user. ``base_url`` is an OpenAI-compatible ``/v1`` root."""

    def __init__(
        self, base_url: str, model: str, *, api_key: str | None = None, temperature: float = 0.0,
        timeout: float = 300.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self.temperature = temperature
        self.timeout = timeout

    def __repr__(self) -> str:  # the key never shows
        return f"UserSimulator({self.base_url!r}, {self.model!r})"

    @staticmethod
    def system_prompt(task: Any) -> str:
        """tau2's simulation guidelines followed by the task's scenario."""
        guidelines = (
            importlib.resources.files("tau2") / "data/tau2/user_simulator/simulation_guidelines.md"
        ).read_text(encoding="utf-8")
        return f"{guidelines}\n\n<scenario>\n{task.user_scenario}\n</scenario>"

    async def reply(self, task: Any, conversation: list[tuple[str, str]]) -> str:
        """The user's next message. ``conversation`` holds ``("agent"|"user", text)`` pairs; roles are
        flipped for the simulator, whose own lines are the assistant's."""
        messages = [{"role": "system", "content": self.system_prompt(task)}]
        for speaker, text in conversation:
            messages.append({"role": "user" if speaker == "agent" else "assistant", "content": text})
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        body = {"model": self.model, "messages": messages, "temperature": self.temperature}
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            response = await client.post(f"{self.base_url}/chat/completions", json=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"the user simulator's server answered HTTP {response.status_code}")
        content = response.json()["choices"][0]["message"].get("content") or ""
        return str(content).strip()


def is_stop(text: str) -> bool:
    """Whether the simulated user ended the conversation."""
    return any(token in text for token in STOP_TOKENS)
