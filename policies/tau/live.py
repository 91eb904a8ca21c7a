"""``m1agent tau run``: M1 through our loop on tau2 tasks, a simulated user, tau2's own grading.

Per trial: a fresh environment, the pack's engine, an ``Agent`` whose instructions carry the domain
policy (read from the installed package), and a conversation with the simulated user until the user
stops, the agent transfers, or ``max_steps`` user turns have passed.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from m1agent.policies.pack import Pack, load_pack
from m1agent.policies.tau.domain import TauDomain, TauView
from m1agent.policies.tau.grade import grade, pass_hat_k, to_tau2_trajectory
from m1agent.policies.tau.usersim import GREETING, UserSimulator, is_stop

from m1agent.agent import Agent
from m1agent.backends.base import Backend
from m1agent.events import PolicyDecision, RunFinished, RunStarted
from m1agent.tool import ToolReturn

INSTRUCTIONS = (
    "You are a customer service agent. Help the user within the policy below.\n"
    "Each turn, either write a message to the user or make exactly one tool call, never both.\n"
    "Examine the provided tools each round to see if one can be used. Follow every rule of the policy; "
    "pay attention to the details of its terms.\n\n<policy>\n{policy}\n</policy>"
)


@dataclass(frozen=True, slots=True)
class Violation:
    """A call the engine refused: at which agent turn (1-based, over the conversation), which tool,
    which rule, and why."""

    turn: int
    tool: str
    rule: str
    reason: str


@dataclass(slots=True)
class TrialResult:
    """One task, one trial."""

    task_id: str
    trial: int
    reward: float = 0.0
    db_match: bool = False
    communicate: float = 0.0
    ungraded: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    end: str = ""
    user_turns: int = 0
    seconds: float = 0.0
    error: str = ""

    @property
    def passed(self) -> bool:
        """tau's success: reward 1 (within rounding)."""
        return abs(self.reward - 1.0) < 1e-6


@dataclass(slots=True)
class TauRunReport:
    """Every trial of a run, with pass^k and the policy's denials."""

    domain: str
    trials: int
    results: list[TrialResult] = field(default_factory=list)

    def pass_hat(self) -> dict[int, float]:
        """pass^k for k = 1..trials."""
        by_task: dict[str, int] = {}
        for result in self.results:
            by_task[result.task_id] = by_task.get(result.task_id, 0) + int(result.passed)
        return {k: pass_hat_k(list(by_task.values()), self.trials, k) for k in range(1, self.trials + 1)}

    def summary(self) -> str:
        """The figures in a few lines."""
        denials = sum(len(r.violations) for r in self.results)
        scores = ", ".join(f"pass^{k} {v:.3f}" for k, v in self.pass_hat().items())
        ungraded = sorted({u for r in self.results for u in r.ungraded})
        note = f" (not graded: {', '.join(ungraded)})" if ungraded else ""
        return f"{self.domain}: {len(self.results)} trials; {scores}; {denials} policy denials{note}"

    def to_html(self) -> str:
        """A self-contained HTML summary."""
        rows = []
        for r in self.results:
            violations = "<br>".join(
                f"turn {v.turn}: <code>{html.escape(v.tool)}</code> [{html.escape(v.rule)}] {html.escape(v.reason)}"
                for v in r.violations
            ) or "&mdash;"
            rows.append(
                f"<tr><td>{html.escape(r.task_id)}</td><td>{r.trial}</td><td>{r.reward:.0f}</td>"
                f"<td>{'yes' if r.db_match else 'no'}</td><td>{html.escape(r.end)}</td><td>{r.user_turns}</td>"
                f"<td>{violations}</td><td>{html.escape(r.error)}</td></tr>"
            )
        scores = "".join(f"<li>pass^{k}: {v:.3f}</li>" for k, v in self.pass_hat().items())
        return (
            "<!doctype html><meta charset='utf-8'><title>m1agent tau run</title>"
            "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px;vertical-align:top}"
            "table{border-collapse:collapse}</style>"
            f"<h1>τ-bench {html.escape(self.domain)}: {len(self.results)} trials</h1><ul>{scores}</ul>"
            f"<p>{html.escape(self.summary())}</p><table><tr><th>task</th><th>trial</th><th>reward</th>"
            "<th>DB match</th><th>end</th><th>user turns</th><th>policy denials (turn, tool, rule, reason)</th>"
            f"<th>error</th></tr>{''.join(rows)}</table>"
        )


async def run_trial(
    domain: TauDomain, task: Any, backend: Backend, user: UserSimulator, *, trial: int = 0,
    pack: Pack | None = None, max_steps: int = 40,
) -> TrialResult:
    """One conversation on ``task``, graded by tau2."""
    started = time.perf_counter()
    result = TrialResult(str(task.id), trial)
    env = domain.new_env(task)
    executed: dict[str, tuple[str, dict[str, Any], ToolReturn]] = {}
    engine = (pack or load_pack(domain.name)).build_engine(view=TauView(env), write_tools=TauDomain.write_tools(env))
    instructions = INSTRUCTIONS.format(policy=env.get_policy())
    agent: Agent[None] = Agent(backend, instructions, TauDomain.tools(env, executed), policies=[engine])
    conversation: list[tuple[str, str]] = [("agent", GREETING)]
    session: str | None = None
    history: list[Any] = []
    try:
        message = await user.reply(task, conversation)
        while True:
            result.user_turns += 1
            conversation.append(("user", message))
            if is_stop(message):
                result.end = "user_stop"
                break
            finished: RunFinished | None = None
            async for event in agent.stream(message, session_id=session):
                if isinstance(event, RunStarted):
                    session = event.session_id
                elif isinstance(event, PolicyDecision) and event.action == "deny":
                    result.violations.append(Violation(event.turn_index + 1, event.name, event.rule, event.reason))
                elif isinstance(event, RunFinished):
                    finished = event
            reply = finished.output if finished is not None else ""
            conversation.append(("agent", reply))
            if finished is None or finished.stop_reason != "completed":
                result.end = finished.stop_reason if finished is not None else "no_result"
                break
            if result.user_turns >= max_steps:
                result.end = "max_steps"
                break
            message = await user.reply(task, conversation)
        if session is not None:
            history = agent.load_state(session).history
        graded = grade(domain.name, task, to_tau2_trajectory(history, executed))
        result.reward, result.db_match = graded["reward"], graded["db_match"]
        result.communicate, result.ungraded = graded["communicate"], graded["ungraded"]
    except Exception as exc:  # one broken trial is reported, the run goes on
        result.error = f"{type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    return result


async def run_tau(
    domain_name: str, backend: Backend, user: UserSimulator, *, trials: int = 1,
    task_ids: Iterable[str] | None = None, max_steps: int = 40,
    progress: Callable[[TrialResult, int, int], None] | None = None,
) -> TauRunReport:
    """Every chosen task, ``trials`` times."""
    domain = TauDomain(domain_name)
    wanted = {str(t) for t in task_ids} if task_ids is not None else None
    tasks = [t for t in domain.tasks if wanted is None or str(t.id) in wanted]
    report = TauRunReport(domain_name, trials)
    total = len(tasks) * trials
    for trial in range(trials):
        for task in tasks:
            outcome = await run_trial(domain, task, backend, user, trial=trial, max_steps=max_steps)
            report.results.append(outcome)
            if progress is not None:
                progress(outcome, len(report.results), total)
    return report
