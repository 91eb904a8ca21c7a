"""Grading one conversation with tau2's own evaluators, and pass^k over trials."""

from __future__ import annotations

from math import comb
from typing import Any

from m1agent.messages import AssistantMessage, Message, UserMessage
from m1agent.tool import ToolReturn

Executed = dict[str, tuple[str, dict[str, Any], ToolReturn]]


def to_tau2_trajectory(history: list[Message], executed: Executed) -> list[Any]:
    """Our history in tau2's message types. Only calls that ran are kept (a refused call never
    reached the environment), each with tau2's raw result so the evaluator's strict replay agrees."""
    from tau2.data_model.message import AssistantMessage as TauAssistant
    from tau2.data_model.message import ToolCall, ToolMessage
    from tau2.data_model.message import UserMessage as TauUser

    out: list[Any] = []
    for message in history:
        if isinstance(message, UserMessage):
            out.append(TauUser(role="user", content=message.content))
        elif isinstance(message, AssistantMessage):
            ran = [c for c in message.tool_calls if c.id in executed]
            for call in ran:
                name, arguments, result = executed[call.id]
                out.append(TauAssistant(role="assistant", tool_calls=[
                    ToolCall(id=call.id, name=name, arguments=arguments, requestor="assistant")]))
                out.append(ToolMessage(id=call.id, role="tool", content=result.content, requestor="assistant",
                                       error=result.is_error))
            if not message.tool_calls and message.text.strip():
                out.append(TauAssistant(role="assistant", content=message.text))
    return out


def grade(domain: str, task: Any, trajectory: list[Any]) -> dict[str, Any]:
    """DB and COMMUNICATE from tau2's evaluators; NL assertions need an LLM judge and are not graded."""
    from tau2.evaluator.evaluator_communicate import CommunicateEvaluator
    from tau2.evaluator.evaluator_env import EnvironmentEvaluator
    from tau2.registry import registry

    basis = {str(getattr(b, "value", b)) for b in (task.evaluation_criteria.reward_basis or [])}
    env_reward = EnvironmentEvaluator.calculate_reward(
        environment_constructor=registry.get_env_constructor(domain), task=task, full_trajectory=trajectory)
    communicate = CommunicateEvaluator.calculate_reward(task=task, full_trajectory=trajectory)
    db_match = bool(env_reward.db_check.db_match) if env_reward.db_check else True
    reward = 1.0
    if "DB" in basis:
        reward *= env_reward.reward
    if "COMMUNICATE" in basis:
        reward *= communicate.reward
    return {
        "reward": reward,
        "db_match": db_match,
        "communicate": communicate.reward,
        "ungraded": sorted(basis - {"DB", "COMMUNICATE"}),
    }


def pass_hat_k(successes: list[int], trials: int, k: int) -> float:
    """tau's pass^k: the mean over tasks of C(c, k) / C(n, k)."""
    if not successes or k > trials:
        return 0.0
    return sum(comb(c, k) / comb(trials, k) for c in successes) / len(successes)
