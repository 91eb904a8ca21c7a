"""Thinking as a governed resource: budgets, exhaustion recovery, history policy, per-turn effort."""

from m1agent.thinking.budget import ThinkingBudget, compute_max_tokens, room_left
from m1agent.thinking.effort import EffortHook, TurnInfo, default_effort
from m1agent.thinking.exhaustion import Exhaustion, detect_exhaustion
from m1agent.thinking.governor import RecoveryStep, ThinkingGovernor, TurnPlan, merge_forced
from m1agent.thinking.history import ReasoningHistory
from m1agent.thinking.summarize import backend_summarizer

__all__ = [
    "EffortHook",
    "Exhaustion",
    "ReasoningHistory",
    "RecoveryStep",
    "ThinkingBudget",
    "ThinkingGovernor",
    "TurnInfo",
    "TurnPlan",
    "backend_summarizer",
    "compute_max_tokens",
    "default_effort",
    "detect_exhaustion",
    "merge_forced",
    "room_left",
]
