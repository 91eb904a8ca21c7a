"""m1agent: an agent framework built on MiniMax-M1's function calling."""

from m1agent.agent import Agent
from m1agent.events import (
    ApprovalRequested,
    ApprovalResolved,
    ContextChanged,
    LimitHit,
    ModelCallFailed,
    PolicyDecision,
    RetryFeedback,
    RunEvent,
    RunFinished,
    RunStarted,
    StopReason,
    ThinkingRecovery,
    ThinkingSpent,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
)
from m1agent.function_tool import tool
from m1agent.limits import Limits
from m1agent.pricing import Price, PriceTable, PriceTier
from m1agent.protocol.types import TextDelta, ThinkingDelta
from m1agent.result import RunResult
from m1agent.session import SessionStore
from m1agent.tool import RunContext, ToolReturn

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "ApprovalRequested",
    "ApprovalResolved",
    "ContextChanged",
    "LimitHit",
    "Limits",
    "ModelCallFailed",
    "PolicyDecision",
    "Price",
    "PriceTable",
    "PriceTier",
    "RetryFeedback",
    "RunContext",
    "RunEvent",
    "RunFinished",
    "RunResult",
    "RunStarted",
    "SessionStore",
    "StopReason",
    "TextDelta",
    "ThinkingDelta",
    "ThinkingRecovery",
    "ThinkingSpent",
    "ToolCallFinished",
    "ToolCallStarted",
    "ToolReturn",
    "TurnFinished",
    "TurnStarted",
    "__version__",
    "tool",
]
