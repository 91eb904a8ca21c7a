"""A tool assistant: M1 asks a weather tool (several cities at once), then answers.

    python examples/weather.py --base-url http://localhost:8000/v1 "Weather in Paris and Rome?"

The base URL is a vLLM server serving MiniMax-M1 (``--tool-call-parser minimax``).
"""

from __future__ import annotations

import argparse
from typing import Literal

from m1agent import Agent, tool
from m1agent.backends import VLLM

READINGS = {"paris": (18, "clear"), "rome": (24, "sunny"), "oslo": (7, "rain")}


@tool
def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
    """Current weather for a city.

    Args:
        city: The city's name, e.g. "Paris".
        unit: "c" for Celsius, "f" for Fahrenheit.
    """
    if city.lower() not in READINGS:
        return f"No station reports for {city}."
    celsius, sky = READINGS[city.lower()]
    degrees = celsius if unit == "c" else round(celsius * 9 / 5 + 32)
    return f"{city}: {degrees}°{unit.upper()}, {sky}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default="What's the weather in Paris and Rome?")
    parser.add_argument("--base-url", default="http://localhost:8000/v1")
    args = parser.parse_args()

    agent = Agent(
        backend=VLLM(args.base_url),
        instructions="You answer questions about the weather. Use get_weather for every city asked about.",
        tools=[get_weather],
    )
    result = agent.run_sync(args.question)
    print(result.output)
    print(f"[{result.stop_reason}: {len(result.turns)} turns, {result.tool_calls} tool calls, "
          f"{result.usage.input_tokens} input and {result.usage.output_tokens} output tokens]")


if __name__ == "__main__":
    main()
