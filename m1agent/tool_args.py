"""Argument checks for tools with hand-written JSON schemas: each failure says which argument and what it must be."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from m1agent.errors import ToolArgumentsInvalid


def schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """A closed JSON schema object."""
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def check_known(arguments: Mapping[str, Any], parameters: Mapping[str, Any]) -> None:
    """Refuse arguments the schema does not name."""
    unknown = set(arguments) - set(parameters["properties"])
    if unknown:
        raise ToolArgumentsInvalid(
            f"unknown argument(s) {sorted(unknown)}; allowed: {sorted(parameters['properties'])}"
        )


def text(arguments: Mapping[str, Any], name: str, default: str | None = None) -> str:
    """A string argument (required when ``default`` is ``None``)."""
    value = arguments.get(name, default)
    if value is None:
        raise ToolArgumentsInvalid(f"{name} is required")
    if not isinstance(value, str):
        raise ToolArgumentsInvalid(f"{name} must be a string, not {type(value).__name__}")
    return value


def integer(arguments: Mapping[str, Any], name: str, default: int | None, low: int, high: int) -> int | None:
    """A whole number in ``[low, high]``, or ``default`` when absent."""
    value = arguments.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ToolArgumentsInvalid(f"{name} must be a whole number from {low} to {high}")
    return value


def flag(arguments: Mapping[str, Any], name: str) -> bool:
    """A boolean argument, false when absent."""
    value = arguments.get(name, False)
    if not isinstance(value, bool):
        raise ToolArgumentsInvalid(f"{name} must be true or false")
    return value


def seconds(arguments: Mapping[str, Any], default: float, maximum: float) -> float:
    """The ``timeout`` argument."""
    value = arguments.get("timeout", default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= maximum:
        raise ToolArgumentsInvalid(f"timeout must be a number of seconds above 0 and at most {maximum:g}")
    return float(value)
