"""Recognizing a turn whose thinking used up the budget before an answer came."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from m1agent.backends.base import ModelResponse
from m1agent.protocol.types import ProblemKind

CALL_PROBLEMS = (ProblemKind.INVALID_TOOL_CALL_JSON, ProblemKind.ARGUMENTS_NOT_OBJECT, ProblemKind.UNCLOSED_TOOL_CALLS)
ExhaustionKind = Literal["cut_inside_think", "no_answer_after_think"]


@dataclass(frozen=True, slots=True)
class Exhaustion:
    """Why a turn counts as exhausted, in words a user can read."""

    kind: ExhaustionKind
    detail: str


def detect_exhaustion(response: ModelResponse) -> Exhaustion | None:
    """The two signs: cut off by the length limit inside ``<think>``, or thinking with no answer."""
    turn = response.turn
    inside_think = any(p.kind == ProblemKind.UNCLOSED_THINK for p in turn.problems)
    if inside_think and not turn.tool_calls:
        why = "the output limit was reached" if response.finish_reason == "length" else "the output ended"
        return Exhaustion("cut_inside_think", f"{why} while the model was still thinking")
    # A turn whose calls were all malformed did answer; the loop feeds those problems back instead.
    tried_to_call = any(p.kind.startswith("tool_call") or p.kind in CALL_PROBLEMS for p in turn.problems)
    if turn.thinking and not turn.text and not turn.tool_calls and not inside_think and not tried_to_call:
        return Exhaustion("no_answer_after_think", "the model closed its thinking without answering")
    return None
